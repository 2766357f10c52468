/**
 * Small random programs for the partial-order reduction's differential test:
 * threads reading and writing shared cells, taking spinlocks (so steps block),
 * a daemon that waits for work (a guarded step, like the grace-period engine),
 * and assertions. An assertion that fails is recorded in the state rather than
 * raised, so every execution runs to its end and "the set of findings" is part
 * of "the set of final states" that the reduced and the unreduced search must
 * both reach.
 */
import {
  auxObj,
  type Ctx,
  GENERIC_CONFIG,
  GenericArch,
  Kernel,
  type KGen,
  rd,
  SpinLock,
  spinLock,
  spinUnlock,
} from '@ptlab/core';
import { Prng, type Program } from '../src/index.js';

type Op =
  | { readonly op: 'read'; readonly cell: number }
  | { readonly op: 'write'; readonly cell: number; readonly add: number }
  | { readonly op: 'lock'; readonly lock: number }
  | { readonly op: 'unlock'; readonly lock: number }
  | { readonly op: 'assert'; readonly not: number }
  | { readonly op: 'post' }
  | { readonly op: 'local' };

export interface RandomProgram {
  readonly seed: number;
  readonly threads: readonly (readonly Op[])[];
  readonly cells: number;
  readonly locks: number;
  readonly daemon: boolean;
  readonly text: string;
}

/** Shared state of one run: cells, the daemon's queue, and the assertion log. */
interface World {
  readonly cells: number[];
  pending: number;
  readonly failures: string[];
}

const worlds = new WeakMap<Kernel, World>();

export function generate(seed: number): RandomProgram {
  const rng = new Prng(seed);
  const nThreads = 2 + rng.below(2);
  const cells = 1 + rng.below(3);
  const locks = rng.below(3);
  const daemon = rng.below(3) === 0;
  const threads: Op[][] = [];
  // Keep the unreduced search small: about 8 steps in all (each thread also takes its exit step).
  let budget = (daemon ? 6 : 8) - nThreads;
  for (let t = 0; t < nThreads; t++) {
    const ops: Op[] = [];
    const len = 1 + rng.below(Math.max(1, Math.min(4, budget)));
    budget -= len - 1;
    const held: number[] = [];
    for (let i = 0; i < len; i++) {
      const r = rng.below(10);
      if (r < 3) ops.push({ op: 'read', cell: rng.below(cells) });
      else if (r < 6) ops.push({ op: 'write', cell: rng.below(cells), add: 1 + rng.below(2) });
      else if (r < 7 && locks > 0) {
        const l = rng.below(locks);
        if (held.includes(l)) continue;
        held.push(l);
        ops.push({ op: 'lock', lock: l });
      } else if (r < 8 && held.length) {
        ops.push({ op: 'unlock', lock: held.pop() as number });
      } else if (r < 9) ops.push({ op: 'assert', not: rng.below(3) });
      else if (daemon) ops.push({ op: 'post' });
      else ops.push({ op: 'local' });
    }
    while (held.length) ops.push({ op: 'unlock', lock: held.pop() as number });
    threads.push(ops);
  }
  const text = threads
    .map(
      (ops, t) =>
        `T${t}: ${ops.map((o) => ('cell' in o ? `${o.op}(c${o.cell})` : 'lock' in o ? `${o.op}(L${o.lock})` : o.op)).join(' ')}`,
    )
    .join(' | ');
  return { seed, threads, cells, locks, daemon, text: `${text}${daemon ? ' | daemon' : ''}` };
}

const cellObj = (c: number) => auxObj(100 + c);
const QUEUE = auxObj(99);

function* thread(
  ctx: Ctx,
  w: World,
  ops: readonly Op[],
  locks: SpinLock[],
  name: string,
  t: number,
): KGen {
  let reg = 0;
  for (const [i, o] of ops.entries()) {
    switch (o.op) {
      case 'read':
        yield ctx.step(`read c${o.cell}`, rd(cellObj(o.cell)));
        reg = w.cells[o.cell] ?? 0;
        break;
      case 'write':
        yield ctx.step(`write c${o.cell}`, cellObj(o.cell));
        w.cells[o.cell] = (reg + o.add) % 4;
        break;
      case 'lock':
        // A lockdep subclass per thread and lock: lock-order reports would end executions
        // early and make the final-state sets depend on where; real deadlocks still show.
        yield* spinLock(ctx, locks[o.lock] as SpinLock, t * 8 + o.lock);
        break;
      case 'unlock':
        yield* spinUnlock(ctx, locks[o.lock] as SpinLock);
        break;
      case 'assert':
        yield ctx.step('assert', [], 'r');
        if (reg === o.not) w.failures.push(`${name}#${i}`);
        break;
      case 'post':
        yield ctx.step('post work', QUEUE);
        w.pending++;
        break;
      case 'local':
        yield ctx.step('local work', [], 'r');
        break;
    }
  }
}

/** A daemon: waits for posted work (a guarded step), then consumes it and touches cell 0. */
function* daemonBody(ctx: Ctx, w: World): KGen {
  for (;;) {
    yield ctx.step('take work', QUEUE, 'w', () => w.pending > 0);
    w.pending--;
    yield ctx.step('daemon write c0', cellObj(0));
    w.cells[0] = ((w.cells[0] ?? 0) + 3) % 4;
  }
}

export function programOf(p: RandomProgram): Program {
  return {
    boot() {
      const k = new Kernel({ arch: new GenericArch(GENERIC_CONFIG) });
      const w: World = { cells: new Array(p.cells).fill(0), pending: 0, failures: [] };
      worlds.set(k, w);
      const locks = Array.from(
        { length: p.locks },
        (_, i) => new SpinLock(`L${i}`, 'test', auxObj(10 + i)),
      );
      p.threads.forEach((ops, t) => {
        k.spawn(`T${t}`, (ctx) => thread(ctx, w, ops, locks, `T${t}`, t));
      });
      if (p.daemon) k.spawn('daemon', (ctx) => daemonBody(ctx, w), { daemon: true });
      return k;
    },
  };
}

/** The final state of a run: the cells, the work left, and which assertions failed (as a set). */
export function finalState(k: Kernel, deadlock = false): string {
  const w = worlds.get(k);
  if (!w) throw new Error('not a random program');
  return `${w.cells.join(',')}/${w.pending}/${[...w.failures].sort().join(',')}${deadlock ? '/deadlock' : ''}`;
}
