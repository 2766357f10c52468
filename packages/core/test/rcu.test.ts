/**
 * Grace-period semantics of the RCU model (src/rcu.ts): who a callback waits
 * for, in what order callbacks run, synchronize_rcu() and rcu_barrier().
 * The "never" properties are checked over every interleaving of small programs.
 */
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  callRcu,
  type Footprint,
  type Kernel,
  type KGen,
  localIrqRestore,
  localIrqSave,
  packFootprint,
  RCU_QUEUE,
  RCU_QUEUE_TAIL,
  type RcuHead,
  rcuBarrier,
  rcuReadLock,
  rcuReadUnlock,
  SpinLock,
  spinLock,
  spinUnlock,
  synchronizeRcu,
} from '../src/index.js';
import { forEachSchedule, newKernel, rcuHeadIn, Sim } from './helpers.js';

type Section = 'rcu' | 'irq';

interface Probe {
  /** The reader is inside its read-side section (set in the same step as the lock/unlock). */
  inside: boolean;
  /** The reader was inside when call_rcu() queued the callback. */
  insideAtQueue: boolean;
  ranWhileInside: boolean;
  ran: boolean;
}

function* enter(ctx: Ctx, how: Section): KGen {
  if (how === 'rcu') yield* rcuReadLock(ctx);
  else yield* localIrqSave(ctx);
}
function* leave(ctx: Ctx, how: Section): KGen {
  if (how === 'rcu') yield* rcuReadUnlock(ctx);
  else yield* localIrqRestore(ctx);
}

/** A reader with a two-step section and a writer that queues one callback. */
function readerAndWriter(how: Section): { build: () => Kernel; probe: () => Probe } {
  let probe: Probe = { inside: false, insideAtQueue: false, ranWhileInside: false, ran: false };
  const build = (): Kernel => {
    const p: Probe = { inside: false, insideAtQueue: false, ranWhileInside: false, ran: false };
    probe = p;
    const k = newKernel();
    k.spawn('reader', function* (ctx) {
      yield* enter(ctx, how);
      p.inside = true;
      yield ctx.step('use object', testObj('obj'), 'r');
      yield ctx.step('use object again', testObj('obj'), 'r');
      yield* leave(ctx, how);
      p.inside = false;
    });
    k.spawn('writer', function* (ctx) {
      yield* callRcu(ctx, rcuHeadIn(ctx.k, 'obj->rcu'), 'free_obj', function* () {
        p.ran = true;
        if (p.inside) p.ranWhileInside = true;
      });
      p.insideAtQueue = p.inside;
    });
    return k;
  };
  return { build, probe: () => probe };
}

