/**
 * Interrupts and IPIs (src/irq.ts, src/tlb.ts): an IPI sender waits for every
 * target with interrupts off until it turns them back on; the TLB flush and
 * tlb_remove_table_sync_one() are built on that.
 */
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type Cpu,
  type Ctx,
  flushTlbRange,
  type KGen,
  localIrqRestore,
  localIrqSave,
  smpCallFunction,
  stepFootprint,
  tlbRemoveTableSyncOne,
} from '../src/index.js';
import { newKernel, Sim } from './helpers.js';

/** A gup_fast-like walker: interrupts off for a few steps. */
function* irqOffWalker(ctx: Ctx): KGen {
  yield* localIrqSave(ctx);
  yield* localIrqSave(ctx); // nested: only the outer restore re-enables
  yield ctx.step('walk', testObj('tables'), 'r');
  yield* localIrqRestore(ctx);
  yield* localIrqRestore(ctx);
}

/** The objects of the step `name` would take next. */
function pendingObjs(sim: Sim, name: string): number[] {
  const p = sim.task(name).pending;
  if (!p) throw new Error(`${name} has no pending step`);
  return stepFootprint(p).map((e) => Math.floor(e / 2));
}

describe('IPIs', () => {
  it('a target with interrupts on runs the handler at once; the sender does not wait', () => {
    const k = newKernel();
    const handled: string[] = [];
    k.spawn('idle', function* (ctx) {
      yield ctx.step('idle', testObj('x'));
    });
    k.spawn('sender', (ctx) =>
      smpCallFunction(ctx, ctx.k.cpus, 'ping', (c: Cpu) => handled.push(c.name)),
    );
    const sim = new Sim(k);
    sim.step('sender');
    // Every other CPU (the daemons run on CPUs of their own), not the sender itself.
    expect(handled).toEqual(['cpu0', 'rcu', 'kworker']);
    expect(sim.task('sender').exiting).toBe(true);
  });

  it('the sender waits for a CPU with interrupts off until it re-enables them', () => {
    const k = newKernel();
    const handled: string[] = [];
    k.spawn('walker', irqOffWalker);
    k.spawn('sender', (ctx) =>
      smpCallFunction(ctx, ctx.k.cpus, 'ping', (c: Cpu) => handled.push(c.name)),
    );
    const sim = new Sim(k);
    sim.step('walker', 2);
    sim.step('sender');
    expect(sim.pending('sender')).toBe('wait for IPI ping');
    expect(sim.blocked('sender')).toBe(true);
    expect(handled).toEqual(['rcu', 'kworker']); // interrupts on: handled at once
    sim.step('walker', 2); // walk, inner restore: interrupts still off
    expect(sim.blocked('sender')).toBe(true);
    expect(handled).toEqual(['rcu', 'kworker']);
    sim.step('walker'); // outer restore: the IPI is taken
    expect(handled).toEqual(['rcu', 'kworker', 'cpu0']);
    expect(sim.runnable('sender')).toBe(true);
    expect(sim.drain()).toBeNull();
  });

  it("local_irq_restore() touches the CPU's TLB only when it takes a pending IPI", () => {
    const k = newKernel();
    k.spawn('walker', irqOffWalker);
    k.spawn('sender', (ctx) => smpCallFunction(ctx, ctx.k.cpus, 'flush', () => {}));
    const sim = new Sim(k);
    const walker = sim.task('walker');
    const objs = () => {
      const p = walker.pending;
      if (!p) throw new Error('walker has no pending step');
      return stepFootprint(p).map((e) => Math.floor(e / 2));
    };
    sim.step('walker', 3); // save, save, walk: the inner restore is next
    expect(objs()).not.toContain(walker.ctx.cpu.tlbObj);
    sim.step('sender'); // an IPI now waits for this CPU
    // The inner restore leaves interrupts off: it takes nothing.
    expect(objs()).not.toContain(walker.ctx.cpu.tlbObj);
    sim.step('walker');
    // The outer one takes the IPI, whose handler touches this CPU's TLB.
    expect(objs()).toContain(walker.ctx.cpu.tlbObj);
    expect(objs()).toContain(walker.ctx.cpu.irqObj);
  });

  it('an empty sync IPI (null handler) touches no TLB: not in its send step, nor in the restore that takes it', () => {
    const k = newKernel({ rcuTableFree: true });
    k.spawn('walker', irqOffWalker);
    k.spawn('freer', tlbRemoveTableSyncOne);
    const sim = new Sim(k);
    const cpu = sim.task('walker').ctx.cpu;
    sim.step('walker', 3);
    // The send writes the targets' irq state (the pending IPI), not their TLBs.
    expect(pendingObjs(sim, 'freer')).toContain(cpu.irqObj);
    expect(pendingObjs(sim, 'freer')).not.toContain(cpu.tlbObj);
    sim.step('freer');
    expect(sim.blocked('freer')).toBe(true);
    sim.step('walker'); // the inner restore; the outer one takes only the empty sync
    expect(pendingObjs(sim, 'walker')).not.toContain(cpu.tlbObj);
    sim.step('walker');
    expect(sim.runnable('freer')).toBe(true);
    // A handler that flushes is in the send step (and in the restore: the test above).
    const k2 = newKernel();
    k2.spawn('walker', irqOffWalker);
    k2.spawn('flusher', (ctx) => smpCallFunction(ctx, ctx.k.cpus, 'flush', () => {}));
    const sim2 = new Sim(k2);
    expect(pendingObjs(sim2, 'flusher')).toContain(sim2.task('walker').ctx.cpu.tlbObj);
  });

  it('tlb_remove_table_sync_one() waits out interrupt-disabled walkers (with RCU table free)', () => {
    const k = newKernel({ rcuTableFree: true });
    k.spawn('walker', irqOffWalker);
    k.spawn('freer', tlbRemoveTableSyncOne);
    const sim = new Sim(k);
    sim.step('walker', 2);
    sim.step('freer');
    expect(sim.blocked('freer')).toBe(true);
    sim.finish('walker');
    expect(sim.runnable('freer')).toBe(true);
  });

  it('tlb_remove_table_sync_one() is an empty stub without MMU_GATHER_RCU_TABLE_FREE', () => {
    const k = newKernel({ rcuTableFree: false });
    k.spawn('walker', irqOffWalker);
    const freer = k.spawn('freer', tlbRemoveTableSyncOne);
    new Sim(k);
    expect(freer.exiting).toBe(true); // no step at all but its exit
  });

  for (const ipi of [true, false]) {
    it(`flush_tlb_range() ${ipi ? 'by IPI waits for' : 'by broadcast does not wait for'} an irq-off CPU and drops its entries`, () => {
      const k = newKernel({ tlbFlushIpi: ipi });
      const mm = k.createMm('A');
      const walker = k.spawn('walker', irqOffWalker, { mm });
      k.spawn('flusher', (ctx) => flushTlbRange(ctx, mm, 0, 0x200000), { mm });
      walker.ctx.cpu.tlb.set('A:0x1000', { mm, vaddr: 0x1000, pfn: 5, pteVal: 0 });
      walker.ctx.cpu.tlb.set('A:0x400000', { mm, vaddr: 0x400000, pfn: 6, pteVal: 0 });
      const sim = new Sim(k);
      sim.step('walker', 2);
      sim.step('flusher');
      expect(sim.blocked('flusher')).toBe(ipi);
      // By IPI the walker's entry goes when it takes the interrupt; a broadcast drops it at once.
      expect(walker.ctx.cpu.tlb.has('A:0x1000')).toBe(ipi);
      sim.finish('walker');
      expect(sim.drain()).toBeNull();
      expect([...walker.ctx.cpu.tlb.keys()]).toEqual(['A:0x400000']);
    });
  }
});
