import type { Task } from '@ptlab/core';
import type { Chooser } from './execution.js';
import { Prng } from './prng.js';

/** Seeded random walk: every runnable task equally likely at every step. */
export function randomChooser(seed: number): Chooser {
  const rng = new Prng(seed);
  return (runnable) => runnable[rng.below(runnable.length)] ?? null;
}

/**
 * PCT (Burckhardt et al., ASPLOS 2010): random distinct task priorities, and
 * `depth - 1` change points at random steps within `horizon`; the highest
 * priority runnable task runs. Finds a bug of depth d with probability at
 * least 1/(n * k^(d-1)).
 */
export function pctChooser(seed: number, depth: number, horizon: number): Chooser {
  const rng = new Prng(seed);
  const prio = new Map<string, number>();
  const changes = new Map<number, number>();
  for (let i = 0; i < depth - 1; i++) changes.set(rng.below(Math.max(1, horizon)), i);
  let low = 0;
  return (runnable, depth_) => {
    for (const t of runnable)
      if (!prio.has(t.name)) prio.set(t.name, depth + 1 + rng.below(1 << 20));
    let best: Task | null = null;
    for (const t of runnable)
      if (!best || (prio.get(t.name) ?? 0) > (prio.get(best.name) ?? 0)) best = t;
    if (best && changes.has(depth_)) {
      // Change point: the running task drops below every initial priority.
      prio.set(best.name, low++ - depth);
      best = null;
      for (const t of runnable)
        if (!best || (prio.get(t.name) ?? 0) > (prio.get(best.name) ?? 0)) best = t;
    }
    return best;
  };
}

/** Follow a recorded list of task names; where it runs out or names a blocked task, keep running the last task. */
export function guidedChooser(names: readonly string[]): Chooser {
  return (runnable, depth, prev) => {
    const want = names[depth];
    const hit = want !== undefined ? runnable.find((t) => t.name === want) : undefined;
    if (hit) return hit;
    if (prev && runnable.includes(prev)) return prev;
    return runnable.find((t) => !t.daemon) ?? runnable[0] ?? null;
  };
}
