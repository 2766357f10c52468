import type { Step, Task } from '@ptlab/core';
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

function objs(s: Step): readonly string[] {
  return typeof s.obj === 'string' ? [s.obj] : s.obj;
}

/** Two steps commute when they touch no common object, or only read the ones they share. */
export function independent(a: Step, b: Step): boolean {
  const ao = objs(a);
  for (const o of objs(b))
    if (ao.includes(o) && (a.access === 'w' || b.access === 'w')) return false;
  return true;
}

interface Node {
  readonly runnable: readonly string[];
  readonly pending: ReadonlyMap<string, Step>;
  readonly daemons: ReadonlySet<string>;
  /** The last non-daemon task that ran: switching away from it while it could go on is a preemption. */
  readonly lastUser: string | null;
  readonly lastUserRunnable: boolean;
  readonly preemptions: number;
  readonly sleep: ReadonlySet<string>;
  readonly done: Set<string>;
  current: string;
}

export interface ExhaustiveStats {
  schedules: number;
  pruned: number;
  exhausted: boolean;
}

/**
 * Bounded-preemption exhaustive search (CHESS-style) with sleep-set
 * partial-order reduction. Stateless: each schedule is re-executed from boot,
 * replaying the DFS prefix. Interrupting a user task that could go on costs
 * one preemption, whether for another task or for a daemon (a grace period
 * ending in the middle of its work); going back to the interrupted task after
 * a daemon step is free. So bound 0 lets grace periods end only when every
 * task waits, and each extra preemption buys one arbitrary grace-period end.
 */
export class ExhaustiveSearch {
  private readonly stack: Node[] = [];
  private readonly bound: number;
  private readonly por: boolean;
  readonly stats: ExhaustiveStats = { schedules: 0, pruned: 0, exhausted: false };

  constructor(preemptionBound: number, por = true) {
    this.bound = preemptionBound;
    this.por = por;
  }

  private candidates(n: Node): string[] {
    const out: string[] = [];
    // Non-preemptive continuation first: a counterexample with few preemptions turns up early.
    const order =
      n.lastUser && n.lastUserRunnable
        ? [n.lastUser, ...n.runnable.filter((t) => t !== n.lastUser)]
        : [...n.runnable];
    for (const t of order) {
      if (n.done.has(t) || n.sleep.has(t)) continue;
      if (n.preemptions + this.cost(n, t) > this.bound) continue;
      out.push(t);
    }
    return out;
  }

  private cost(n: Node, t: string): number {
    if (!n.lastUser || t === n.lastUser || !n.lastUserRunnable) return 0;
    return 1;
  }

  /** A chooser for the next schedule (replays the current DFS prefix, then extends it). */
  chooser(): Chooser {
    return (runnable, depth) => {
      const existing = this.stack[depth];
      if (existing) return runnable.find((t) => t.name === existing.current) ?? null;
      const parent = this.stack[depth - 1];
      const pending = new Map<string, Step>();
      for (const t of runnable) if (t.pending) pending.set(t.name, t.pending);
      const sleep = new Set<string>();
      if (parent && this.por) {
        const chosen = parent.pending.get(parent.current);
        if (chosen) {
          for (const s of [...parent.sleep, ...parent.done]) {
            const st = parent.pending.get(s);
            if (st && pending.has(s) && independent(st, chosen)) sleep.add(s);
          }
        }
      }
      const daemons = new Set(runnable.filter((t) => t.daemon).map((t) => t.name));
      const lastUser = parent
        ? parent.daemons.has(parent.current)
          ? parent.lastUser
          : parent.current
        : null;
      const node: Node = {
        runnable: runnable.map((t) => t.name),
        pending,
        daemons,
        lastUser,
        lastUserRunnable: lastUser !== null && runnable.some((t) => t.name === lastUser),
        preemptions: parent ? parent.preemptions + this.cost(parent, parent.current) : 0,
        sleep,
        done: new Set(),
        current: '',
      };
      const first = this.candidates(node)[0];
      if (first === undefined) return null;
      node.current = first;
      this.stack.push(node);
      return runnable.find((t) => t.name === first) ?? null;
    };
  }

  /** After a schedule: move to the next unexplored branch. False when the space is exhausted. */
  advance(): boolean {
    this.stats.schedules++;
    while (this.stack.length) {
      const top = this.stack[this.stack.length - 1] as Node;
      top.done.add(top.current);
      const next = this.candidates(top)[0];
      if (next !== undefined) {
        top.current = next;
        return true;
      }
      this.stack.pop();
    }
    this.stats.exhausted = true;
    return false;
  }
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
