/**
 * arm/arm64 page-table allocation bookkeeping: the classic MMU's PTE page
 * (512 Linux ptes, then the hardware tables), the pmd pointing at the
 * hardware half, and __pte_free_tlb() → tlb_remove_ptdesc(): by RCU batch
 * where MMU_GATHER_RCU_TABLE_FREE (LPAE SMP, arm64), with the data pages after
 * the TLB flush otherwise (classic).
 */
import {
  type Ctx,
  describeObj,
  PG,
  packFootprint,
  pmdOffset,
  pmdpGet,
  pteAlloc,
  rcuDaemon,
  stepLabel,
  Tag,
  tlbFinishMmu,
  tlbGatherMmu,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  ARM_CLASSIC,
  ARM_CONFIGS,
  ARM_LPAE,
  ARM64_4K,
  CLASSIC_FORMAT,
  PMD_2LEVEL,
} from '../src/index.js';
import { boot, run } from './helpers.js';

describe('classic MMU PTE page', () => {
  it('512 Linux ptes (pte_none) followed by 512 hardware ptes (arch side data)', () => {
    const b = boot(ARM_CLASSIC);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm));
    expect(pa).not.toBeNull();
    const base = pa as number;
    const word = b.k.mem.wordSize;
    expect(word).toBe(4);
    expect(b.k.mem.wordsPerPage).toBe(1024);
    for (const i of [0, 511])
      expect(b.k.mem.read(base + i * word)).toEqual({ value: 0, tag: Tag.zero });
    for (const i of [512, 1023])
      expect(b.k.mem.read(base + i * word)).toEqual({ value: 0, tag: Tag.aux });
    expect(b.k.pt.get(base)?.entries).toBe(512);
  });

  it('pmd_populate() points at the hardware half; pmd_page_vaddr() gives back the Linux ptes', () => {
    const v = CLASSIC_FORMAT.mkPmdTable(0x12345000);
    expect(v).toBe(0x12345000 + PMD_2LEVEL.HWTABLE_OFF + 0x31);
    expect(CLASSIC_FORMAT.pmdTablePa(v)).toBe(0x12345000);
    expect(CLASSIC_FORMAT.pmdBad(v)).toBe(false);
    expect(CLASSIC_FORMAT.pmdBad(0x12300000 + PMD_2LEVEL.TYPE_SECT)).toBe(true);
    expect(CLASSIC_FORMAT.pmdNone(0)).toBe(true);
  });

  it('LPAE and arm64 tables hold 512 8-byte entries and no hardware half', () => {
    for (const c of [ARM_LPAE, ARM64_4K]) {
      const b = boot(c);
      const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
      expect(b.k.mem.wordSize).toBe(8);
      expect(b.k.mem.read(pa + 511 * 8).tag).toBe(Tag.zero);
      expect(b.a.hwTableWords).toBe(0);
    }
  });
});

describe('__pte_free_tlb() → __tlb_remove_table()', () => {
  function teardownOne(config: typeof ARM_CLASSIC) {
    const b = boot(config);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const tlb = tlbGatherMmu(b.mm, true);
    run(b.a.pteFreeTlb(b.ctx, tlb, pa));
    const page = b.k.pages.raw(pa / 4096);
    return { b, pa, tlb, page };
  }

  it('runs the dtor at once, then batches the table: RCU where MMU_GATHER_RCU_TABLE_FREE', () => {
    for (const c of [ARM_LPAE, ARM64_4K]) {
      const { b, tlb, page } = teardownOne(c);
      expect(page.testFlag(PG.table)).toBe(false);
      expect(tlb.tables.length).toBe(1);
      expect(tlb.pages.length).toBe(0);
      run(tlbFinishMmu(b.ctx, tlb));
      expect(page.allocated).toBe(true); // waits for a grace period
      expect(b.k.rcu.queue.length).toBe(1);
      const gp = b.k.spawn('rcu', rcuDaemon, { daemon: true });
      gp.start();
      gp.advance();
      while (gp.pendingLabel !== 'grace period ends') gp.advance();
      expect(page.allocated).toBe(false);
    }
  });

  it('classic: no RCU table free, the table goes with the pages after the TLB flush', () => {
    const { b, tlb, page } = teardownOne(ARM_CLASSIC);
    expect(tlb.tables.length).toBe(0);
    expect(tlb.pages.length).toBe(1);
    run(tlbFinishMmu(b.ctx, tlb));
    expect(page.allocated).toBe(false);
    expect(b.k.rcu.queue.length).toBe(0);
  });

  it('__tlb_remove_table() is free_page_and_swap_cache(): one free, no second dtor', () => {
    const { b, pa } = teardownOne(ARM_CLASSIC);
    const steps: string[] = [];
    const gen = b.a.tlbRemoveTableFree(b.ctx as Ctx, pa);
    for (let r = gen.next(); !r.done; r = gen.next()) {
      const fp: number[] = [];
      packFootprint(r.value.obj, r.value.access === 'w', fp);
      steps.push(
        `${stepLabel(r.value)} ${fp.map((e) => describeObj(Math.floor(e / 2))).join(', ')}`,
      );
    }
    // One step: the page goes back to this CPU's page list.
    expect(steps).toEqual([
      `free_page_and_swap_cache(pfn ${pa / 4096}) cpu boot pcp, page pfn ${pa / 4096}, life of pfn ${pa / 4096}`,
    ]);
    expect(b.k.pt.get(pa)?.state).toBe('free');
  });
});

describe('configs', () => {
  it('ids and the constants the kernel configs give', () => {
    expect(ARM_CONFIGS.map((c) => c.id)).toEqual(['arm-classic', 'arm-lpae', 'arm64-4k']);
    expect(ARM_CLASSIC).toMatchObject({
      pteSize: 4,
      levels: 2,
      splitPtePtlocks: false,
      thp: false,
      rcuTableFree: false,
    });
    expect(ARM_LPAE).toMatchObject({
      pteSize: 8,
      levels: 3,
      splitPtePtlocks: true,
      thp: true,
      rcuTableFree: true,
    });
    expect(ARM64_4K).toMatchObject({
      tlbFlushIpi: false,
      rcuTableFree: true,
      hugetlbPteLevel: true,
    });
  });

  it('the pmd of a fresh mm is none; __pte_alloc() makes it point at a table, none/bad/huge as the arch decodes it', () => {
    for (const c of ARM_CONFIGS) {
      const b = boot(c);
      const pmdp = pmdOffset(b.ctx, b.mm, 0);
      expect(b.a.pmdNone(run(pmdpGet(b.ctx, pmdp)).raw)).toBe(true);
      expect(run(pteAlloc(b.ctx, b.mm, pmdp))).toBe(0);
      const v = run(pmdpGet(b.ctx, pmdp));
      expect(v.table).not.toBeNull();
      expect([
        b.a.pmdNone(v.raw),
        b.a.pmdPresent(v.raw),
        b.a.pmdBad(v.raw),
        b.a.pmdTransHuge(v.raw),
      ]).toEqual([false, true, false, false]);
      if (c.thp) {
        const huge = b.a.mkPmdHuge(0x1000);
        expect([b.a.pmdTransHuge(huge), b.a.ptePfn(huge)]).toEqual([true, 0x1000]);
      }
    }
  });
});
