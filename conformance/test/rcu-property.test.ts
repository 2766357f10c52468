/**
 * The RCU engine (packages/core/src/rcu.ts) against a small reference
 * grace-period model, under random programs run by the real scheduler
 * (packages/explore): each CPU runs a random, well-nested mix of
 * rcu_read_lock() sections and interrupt-disabled regions (an
 * rcu_read_lock() inside a local_irq_save() region and the other way round
 * included), work steps and call_rcu()s; RCU callbacks themselves run in
 * softirq context on the rcu daemon's CPU, and some open reader sections of
 * their own.
 *
 * The reference: a CPU is a reader while its own count of open sections (of
 * either kind) is above zero. A callback queued at step q may run only once
 * every CPU that was a reader at q has been out of all its sections at least
 * once since. The property: the engine never runs a callback earlier (a grace
 * period never ends while a reader that began before it is still inside), and
 * every callback does run (rcu_barrier() in teardown returns: no deadlock).
 *
 * Here, not in packages/core/test: core may not depend on explore (explore
 * depends on core). The engine has no local_bh_disable() or preempt_disable()
 * of its own (its readers are rcu_read_lock(), irqs off and callbacks), so
 * those sections are not generated.
 */
import {
  type Ctx,
  callRcu,
  GENERIC_CONFIG,
  GenericArch,
  Kernel,
  type KGen,
  localIrqRestore,
  localIrqSave,
  pageObj,
  pageRcuHead,
  rcuBarrier,
  rcuReadLock,
  rcuReadUnlock,
} from '@ptlab/core';
import { explore, type Program } from '@ptlab/explore';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

type Op =
  | { readonly k: 'work' }
  | { readonly k: 'call'; readonly cbReader: boolean }
  | { readonly k: 'rcu' | 'irq'; readonly body: readonly Op[] };

const opArb: fc.Arbitrary<Op> = fc.letrec<{ op: Op; ops: Op[] }>((tie) => ({
  op: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<Op>({ k: 'work' }),
    fc.boolean().map<Op>((cbReader) => ({ k: 'call', cbReader })),
    fc.record({ k: fc.constantFrom<'rcu' | 'irq'>('rcu', 'irq'), body: tie('ops') }),
  ),
  ops: fc.array(tie('op'), { maxLength: 3 }),
})).op;

/** A CPU's program: a few ops at top level (at least one section, so there is something to wait for). */
const cpuArb = fc.array(opArb, { minLength: 1, maxLength: 4 });
const programArb = fc.array(cpuArb, { minLength: 2, maxLength: 3 });

/** The reference model's bookkeeping for one execution. */
interface Ref {
  /** Per task: open sections (either kind). */
  depth: number[];
  /** Per task: times it has been out of all its sections. */
  quiescent: number[];
  violations: string[];
  queued: number;
  ran: number;
}

function countCalls(ops: readonly Op[]): number {
  let n = 0;
  for (const o of ops) n += o.k === 'call' ? 1 : o.k === 'work' ? 0 : countCalls(o.body);
  return n;
}

function program(cpus: readonly (readonly Op[])[], ref: { current: Ref | null }): Program {
  return {
    boot() {
      const k = new Kernel({ arch: new GenericArch({ ...GENERIC_CONFIG, id: 'rcu-prop' }) });
      const r: Ref = {
        depth: cpus.map(() => 0),
        quiescent: cpus.map(() => 0),
        violations: [],
        queued: 0,
        ran: 0,
      };
      ref.current = r;
      // One page per call_rcu(), for its rcu_head (ptdesc->pt_rcu_head); the callback frees it.
      const heads = cpus.map((ops) =>
        Array.from({ length: countCalls(ops) }, () => k.pages.allocNow(k.boot, 'rcu head')),
      );
      const shared = pageObj(1 << 20);
      cpus.forEach((ops, t) => {
        let next = 0;
        const run = function* (ctx: Ctx, list: readonly Op[]): KGen {
          for (const o of list) {
            if (o.k === 'work') {
              yield ctx.step('work', shared);
            } else if (o.k === 'call') {
              const page = heads[t]?.[next++];
              if (!page) throw new Error('no head page');
              // The reference: every task inside a section now must be out once before it runs.
              const waitFor: { task: number; q: number }[] = [];
              yield* callRcu(ctx, pageRcuHead(page), 'cb', function* (c) {
                yield c.step('callback', shared);
                for (const w of waitFor)
                  if (r.quiescent[w.task] === w.q)
                    r.violations.push(
                      `callback queued by cpu${t} ran while task ${w.task} was still in the section it was in at call_rcu() time`,
                    );
                r.ran++;
                if (o.cbReader) {
                  // A reader inside the callback (softirq context): nested, balanced.
                  yield* rcuReadLock(c);
                  yield c.step('callback reads', shared);
                  yield* rcuReadUnlock(c);
                }
                yield c.step('free head page', c.k.pages.freeFootprint(c, page.pfn));
                c.k.pages.freeNow(c, page.pfn);
              });
              // Same step as call_rcu()'s effect: the reference samples the readers then.
              for (let i = 0; i < r.depth.length; i++)
                if ((r.depth[i] ?? 0) > 0) waitFor.push({ task: i, q: r.quiescent[i] ?? 0 });
              r.queued++;
            } else {
              if (o.k === 'rcu') yield* rcuReadLock(ctx);
              else yield* localIrqSave(ctx);
              r.depth[t] = (r.depth[t] ?? 0) + 1;
              yield* run(ctx, o.body);
              if (o.k === 'rcu') yield* rcuReadUnlock(ctx);
              else yield* localIrqRestore(ctx);
              r.depth[t] = (r.depth[t] ?? 0) - 1;
              if (r.depth[t] === 0) r.quiescent[t] = (r.quiescent[t] ?? 0) + 1;
            }
          }
        };
        k.spawn(`t${t}`, (ctx) => run(ctx, ops));
      });
      return k;
    },
    teardown: (ctx) => rcuBarrier(ctx),
  };
}