describe('grace periods', () => {
  for (const how of ['rcu', 'irq'] as const) {
    const section = how === 'rcu' ? 'rcu_read_lock()' : 'an irq-disabled region';

    it(`a callback never runs while a reader (${section}) that began before it was queued is inside`, () => {
      const { build, probe } = readerAndWriter(how);
      let before = 0;
      let after = 0;
      let afterAndOverlapped = 0;
      const n = forEachSchedule(build, (o) => {
        const p = probe();
        expect(o.finding).toBeNull();
        expect(p.ran).toBe(true);
        if (p.insideAtQueue) {
          before++;
          expect(p.ranWhileInside).toBe(false);
        } else {
          after++;
          if (p.ranWhileInside) afterAndOverlapped++;
        }
      });
      // The property was exercised both ways, and a reader that began after
      // call_rcu() did not hold the callback back in some schedule.
      expect(n).toBeGreaterThanOrEqual(5);
      expect(before).toBeGreaterThan(0);
      expect(after).toBeGreaterThan(0);
      expect(afterAndOverlapped).toBeGreaterThan(0);
    });

    it(`the grace period ends when the reader (${section}) leaves`, () => {
      const { build, probe } = readerAndWriter(how);
      const sim = new Sim(build());
      sim.step('reader'); // enter
      sim.finish('writer'); // queue while the reader is inside
      expect(sim.blocked('rcu')).toBe(true);
      sim.step('reader', 2);
      expect(sim.blocked('rcu')).toBe(true);
      sim.step('reader'); // leave
      expect(sim.runnable('rcu')).toBe(true);
      sim.graceperiods();
      expect(probe().ran).toBe(true);
    });
  }

  it('a reader that began after call_rcu() does not hold the callback back', () => {
    const { build, probe } = readerAndWriter('rcu');
    const sim = new Sim(build());
    sim.finish('writer');
    sim.step('reader'); // rcu_read_lock() after the callback was queued
    expect(sim.runnable('rcu')).toBe(true);
    sim.graceperiods();
    expect(probe()).toMatchObject({ ran: true, ranWhileInside: true, insideAtQueue: false });
  });

  it('nested rcu_read_lock(): only the outermost unlock ends the section', () => {
    const k = newKernel();
    k.spawn('reader', function* (ctx) {
      yield* rcuReadLock(ctx);
      yield* rcuReadLock(ctx);
      yield* rcuReadUnlock(ctx);
      yield* rcuReadUnlock(ctx);
    });
    k.spawn('writer', (ctx) => callRcu(ctx, rcuHeadIn(ctx.k, 'h'), 'cb', function* () {}));
    const sim = new Sim(k);
    sim.step('reader', 2);
    sim.finish('writer');
    sim.step('reader');
    expect(sim.blocked('rcu')).toBe(true);
    sim.step('reader');
    expect(sim.runnable('rcu')).toBe(true);
  });

  it('a spinlock is not a read-side section (the PREEMPT_RT contract)', () => {
    const k = newKernel();
    const l = new SpinLock('L', 'test', testObj('L'));
    k.spawn('holder', function* (ctx) {
      yield* spinLock(ctx, l);
      yield ctx.step('work', testObj('x'));
      yield* spinUnlock(ctx, l);
    });
    k.spawn('writer', (ctx) => callRcu(ctx, rcuHeadIn(ctx.k, 'h'), 'cb', function* () {}));
    const sim = new Sim(k);
    sim.step('holder');
    sim.finish('writer');
    expect(sim.runnable('rcu')).toBe(true);
  });

  it('callbacks run in the order they were queued, in softirq context', () => {
    const order: string[] = [];
    const softirq: boolean[] = [];
    const build = (): Kernel => {
      order.length = 0;
      const k = newKernel();
      const cb = (name: string) =>
        function* (ctx: Ctx): KGen {
          softirq.push(ctx.cpu.inSoftirq);
          order.push(name);
        };
      k.spawn('reader', function* (ctx) {
        yield* rcuReadLock(ctx);
        yield* rcuReadUnlock(ctx);
      });
      k.spawn('writer', function* (ctx) {
        yield* callRcu(ctx, rcuHeadIn(ctx.k, 'h1'), 'one', cb('one'));
        yield* callRcu(ctx, rcuHeadIn(ctx.k, 'h2'), 'two', cb('two'));
        yield* callRcu(ctx, rcuHeadIn(ctx.k, 'h3'), 'three', cb('three'));
      });
      return k;
    };
    const n = forEachSchedule(build, (o) => {
      expect(o.finding).toBeNull();
      expect(order).toEqual(['one', 'two', 'three']);
      expect(o.k.rcu.invoked).toBe(3);
      expect(o.k.daemons[0]?.ctx.cpu.inSoftirq).toBe(false);
    });
    expect(n).toBeGreaterThan(10);
    expect(softirq.every((s) => s)).toBe(true);
  });

  it('synchronize_rcu() waits for readers that began before it, and for the grace period', () => {
    const k = newKernel();
    let reader = 'outside';
    let sawReader: string | null = null;
    k.spawn('reader', function* (ctx) {
      yield* rcuReadLock(ctx);
      reader = 'inside';
      yield ctx.step('use object', testObj('obj'), 'r');
      yield* rcuReadUnlock(ctx);
      reader = 'done';
    });
    k.spawn('updater', function* (ctx) {
      yield* synchronizeRcu(ctx);
      sawReader = reader;
    });
    const sim = new Sim(k);
    sim.step('reader');
    sim.until('updater', 'wait for grace period');
    expect(sim.blocked('updater')).toBe(true);
    expect(sim.blocked('rcu')).toBe(true);
    sim.step('reader'); // still inside
    expect(sim.blocked('updater')).toBe(true);
    sim.step('reader'); // rcu_read_unlock()
    expect(sim.blocked('updater')).toBe(true); // the grace period has not been processed yet
    sim.graceperiods();
    expect(sim.runnable('updater')).toBe(true);
    expect(sim.drain()).toBeNull();
    expect(sawReader).toBe('done');
  });

  it('synchronize_rcu() does not wait for a reader that began after it', () => {
    const k = newKernel();
    k.spawn('updater', synchronizeRcu);
    k.spawn('reader', function* (ctx) {
      yield* rcuReadLock(ctx);
      yield ctx.step('use object', testObj('obj'), 'r');
      yield* rcuReadUnlock(ctx);
    });
    const sim = new Sim(k);
    sim.until('updater', 'wait for grace period');
    sim.step('reader');
    sim.graceperiods();
    expect(sim.runnable('updater')).toBe(true);
    expect(sim.task('reader').ctx.cpu.rcuNesting).toBe(1);
  });

  it('rcu_barrier() waits until every queued callback has run', () => {
    const ran: string[] = [];
    const build = (): Kernel => {
      ran.length = 0;
      const k = newKernel();
      k.spawn('reader', function* (ctx) {
        yield* rcuReadLock(ctx);
        yield ctx.step('use object', testObj('obj'), 'r');
        yield* rcuReadUnlock(ctx);
      });
      k.spawn('writer', function* (ctx) {
        yield* callRcu(ctx, rcuHeadIn(ctx.k, 'h1'), 'one', function* () {
          ran.push('one');
        });
        yield* callRcu(ctx, rcuHeadIn(ctx.k, 'h2'), 'two', function* () {
          ran.push('two');
        });
        yield* rcuBarrier(ctx);
        ran.push('barrier returned');
      });
      return k;
    };
    const n = forEachSchedule(build, (o) => {
      expect(o.finding).toBeNull();
      expect(ran).toEqual(['one', 'two', 'barrier returned']);
    });
    expect(n).toBeGreaterThan(3);
    // Scripted: the barrier is blocked while a callback waits for the reader.
    const sim = new Sim(build());
    sim.step('reader');
    sim.until('writer', 'rcu_barrier');
    expect(sim.blocked('writer')).toBe(true);
    sim.finish('reader');
    sim.graceperiods();
    expect(sim.runnable('writer')).toBe(true);
  });
});

