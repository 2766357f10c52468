/**
 * Small random programs for the partial-order reduction's differential test:
 * threads reading and writing shared cells, taking spinlocks (so steps block)
 * and trying them (spin_trylock(), whose outcome races with spin_unlock()),
 * taking an rw_semaphore shared or exclusive, signalling and waiting on a
 * completion (a step that only waits, Step.wait, like synchronize_rcu()'s
 * wait or an IPI's), a daemon that waits for work (a guarded step, like the
 * grace-period engine), and assertions. An assertion that fails is recorded in the state rather than
 * raised, so every execution runs to its end and "the set of findings" is part
 * of "the set of final states" that the reduced and the unreduced search must
 * both reach.
 */
import {
  auxObj,
  type Ctx,
  downRead,
  downWrite,
  GENERIC_CONFIG,
  GenericArch,
  Kernel,
  type KGen,
  rd,
  SleepingLock,
  SpinLock,
  spinLock,
  spinTrylock,
  spinUnlock,
  upRead,
  upWrite,
} from '@ptlab/core';
import { Prng, type Program } from '../src/index.js';

type Op =
  | { readonly op: 'read'; readonly cell: number }
  | { readonly op: 'write'; readonly cell: number; readonly add: number }
  | { readonly op: 'lock'; readonly lock: number }
  | { readonly op: 'unlock'; readonly lock: number }
  | { readonly op: 'trylock'; readonly lock: number }
  | { readonly op: 'down'; readonly write: boolean }
  | { readonly op: 'up'; readonly write: boolean }
  | { readonly op: 'signal' }
  | { readonly op: 'await' }
  | { readonly op: 'assert'; readonly not: number }
  | { readonly op: 'post' }
  | { readonly op: 'local' };

export interface RandomProgram {
  readonly seed: number;
  readonly threads: readonly (readonly Op[])[];
  readonly cells: number;
  readonly locks: number;
  readonly daemon: boolean;
  /** Whether the program uses the rw_semaphore and the completion. */
  readonly rwsem: boolean;
  readonly text: string;
}

/** Shared state of one run: cells, the daemon's queue, and the assertion log. */
interface World {
  readonly cells: number[];
  pending: number;
  signalled: boolean;
  readonly failures: string[];
}

const worlds = new WeakMap<Kernel, World>();

/** Steps a program's threads take at most (each thread's exit, the daemon's two per post). */
function size(threads: readonly (readonly Op[])[]): number {
  let n = 0;
  for (const ops of threads) {
    n += ops.length + 1;
    for (const o of ops) if (o.op === 'post') n += 2;
    for (const o of ops) if (o.op === 'trylock') n += 1;
  }
  return n;
}

/** A random program small enough for the unreduced search (at most 11 steps); deterministic in `seed`. */
export function generate(seed: number): RandomProgram {
  for (let attempt = 0; ; attempt++) {
    const p = generateOnce(seed, attempt);
    if (size(p.threads) <= 11) return p;
  }
}

function generateOnce(seed: number, attempt: number): RandomProgram {
  const rng = new Prng(seed * 1009 + attempt);
  const nThreads = 2 + rng.below(2);
  const cells = 1 + rng.below(3);
  const locks = rng.below(3);
  const daemon = rng.below(3) === 0;
  // Every other program also uses the rw_semaphore, trylock and the completion.
  const extra = rng.below(2) === 0;
  const threads: Op[][] = [];
  // Keep the unreduced search small: about 8 steps in all (each thread also takes its exit step).
  let budget = (daemon ? 6 : 8) - nThreads;
  for (let t = 0; t < nThreads; t++) {
    const ops: Op[] = [];
    const len = 1 + rng.below(Math.max(1, Math.min(4, budget)));
    budget -= len - 1;
    const held: number[] = [];
    let rw: boolean | null = null;
    for (let i = 0; i < len; i++) {
      if (extra && rng.below(2) === 0) {
        const x = rng.below(5);
        if (x === 0 && locks > 0 && !held.length) {
          const l = rng.below(locks);
          ops.push({ op: 'trylock', lock: l });
        } else if (x === 1 && rw === null && !held.length) {
          rw = rng.below(2) === 0;
          ops.push({ op: 'down', write: rw });
        } else if (x === 2 && rw !== null) {
          ops.push({ op: 'up', write: rw });
          rw = null;
        } else if (x === 3) ops.push({ op: 'signal' });
        else if (!held.length && rw === null) ops.push({ op: 'await' });
        continue;
      }
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
    if (rw !== null) ops.push({ op: 'up', write: rw });
    threads.push(ops);
  }
  const text = threads
    .map(
      (ops, t) =>
        `T${t}: ${ops.map((o) => ('cell' in o ? `${o.op}(c${o.cell})` : 'lock' in o ? `${o.op}(L${o.lock})` : 'write' in o ? `${o.op}(${o.write ? 'w' : 'r'})` : o.op)).join(' ')}`,
    )
    .join(' | ');
  return {
    seed,
    threads,
    cells,
    locks,
    daemon,
    rwsem: extra,
    text: `${text}${daemon ? ' | daemon' : ''}`,
  };
}

const cellObj = (c: number) => auxObj(100 + c);
const QUEUE = auxObj(99);
/** The completion's object: signal writes it, await only waits on it (Step.wait). */
const DONE = auxObj(98);

function* thread(
  ctx: Ctx,
  w: World,
  ops: readonly Op[],
  locks: SpinLock[],
  sem: SleepingLock,
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
      case 'trylock': {
        const l = locks[o.lock] as SpinLock;
        const got = yield* spinTrylock(ctx, l);
        reg = got ? 1 : 0;
        // The outcome is part of the final state (logged like a failed assertion).
        w.failures.push(`${name}#${i}:trylock=${got}`);
        if (got) yield* spinUnlock(ctx, l);
        break;
      }
      case 'down':
        yield* o.write ? downWrite(ctx, sem) : downRead(ctx, sem);
        break;
      case 'up':
        yield* o.write ? upWrite(ctx, sem) : upRead(ctx, sem);
        break;
      case 'signal':
        yield ctx.step('complete()', DONE);
        w.signalled = true;
        break;
      case 'await':
        yield ctx.step('wait_for_completion()', [], 'r', () => w.signalled, rd(DONE));
        reg = 3;
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
      const w: World = {
        cells: new Array(p.cells).fill(0),
        pending: 0,
        signalled: false,
        failures: [],
      };
      worlds.set(k, w);
      const locks = Array.from(
        { length: p.locks },
        (_, i) => new SpinLock(`L${i}`, 'test', auxObj(10 + i)),
      );
      const sem = new SleepingLock('S', 'i_mmap_rwsem', auxObj(20));
      p.threads.forEach((ops, t) => {
        k.spawn(`T${t}`, (ctx) => thread(ctx, w, ops, locks, sem, `T${t}`, t));
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
