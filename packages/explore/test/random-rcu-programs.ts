/**
 * Small random programs over the RCU model itself (core rcu.ts), for the
 * partial-order reduction's differential test: threads that call_rcu() on one
 * of two rcu_heads (a callback that adds to a cell), sit in read-side
 * sections, read, write and assert, beside the real grace-period engine. The
 * footprints of call_rcu() and of a grace period's end depend on the queue
 * when they run (rcu.ts RCU_QUEUE), so this is where the reduction could lose
 * an order: a callback against a reader or a write, a grace period against a
 * call_rcu(), two call_rcu()s on one head (rcu-head-reused).
 *
 * A finding ends its execution, and the reduction sees races only between the
 * steps an execution ran, so a search that goes on past findings (allFindings)
 * may not reach every final state of the executions that avoid them. Programs
 * without `reuse` give every call_rcu() a head of its own (no finding: final
 * states compare); programs with it share two heads (compare whether the
 * finding is reachable).
 */
import {
  auxObj,
  type Ctx,
  callRcu,
  GENERIC_CONFIG,
  GenericArch,
  Kernel,
  type KGen,
  localIrqRestore,
  localIrqSave,
  memRcuHead,
  rcuReadLock,
  rcuReadUnlock,
  rd,
} from '@ptlab/core';
import { Prng, type Program } from '../src/index.js';

type Op =
  | { readonly op: 'call_rcu'; readonly head: number; readonly cell: number }
  /** Enter a read-side section: rcu_read_lock(), or interrupts off (local_irq_save()). */
  | { readonly op: 'lock'; readonly irq: boolean }
  | { readonly op: 'unlock'; readonly irq: boolean }
  | { readonly op: 'read'; readonly cell: number }
  | { readonly op: 'write'; readonly cell: number }
  | { readonly op: 'assert'; readonly not: number };

export interface RandomRcuProgram {
  readonly seed: number;
  readonly reuse: boolean;
  readonly threads: readonly (readonly Op[])[];
  readonly text: string;
}

interface World {
  readonly cells: number[];
  readonly failures: string[];
}
const worlds = new WeakMap<Kernel, World>();
const CELLS = 2;
const cellObj = (c: number) => auxObj(200 + c);
/** rcu_heads in memory (call_rcu() writes their words there): shared ones, or one per op. */
const headPa = (p: RandomRcuProgram, t: number, i: number, head: number): number =>
  p.reuse ? 0x3000 + head * 0x2000 : 0x10000 + (t * 8 + i) * 0x1000;

/** Steps at most: each op one, each call_rcu() two more (the grace period, the callback), each exit one. */
function size(threads: readonly (readonly Op[])[]): number {
  let n = 0;
  for (const ops of threads) {
    n += ops.length + 1;
    for (const o of ops) if (o.op === 'call_rcu') n += 2;
  }
  return n;
}

/** A random program small enough for the unreduced search (at most 10 steps); deterministic in `seed`. */
export function generateRcu(seed: number, reuse: boolean): RandomRcuProgram {
  for (let attempt = 0; ; attempt++) {
    const p = generateOnce(seed, attempt, reuse);
    if (size(p.threads) <= 10 && p.threads.some((t) => t.some((o) => o.op === 'call_rcu')))
      return p;
  }
}

function generateOnce(seed: number, attempt: number, reuse: boolean): RandomRcuProgram {
  const rng = new Prng(seed * 7919 + attempt);
  const nThreads = 2 + rng.below(2);
  const threads: Op[][] = [];
  for (let t = 0; t < nThreads; t++) {
    const ops: Op[] = [];
    const len = 1 + rng.below(3);
    // Open sections, innermost last (at most two: an rcu_read_lock() inside interrupts off...).
    const open: boolean[] = [];
    for (let i = 0; i < len; i++) {
      const r = rng.below(10);
      if (r < 4) ops.push({ op: 'call_rcu', head: rng.below(2), cell: rng.below(CELLS) });
      else if (r < 6 && open.length < 2) {
        const irq = rng.below(2) === 0;
        ops.push({ op: 'lock', irq });
        open.push(irq);
      } else if (r < 7 && open.length) {
        ops.push({ op: 'unlock', irq: open.pop() as boolean });
      } else if (r < 8) ops.push({ op: 'read', cell: rng.below(CELLS) });
      else if (r < 9) ops.push({ op: 'write', cell: rng.below(CELLS) });
      else ops.push({ op: 'assert', not: rng.below(3) });
    }
    while (open.length) ops.push({ op: 'unlock', irq: open.pop() as boolean });
    threads.push(ops);
  }
  const text = threads
    .map(
      (ops, t) =>
        `T${t}: ${ops.map((o) => (o.op === 'call_rcu' ? `call_rcu(h${o.head},c${o.cell})` : 'cell' in o ? `${o.op}(c${o.cell})` : 'irq' in o ? `${o.op}(${o.irq ? 'irq' : 'rcu'})` : o.op)).join(' ')}`,
    )
    .join(' | ');
  return { seed, reuse, threads, text };
}

/** The callback: one step that adds to its cell (a named generator, as rcu.ts's). */
function* callback(ctx: Ctx, w: World, cell: number): KGen {
  yield ctx.step(`callback adds to c${cell}`, cellObj(cell));
  w.cells[cell] = ((w.cells[cell] ?? 0) + 1) % 4;
}

function* thread(ctx: Ctx, w: World, p: RandomRcuProgram, t: number): KGen {
  const ops = p.threads[t] as readonly Op[];
  const name = `T${t}`;
  let reg = 0;
  for (const [i, o] of ops.entries()) {
    switch (o.op) {
      case 'call_rcu': {
        const cell = o.cell;
        const head = memRcuHead(headPa(p, t, i, o.head), `h${o.head}`);
        yield* callRcu(ctx, head, 'cb', (c) => callback(c, w, cell));
        break;
      }
      case 'lock':
        yield* o.irq ? localIrqSave(ctx) : rcuReadLock(ctx);
        break;
      case 'unlock':
        yield* o.irq ? localIrqRestore(ctx) : rcuReadUnlock(ctx);
        break;
      case 'read':
        yield ctx.step(`read c${o.cell}`, rd(cellObj(o.cell)));
        reg = w.cells[o.cell] ?? 0;
        break;
      case 'write':
        yield ctx.step(`write c${o.cell}`, cellObj(o.cell));
        w.cells[o.cell] = (reg + 2) % 4;
        break;
      case 'assert':
        yield ctx.step('assert', [], 'r');
        if (reg === o.not) w.failures.push(`${name}#${i}`);
        break;
    }
  }
}

export function rcuProgramOf(p: RandomRcuProgram): Program {
  return {
    boot() {
      const k = new Kernel({ arch: new GenericArch(GENERIC_CONFIG) });
      const w: World = { cells: new Array(CELLS).fill(0), failures: [] };
      worlds.set(k, w);
      p.threads.forEach((_, t) => {
        k.spawn(`T${t}`, (ctx) => thread(ctx, w, p, t));
      });
      // The run starts the grace-period engine (Kernel.startDaemons()).
      return k;
    },
  };
}

/** Cells, callbacks still queued, callbacks run, and the failed assertions (as a set). */
export function rcuFinalState(k: Kernel): string {
  const w = worlds.get(k);
  if (!w) throw new Error('not a random RCU program');
  return `${w.cells.join(',')}/${k.rcu.queue.length}/${k.rcu.invoked}/${[...w.failures].sort().join(',')}`;
}
