/**
 * Test helpers: a kernel booted on one sparc config, and small drivers for
 * generator paths run outside the scheduler (one CPU, nothing racing).
 */

import {
  type ArchConfig,
  type ArchImpl,
  type CheckId,
  type Ctx,
  type KCall,
  Kernel,
  type Mm,
  pmdOffset,
  pmdpGet,
  runToEnd,
} from '@ptlab/core';
import { catchFinding } from '@ptlab/core/testing';
import { sparc } from '../src/index.js';

export function boot(
  config: ArchConfig,
  variant?: string,
  arch: ArchImpl = sparc.create(config, variant),
): { k: Kernel; mm: Mm; ctx: Ctx } {
  const k = new Kernel({ arch });
  const mm = k.createMm('A');
  const ctx = k.boot;
  ctx.cpu.mm = mm;
  return { k, mm, ctx };
}

/** Run a path to its end on the boot CPU. */
export function run<T>(gen: KCall<T>): T {
  return runToEnd(gen);
}

/** Run `fn` and return the check that fired (null if none). */
export function firing(fn: () => void): { check: CheckId; message: string } | null {
  const e = catchFinding(fn);
  return e ? { check: e.check, message: e.message } : null;
}

/** Run every queued RCU callback (every grace period ends: nothing is reading). */
export function endGracePeriods(k: Kernel): number {
  let n = 0;
  const ctx = k.boot;
  while (k.rcu.queue.length) {
    const cb = k.rcu.take();
    ctx.cpu.inSoftirq = true;
    try {
      runToEnd(ctx.call(cb.fnName, cb.fn(ctx)));
    } finally {
      ctx.cpu.inSoftirq = false;
    }
    n++;
  }
  return n;
}

/** The table the pmd for `addr` points to, if any. */
export function tableAt(ctx: Ctx, mm: Mm, addr: number) {
  return runToEnd(pmdpGet(ctx, pmdOffset(ctx, mm, addr))).table;
}