describe('what call_rcu() and a grace period conflict with (deps.ts)', () => {
  type Acc = { obj: number; write: boolean };
  function pack(fp: Footprint, write: boolean): Acc[] {
    const out: number[] = [];
    packFootprint(fp, write, out);
    return out.map((e) => ({ obj: Math.floor(e / 2), write: e % 2 === 1 }));
  }
  /** The packed footprint and wait list of a task's pending step. */
  function pending(k: Kernel, name: string): { fp: Acc[]; wait: Acc[] } {
    const t = k.allTasks.find((x) => x.name === name);
    const p = t?.pending;
    if (!p) throw new Error(`${name} has no pending step`);
    const w = typeof p.wait === 'function' ? p.wait() : (p.wait ?? []);
    return { fp: pack(p.fp ? p.fp() : p.obj, p.access === 'w'), wait: pack(w, false) };
  }
  function writers(heads: readonly string[]): { sim: Sim; k: Kernel; h: RcuHead[] } {
    const k = newKernel();
    const h = heads.map((n) => rcuHeadIn(k, n));
    for (const [i, head] of h.entries())
      k.spawn(`w${i}`, (ctx) => callRcu(ctx, head, 'cb', function* () {}));
    return { sim: new Sim(k), k, h };
  }
  const objs = (a: readonly Acc[]) => a.map((e) => e.obj);

  it('call_rcu() writes the queue order and its rcu_head, never the front', () => {
    const { sim, k, h } = writers(['a->rcu', 'b->rcu']);
    const [a, b] = h as [RcuHead, RcuHead];
    // Onto an empty queue, and behind a queued callback: the same.
    expect(pending(k, 'w0').fp).toEqual(
      expect.arrayContaining([
        { obj: RCU_QUEUE_TAIL, write: true },
        { obj: a.queuedObj, write: true },
      ]),
    );
    expect(objs(pending(k, 'w0').fp)).not.toContain(RCU_QUEUE);
    sim.step('w0');
    expect(pending(k, 'w1').fp).toContainEqual({ obj: b.queuedObj, write: true });
    expect(objs(pending(k, 'w1').fp)).not.toContain(RCU_QUEUE);
    // Never freed: nothing of a grace period's.
    expect(objs(pending(k, 'w1').fp)).not.toContain(b.freedObj);
  });

  it("a grace period writes the front and the rcu_head it frees, and waits on that head's call_rcu()", () => {
    const { sim, k, h } = writers(['a->rcu', 'b->rcu']);
    const [a, b] = h as [RcuHead, RcuHead];
    sim.step('w0');
    sim.step('w1');
    const gp = pending(k, 'rcu');
    expect(gp.fp).toEqual([
      { obj: RCU_QUEUE, write: true },
      { obj: a.freedObj, write: true },
    ]);
    expect(objs(gp.wait)).toContain(a.queuedObj);
    expect([...objs(gp.fp), ...objs(gp.wait)]).not.toContain(RCU_QUEUE_TAIL);
    expect([...objs(gp.fp), ...objs(gp.wait)]).not.toContain(b.queuedObj);
  });

  it('call_rcu() on a head a grace period freed reads that freeing', () => {
    const k = newKernel();
    const a = rcuHeadIn(k, 'a->rcu');
    let second = false;
    k.spawn('w', function* (ctx) {
      yield* callRcu(ctx, a, 'cb', function* () {});
      yield ctx.step('wait for the callback', [], 'r', () => ctx.k.rcu.invoked > 0);
      second = true;
      yield* callRcu(ctx, a, 'cb', function* () {});
    });
    const sim = new Sim(k);
    sim.step('w');
    sim.graceperiods();
    sim.step('w');
    expect(second).toBe(true);
    expect(pending(k, 'w').fp).toContainEqual({ obj: a.freedObj, write: false });
  });
});

describe('the test driver', () => {
  it('forEachSchedule enumerates every interleaving exactly once', () => {
    const seen: string[] = [];
    const n = forEachSchedule(
      () => {
        const k = newKernel();
        for (const name of ['a', 'b'])
          k.spawn(name, function* (ctx) {
            yield ctx.step('one', testObj(name));
            yield ctx.step('two', testObj(name));
          });
        return k;
      },
      (o) => seen.push(o.picks.join('')),
    );
    // C(6, 3) interleavings of two 2-step tasks, each with its exit step.
    expect(n).toBe(20);
    expect(new Set(seen).size).toBe(20);
    expect(seen).toContain('ababab');
  });
});
