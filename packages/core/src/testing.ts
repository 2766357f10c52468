/**
 * Helpers for testing an arch port or a kernel path by hand, outside the
 * explorer: step tasks one at a time, end grace periods, catch findings.
 * `@ptlab/core/testing`; ptlab's own arch packages use it, and so can yours.
 */
import { BugFound } from './checks.js';
import type { Task } from './context.js';
import { auxObj, type ObjId } from './deps.js';
import type { Kernel } from './kernel.js';
import { rcuDaemon } from './rcu.js';
import { stepLabel } from './step.js';

/** Run `fn`; the finding it raised, or null. Anything that is not a finding is rethrown. */
export function catchFinding(fn: () => void): BugFound | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof BugFound) return e;
    throw e;
  }
}

/** Advance a task `n` steps; each must be runnable, as the scheduler would require. */
export function stepTask(k: Kernel, t: Task, n = 1): void {
  for (let i = 0; i < n; i++) {
    if (!t.runnable)
      throw new Error(
        `${t.name} is not runnable at "${t.pending ? stepLabel(t.pending) : '(done)'}"`,
      );
    t.advance();
    k.stepNo++;
  }
}

/** Advance a task until its next step's description contains `what` (that step is not taken). */
export function stepUntil(k: Kernel, t: Task, what: string): void {
  while (!(t.pending ? stepLabel(t.pending) : '').includes(what)) stepTask(k, t);
}

/**
 * Start the grace-period daemon on `k`; the returned function ends every grace
 * period that may end now (no pre-existing reader inside) and runs those
 * callbacks, returning how many steps that took.
 */
export function rcuDriver(k: Kernel): () => number {
  const t = k.spawn('rcu', rcuDaemon, { daemon: true });
  t.start();
  return () => {
    let n = 0;
    while (t.runnable) {
      t.advance();
      k.stepNo++;
      n++;
    }
    return n;
  };
}

/** A dependency object named by a string, for hand-written test programs (a stable hash). */
export function testObj(name: string): ObjId {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return auxObj(0x10000000 + (h % 0x10000000));
}
