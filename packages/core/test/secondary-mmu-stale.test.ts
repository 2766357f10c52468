/**
 * secondary-mmu-stale (src/secondary-mmu.ts): an IOMMU walking the CPU page
 * tables caches the pmd -> table pointer and the page translations; a path
 * that changes the tables must tell it through the mmu_notifier
 * (invalidate_range_start()/end()), or its next access goes through a stale
 * cache (retract_page_tables() v1, seeds/004).
 */
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  type KGen,
  type Mm,
  pmdOffset,
  pmdSize,
  pteOffsetMapLock,
  ptepGetAndClear,
  pteUnmapUnlock,
  SecondaryMmu,
  secondaryMmuTranslate,
} from '../src/index.js';
import {
  mapPage,
  newKernel,
  pmdAddr,
  populate,
  retractTable,
  Sim,
  TEST_CONFIG,
} from './helpers.js';

const ADDR = pmdAddr(1) + 4 * TEST_CONFIG.PAGE_SIZE;
const PMD = TEST_CONFIG.PTRS_PER_PTE * TEST_CONFIG.PAGE_SIZE;

/** The device: translate twice (the first walks and caches, the second uses the caches). */
function* device(ctx: Ctx, smmu: SecondaryMmu, addr: number): KGen<(number | null)[]> {
  const a = yield* secondaryMmuTranslate(ctx, smmu, addr);
  const b = yield* secondaryMmuTranslate(ctx, smmu, addr);
  return [a, b];
}

/** mmu_notifier_invalidate_range_start()/end() around `body` (the mm package's helpers, inlined). */
function* notified(ctx: Ctx, mm: Mm, start: number, end: number, body: KGen): KGen {
  yield ctx.step('mmu_notifier_invalidate_range_start()', testObj('mmu'));
  for (const n of mm.notifiers) n.invalidateRangeStart(ctx, start, end);
  yield* body;
  yield ctx.step('mmu_notifier_invalidate_range_end()', testObj('mmu'));
  for (const n of mm.notifiers) n.invalidateRangeEnd(ctx, start, end);
}

function world(mapped: boolean) {
  const k = newKernel();
  const mm = k.createMm('A');
  const { pmdp, pa } = populate(k, mm, ADDR);
  if (mapped) mapPage(k, mm, ADDR, 0x9000);
  const smmu = new SecondaryMmu('iommu(A)', mm, pmdSize(k.boot), TEST_CONFIG.PAGE_SIZE);
  return { k, mm, pmdp, pa, smmu };
}

describe('check secondary-mmu-stale', () => {
  /** khugepaged removes the (empty) table between the device's two accesses. */
  function retract(notify: boolean) {
    const { k, mm, pmdp, pa, smmu } = world(false);
    const dev = k.spawn('device', (ctx) => device(ctx, smmu, ADDR));
    k.spawn('khugepaged', (ctx) => {
      const body = retractTable(ctx, mm, pmdp, pa, 'defer');
      return notify ? notified(ctx, mm, pmdAddr(1), pmdAddr(1) + PMD, body) : body;
    });
    const sim = new Sim(k);
    sim.step('device'); // walked: caches pmd -> table (the PTE is none: a translation fault)
    sim.finish('khugepaged');
    return { sim, dev, smmu };
  }

  it('fires', () => {
    const { sim } = retract(false);
    const f = sim.drain();
    expect(f?.check).toBe('secondary-mmu-stale');
    expect(f?.message).toMatch(
      /iommu\(A\) \(for cpu0 .*\): walks through its cached pmd -> pt#\d+, but that pmd now is none \(pt#\d+ was detached and queued for freeing at step \d+\); it was cached at step 0 and no mmu_notifier invalidation of that range reached iommu\(A\) since/,
    );
  });

  it('stays silent', () => {
    const { sim, dev, smmu } = retract(true);
    expect(sim.drain()).toBeNull();
    expect(dev.result).toEqual([null, null]);
    expect(smmu.invalidations).toBe(1);
    expect(smmu.psc.size).toBe(0);
  });

  /** A PTE is zapped between the device's two accesses. */
  function zap(notify: boolean) {
    const { k, mm, smmu } = world(true);
    const dev = k.spawn('device', (ctx) => device(ctx, smmu, ADDR));
    k.spawn('zap', (ctx) => {
      const body = (function* () {
        const m = yield* pteOffsetMapLock(ctx, mm, pmdOffset(ctx, mm, ADDR), ADDR);
        if (!m) throw new Error('no table');
        yield* ptepGetAndClear(ctx, mm, m.pte);
        yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
      })();
      return notify ? notified(ctx, mm, ADDR, ADDR + TEST_CONFIG.PAGE_SIZE, body) : body;
    });
    const sim = new Sim(k);
    sim.step('device'); // caches ADDR -> pfn 0x9000 in its IOTLB
    sim.finish('zap');
    return { sim, dev };
  }

  it('fires: an IOTLB entry for a page that was unmapped', () => {
    const { sim } = zap(false);
    const f = sim.drain();
    expect(f?.check).toBe('secondary-mmu-stale');
    expect(f?.message).toMatch(
      /uses its IOTLB entry 0x\w+ -> pfn 36864, but the CPU page tables no longer map that page there/,
    );
  });

  it('stays silent: the zap notified, the device walks again and faults', () => {
    const { sim, dev } = zap(true);
    expect(sim.drain()).toBeNull();
    expect(dev.result).toEqual([0x9000, null]);
  });

  it('stays silent: nothing is cached while an invalidation is in progress', () => {
    const { k, mm, smmu } = world(true);
    const ctx = k.boot;
    smmu.invalidateRangeStart(ctx, 0, Number.MAX_SAFE_INTEGER);
    const dev = k.spawn('device', (c) => device(c, smmu, ADDR));
    const sim = new Sim(k);
    expect(sim.drain()).toBeNull();
    expect(dev.result).toEqual([0x9000, 0x9000]);
    expect(smmu.psc.size + smmu.iotlb.size).toBe(0);
    void mm;
  });
});
