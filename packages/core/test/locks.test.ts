/**
 * Locks and the lockdep model (src/locks.ts): order inversions (direct and
 * transitive), nesting annotations, trylock, rwsem sharing.
 */
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  downRead,
  downWrite,
  type KGen,
  type LockClass,
  SINGLE_DEPTH_NESTING,
  SleepingLock,
  SpinLock,
  spinLock,
  spinTrylock,
  spinUnlock,
  upRead,
  upWrite,
} from '../src/index.js';
import { newKernel, Sim } from './helpers.js';

/** Take `locks` in order (each with its subclass), then release in reverse. */
function nest(...locks: [SpinLock, number][]) {
  return function* (ctx: Ctx): KGen {
    for (const [l, sub] of locks) yield* spinLock(ctx, l, sub);
    for (const [l] of [...locks].reverse()) yield* spinUnlock(ctx, l);
  };
}

/** One spin lock per class, named A, B, C... */
function locksOf<const C extends readonly LockClass[]>(
  ...classes: C
): { [K in keyof C]: SpinLock } {
  return classes.map((cls, i) => {
    const name = String.fromCharCode(65 + i);
    return new SpinLock(name, cls, testObj(name));
  }) as { [K in keyof C]: SpinLock };
}

describe('lockdep', () => {
  it('catches a transitive inversion (A->B, B->C, then C->A)', () => {
    const k = newKernel();
    const a = new SpinLock('A', 'mmap_lock', testObj('A'));
    const b = new SpinLock('B', 'i_mmap_rwsem', testObj('B'));
    const c = new SpinLock('C', 'folio_lock', testObj('C'));
    k.spawn('one', nest([a, 0], [b, 0]));
    k.spawn('two', nest([b, 0], [c, 0]));
    k.spawn('three', nest([c, 0], [a, 0]));
    const sim = new Sim(k);
    sim.finish('one');
    sim.finish('two');
    const f = sim.drain();
    expect(f?.check).toBe('lock-order');
    expect(f?.message).toContain(
      'takes mmap_lock/0 while holding folio_lock/0, but mmap_lock/0 -> folio_lock/0 was established earlier (cpu0 (task))',
    );
  });

  it('orders are per class: two locks of one class taken the same way are fine', () => {
    const k = newKernel();
    const a1 = new SpinLock('A1', 'test', testObj('A1'));
    const a2 = new SpinLock('A2', 'test', testObj('A2'));
    const b = new SpinLock('B', 'page_table_lock', testObj('B'));
    k.spawn('one', nest([a1, 0], [b, 0]));
    k.spawn('two', nest([a2, 0], [b, 0]));
    expect(new Sim(k).drain()).toBeNull();
  });

  it('a nesting annotation makes a second lock of the same class legal, in that order only', () => {
    const k = newKernel();
    const pml = new SpinLock('pml', 'ptlock', testObj('pml'));
    const ptl = new SpinLock('ptl', 'ptlock', testObj('ptl'));
    k.spawn('khugepaged', nest([pml, 0], [ptl, SINGLE_DEPTH_NESTING]));
    k.spawn('reversed', nest([ptl, SINGLE_DEPTH_NESTING], [pml, 0]));
    const sim = new Sim(k);
    sim.finish('khugepaged');
    const f = sim.drain();
    expect(f?.check).toBe('lock-order');
    expect(f?.message).toContain('takes ptlock/0 while holding ptlock/1');
  });

  it('spin_trylock() adds no dependency (it cannot deadlock), but is held for later locks', () => {
    const k = newKernel();
    const a = new SpinLock('A', 'test', testObj('A'));
    const b = new SpinLock('B', 'page_table_lock', testObj('B'));
    const c = new SpinLock('C', 'folio_lock', testObj('C'));
    const got: boolean[] = [];
    k.spawn('one', nest([a, 0], [b, 0]));
    k.spawn('two', function* (ctx) {
      yield* spinLock(ctx, b);
      got.push(yield* spinTrylock(ctx, a)); // B then A: legal as a trylock
      yield* spinLock(ctx, c); // A -> C and B -> C recorded
      yield* spinUnlock(ctx, c);
      yield* spinUnlock(ctx, a);
      yield* spinUnlock(ctx, b);
    });
    k.spawn('three', nest([c, 0], [a, 0]));
    const sim = new Sim(k);
    sim.finish('one');
    sim.finish('two');
    expect(got).toEqual([true]);
    const f = sim.drain();
    expect(f?.check).toBe('lock-order');
    expect(f?.message).toContain('takes test/0 while holding folio_lock/0');
  });

  it('spin_trylock() of a held lock fails without blocking', () => {
    const k = newKernel();
    const l = new SpinLock('L', 'test', testObj('L'));
    const got: boolean[] = [];
    k.spawn('holder', function* (ctx) {
      yield* spinLock(ctx, l);
      yield ctx.step('work', testObj('x'));
      yield* spinUnlock(ctx, l);
    });
    k.spawn('try', function* (ctx) {
      got.push(yield* spinTrylock(ctx, l));
    });
    const sim = new Sim(k);
    sim.step('holder');
    sim.finish('try');
    expect(got).toEqual([false]);
    expect(sim.drain()).toBeNull();
  });

  /** C -> D(test/7), B -> C, A -> B taken by three CPUs, then the fourth takes `last`. */
  function fourLockChain(last: 'D then A' | 'A then D') {
    const k = newKernel();
    const [a, b, c, d] = locksOf('mmap_lock', 'folio_lock', 'arch_context_lock', 'test');
    k.spawn('one', nest([c, 0], [d, 7]));
    k.spawn('two', nest([b, 0], [c, 0]));
    k.spawn('three', nest([a, 0], [b, 0]));
    k.spawn('four', last === 'D then A' ? nest([d, 7], [a, 0]) : nest([a, 0], [d, 7]));
    return new Sim(k);
  }

  it('catches an inversion over a four-lock chain, naming the first edge of the path', () => {
    const sim = fourLockChain('D then A');
    sim.finish('one');
    sim.finish('two');
    sim.finish('three');
    const f = sim.drain();
    expect(f?.check).toBe('lock-order');
    expect(f?.message).toContain(
      'takes mmap_lock/0 while holding test/7, but mmap_lock/0 -> test/7 was established earlier (cpu2 (task))',
    );
  });

  it('the same four orders taken consistently are fine', () => {
    expect(fourLockChain('A then D').drain()).toBeNull();
  });

  it('a lock released out of order leaves the others held', () => {
    const k = newKernel();
    const [a, b, c] = locksOf('mmap_lock', 'folio_lock', 'test');
    const held: string[][] = [];
    k.spawn('one', function* (ctx) {
      yield* spinLock(ctx, a);
      yield* spinLock(ctx, b);
      yield* spinLock(ctx, c);
      yield* spinUnlock(ctx, b);
      held.push(ctx.cpu.held.map((h) => h.lock.id));
      yield* spinUnlock(ctx, a);
      held.push(ctx.cpu.held.map((h) => h.lock.id));
      yield* spinUnlock(ctx, c);
      held.push(ctx.cpu.held.map((h) => h.lock.id));
    });
    expect(new Sim(k).drain()).toBeNull();
    expect(held).toEqual([['A', 'C'], ['C'], []]);
  });

  it('each boot has its own lockdep graph', () => {
    const a = new SpinLock('A', 'test', testObj('A'));
    const b = new SpinLock('B', 'page_table_lock', testObj('B'));
    const k1 = newKernel();
    k1.spawn('one', nest([a, 0], [b, 0]));
    expect(new Sim(k1).drain()).toBeNull();
    const k2 = newKernel();
    k2.spawn('two', nest([b, 0], [a, 0]));
    expect(new Sim(k2).drain()).toBeNull();
  });
});

describe('rwsems', () => {
  it('readers share, a writer waits for all of them, readers wait for the writer', () => {
    const k = newKernel();
    const sem = new SleepingLock('mmap_lock', 'mmap_lock', testObj('mmap_lock'));
    const reader = function* (ctx: Ctx): KGen {
      yield* downRead(ctx, sem);
      yield ctx.step('walk', testObj('vmas'), 'r');
      yield* upRead(ctx, sem);
    };
    k.spawn('r1', reader);
    k.spawn('r2', reader);
    k.spawn('w', function* (ctx) {
      yield* downWrite(ctx, sem);
      yield ctx.step('modify', testObj('vmas'));
      yield* upWrite(ctx, sem);
    });
    k.spawn('r3', reader);
    const sim = new Sim(k);
    sim.step('r1');
    sim.step('r2');
    expect(sem.readers.size).toBe(2);
    expect(sim.blocked('w')).toBe(true);
    sim.finish('r1');
    expect(sim.blocked('w')).toBe(true);
    sim.finish('r2');
    sim.step('w');
    expect(sem.writer?.name).toBe('cpu2');
    expect(sim.blocked('r3')).toBe(true);
    expect(sim.drain()).toBeNull();
  });
});
