/**
 * x86 page-table freeing through the mmu_gather: ___pte_free_tlb() →
 * paravirt_tlb_remove_table() (tlb_remove_page() on bare metal, tlb_remove_table()
 * for PV-flushing guests and with PT_RECLAIM), and the single-table fallback
 * tlb_remove_table_one(): "semi RCU" (IPI + immediate free) in v6.6, call_rcu()
 * with PT_RECLAIM (seeds/003).
 */
import {
  INJECT_TLB_BATCH_NOMEM,
  Kernel,
  localIrqRestore,
  localIrqSave,
  PG,
  rcuDaemon,
  runToEnd,
  tlbFinishMmu,
  tlbGatherMmu,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  X86_32_PAE,
  X86_64,
  X86_64_NR2,
  X86_64_PARAVIRT,
  X86_64_PT_RECLAIM,
  X86_64_PT_RECLAIM_NR2,
  X86_SEMI_RCU_RECLAIM,
  type X86Arch,
  x86,
} from '../src/index.js';

function boot(config: typeof X86_64, opts: { variant?: string; inject?: string[] } = {}) {
  const a = x86.create(config, opts.variant) as X86Arch;
  const k = new Kernel({ arch: a, inject: opts.inject ?? [] });
  const mm = k.createMm('A');
  const pa = runToEnd(a.pteAllocOne(k.boot, mm)) as number;
  return { k, a, mm, pa, page: k.pages.raw(pa / 4096) };
}

describe('___pte_free_tlb()', () => {
  it('bare metal (x86-64, x86-32-pae with PARAVIRT): tlb_remove_page(), freed after the TLB flush', () => {
    for (const c of [X86_64, X86_32_PAE]) {
      const { k, a, mm, pa, page } = boot(c);
      const tlb = tlbGatherMmu(mm, true);
      runToEnd(a.pteFreeTlb(k.boot, tlb, pa));
      expect(page.testFlag(PG.table)).toBe(false); // pagetable_pte_dtor()
      expect([tlb.pages, tlb.tables, tlb.freedTables]).toEqual([[pa], [], true]);
      runToEnd(tlbFinishMmu(k.boot, tlb));
      expect(page.allocated).toBe(false);
      expect(k.rcu.queue.length).toBe(0);
    }
  });

  it('PV-flushing guest and PT_RECLAIM: tlb_remove_table(), an RCU-freed batch', () => {
    for (const c of [X86_64_PARAVIRT, X86_64_PT_RECLAIM]) {
      const { k, a, mm, pa, page } = boot(c);
      const tlb = tlbGatherMmu(mm, true);
      runToEnd(a.pteFreeTlb(k.boot, tlb, pa));
      expect([tlb.pages, tlb.tables]).toEqual([[], [pa]]);
      runToEnd(tlbFinishMmu(k.boot, tlb));
      expect(page.allocated).toBe(true);
      expect(k.rcu.queue.map((cb) => cb.fnName)).toEqual(['tlb_remove_table_rcu']);
    }
  });
});

describe('tlb_remove_table_one() (no batch page: tlb-batch-nomem)', () => {
  it('x86-64-paravirt (v6.6): semi RCU — IPI every CPU and wait, then free at once', () => {
    const { k, a, mm, pa, page } = boot(X86_64_PARAVIRT, { inject: [INJECT_TLB_BATCH_NOMEM] });
    const walker = k.spawn('gup_fast', function* (ctx) {
      yield* localIrqSave(ctx);
      yield* localIrqRestore(ctx);
    });
    const freer = k.spawn('zap', function* (ctx) {
      const tlb = tlbGatherMmu(mm, false);
      yield* a.pteFreeTlb(ctx, tlb, pa);
    });
    walker.start();
    freer.start();
    walker.advance(); // interrupts off
    while (freer.runnable) freer.advance();
    expect(freer.pendingLabel).toBe('wait for IPI tlb_remove_table_smp_sync');
    expect(page.allocated).toBe(true);
    walker.advance(); // interrupts on: the IPI is taken
    while (!freer.done) freer.advance();
    expect(page.allocated).toBe(false);
    expect(k.rcu.queue.length).toBe(0);
  });

  it("x86-64-pt-reclaim (v6.14): call_rcu() on the page's rcu_head, freed after a grace period", () => {
    const { k, a, mm, pa, page } = boot(X86_64_PT_RECLAIM, { inject: [INJECT_TLB_BATCH_NOMEM] });
    runToEnd(a.pteFreeTlb(k.boot, tlbGatherMmu(mm, false), pa));
    expect(page.allocated).toBe(true);
    expect(page.lru.holder).toBe('pt_rcu_head');
    expect(k.rcu.queue.map((cb) => cb.fnName)).toEqual(['__tlb_remove_table_one_rcu']);
    const gp = k.spawn('rcu', rcuDaemon, { daemon: true });
    gp.start();
    gp.advance();
    while (gp.pendingLabel !== 'grace period ends') gp.advance();
    expect(page.allocated).toBe(false);
  });

  it(`${X86_SEMI_RCU_RECLAIM}: PT_RECLAIM still freeing a single table by IPI + immediate free`, () => {
    const { k, a, mm, pa, page } = boot(X86_64_PT_RECLAIM, {
      variant: X86_SEMI_RCU_RECLAIM,
      inject: [INJECT_TLB_BATCH_NOMEM],
    });
    runToEnd(a.pteFreeTlb(k.boot, tlbGatherMmu(mm, false), pa));
    expect(page.allocated).toBe(false);
    expect(k.rcu.queue.length).toBe(0);
  });
});

describe('configs', () => {
  it('ids, and x86-64 as it was', () => {
    expect(x86.configs.map((c) => c.id)).toEqual([
      'x86-64',
      'x86-64-nr2',
      'x86-64-paravirt',
      'x86-64-pt-reclaim',
      'x86-64-pt-reclaim-nr2',
      'x86-32-pae',
    ]);
    expect(X86_64_PT_RECLAIM_NR2).toMatchObject({
      ...X86_64_PT_RECLAIM,
      id: 'x86-64-pt-reclaim-nr2',
      description: X86_64_PT_RECLAIM_NR2.description,
      splitPtePtlocks: false,
      splitPmdPtlocks: false,
    });
    expect(X86_64).toMatchObject({ rcuTableFree: false, tlbFlushIpi: true, pmdLowHigh: false });
    expect(X86_64_NR2).toMatchObject({
      ...X86_64,
      id: 'x86-64-nr2',
      description: X86_64_NR2.description,
      splitPtePtlocks: false,
      splitPmdPtlocks: false,
    });
    expect(X86_64_PARAVIRT).toMatchObject({
      rcuTableFree: true,
      tlbFlushIpi: false,
      ptReclaim: false,
    });
    expect(X86_64_PT_RECLAIM).toMatchObject({
      rcuTableFree: true,
      tlbFlushIpi: true,
      ptReclaim: true,
      kernel: 'v6.14',
    });
    expect(X86_32_PAE).toMatchObject({
      pteSize: 8,
      levels: 3,
      pmdLowHigh: true,
      pfnStride: 2 ** 20,
    });
  });

  it('an unknown variant is refused by name', () => {
    expect(() => x86.create(X86_64, 'no-such-variant')).toThrow(
      /unknown variant "no-such-variant"/,
    );
  });
});