function check(cpus: readonly (readonly Op[])[], strategy: 'random' | 'exhaustive'): void {
  const ref: { current: Ref | null } = { current: null };
  const p = program(cpus, ref);
  // Every execution checks itself: wrap boot so each run's violations are collected.
  const all: string[] = [];
  let runs = 0;
  const wrapped: Program = {
    boot() {
      // The previous execution's violations (a run cut short by a finding is the explorer's to report).
      if (ref.current) all.push(...ref.current.violations);
      runs++;
      return p.boot();
    },
    ...(p.teardown ? { teardown: p.teardown } : {}),
  };
  const r = explore(wrapped, {
    strategy,
    schedules: strategy === 'random' ? 25 : 150,
    seed: 7,
    minimise: false,
  });
  if (ref.current) all.push(...ref.current.violations);
  expect(
    r.finding?.message ?? null,
    'the engine reports a finding (deadlock: a callback never ran)',
  ).toBeNull();
  expect(all).toEqual([]);
  expect(runs).toBeGreaterThan(0);
}

describe('RCU grace periods against a reference model', () => {
  it('never end while a reader that began before them is inside (random schedules)', () => {
    fc.assert(
      fc.property(programArb, (cpus) => check(cpus, 'random')),
      { numRuns: 40, seed: 20260601 },
    );
  });

  it('never end while a reader that began before them is inside (exhaustive, small programs)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 2 }),
        (cpus) => check(cpus, 'exhaustive'),
      ),
      { numRuns: 15, seed: 20260602 },
    );
  });

  it('rcu_read_lock() nested inside an irq-off region holds the grace period until both are left', () => {
    // cpu0: irq off { rcu_read_lock { work } ; work } ; cpu1: call_rcu.
    const cpus: Op[][] = [
      [{ k: 'irq', body: [{ k: 'rcu', body: [{ k: 'work' }] }, { k: 'work' }] }],
      [{ k: 'work' }, { k: 'call', cbReader: true }],
    ];
    check(cpus, 'exhaustive');
  });

  it('the reference catches an engine that ignores irq-off readers (the property can fail)', () => {
    // The same program, with a broken engine: the callback's wait list leaves out irq-off CPUs.
    const cpus: Op[][] = [
      [{ k: 'irq', body: [{ k: 'work' }, { k: 'work' }] }],
      [{ k: 'call', cbReader: false }],
    ];
    const ref: { current: Ref | null } = { current: null };
    const p = program(cpus, ref);
    const violations: string[] = [];
    const broken: Program = {
      boot() {
        if (ref.current) violations.push(...ref.current.violations);
        const k = p.boot();
        // Break the engine: call_rcu() sees no reader on an irq-off CPU.
        for (const c of k.cpus)
          Object.defineProperty(c, 'inRcuReader', { get: () => c.rcuNesting > 0 || c.inSoftirq });
        return k;
      },
      ...(p.teardown ? { teardown: p.teardown } : {}),
    };
    explore(broken, { strategy: 'exhaustive', schedules: 200, seed: 1, minimise: false });
    if (ref.current) violations.push(...ref.current.violations);
    expect(violations.length).toBeGreaterThan(0);
  });
});
