/**
 * End-state oracles (src/oracles.ts): a zap that leaves an entry of its range
 * mapped, and rss counters that differ from what the page tables map at a
 * quiescent point. Each fires on the broken state and stays silent on the
 * right one.
 */
import { describe, expect, it } from 'vitest';
import {
  addMmCounter,
  checkRssMatchesMappings,
  checkZappedEmpty,
  checkZappedHugePmd,
  type Kernel,
  MM_SHMEMPAGES,
  type Mm,
  pmdLockptr,
  pmdOffset,
  pmdpGetAndClear,
  rssCheckFootprint,
  runToEnd,
  setPmdHuge,
  spinLock,
  spinUnlock,
} from '../src/index.js';
import { catchBug, mapPage, newKernel, pmdAddr, populate, TEST_CONFIG } from './helpers.js';

const ADDR = pmdAddr(1) + 3 * TEST_CONFIG.PAGE_SIZE;

/** mm A with a PTE table under pmd 1 mapping shm page 3 at ADDR; rss counted unless told not to. */
function world(count = true): { k: Kernel; mm: Mm; pa: number } {
  const k = newKernel();
  const mm = k.createMm('A');
  const file = k.createFile('shm', true);
  const folio = k.createFolio('shm@3', 0, file, 3);
  const { pa } = populate(k, mm, ADDR);
  mapPage(k, mm, ADDR, folio.pfn);
  if (count) addMmCounter(mm, MM_SHMEMPAGES, 1);
  return { k, mm, pa };
}

describe('check zapped-range-mapped', () => {
  it('fires when an entry of the zapped range still maps a page', () => {
    const { k, pa } = world();
    const table = k.pt.ref(pa);
    if (!table) throw new Error('no table');
    const b = catchBug(() => checkZappedEmpty(k.boot, table, 0, 16));
    expect(b?.check).toBe('zapped-range-mapped');
    expect(b?.message).toMatch(/\[3\] still maps pfn/);
  });

  it('stays silent on a range that maps nothing (the mapped entry is outside it)', () => {
    const { k, pa } = world();
    const table = k.pt.ref(pa);
    if (!table) throw new Error('no table');
    expect(catchBug(() => checkZappedEmpty(k.boot, table, 4, 16))).toBeNull();
    expect(catchBug(() => checkZappedEmpty(k.boot, table, 0, 3))).toBeNull();
  });
});

describe('check zapped-range-mapped on a PMD-sized hugetlb page', () => {
  /** mm A whose pmd 1 maps a 512-page folio with a huge pmd (set_pmd_at() under pmd_lock). */
  function hugeWorld() {
    const k = newKernel();
    const mm = k.createMm('A');
    const file = k.createFile('huge', false);
    const folio = k.createFolio('huge@0', 9, file, 0);
    const ctx = k.boot;
    const pmdp = pmdOffset(ctx, mm, pmdAddr(1));
    const ptl = pmdLockptr(ctx, mm, pmdp);
    runToEnd(spinLock(ctx, ptl));
    runToEnd(setPmdHuge(ctx, mm, pmdp, folio.pfn));
    runToEnd(spinUnlock(ctx, ptl));
    return { k, mm, pmdp, ptl };
  }

  it('fires when the pmd still maps the huge page', () => {
    const { k, pmdp } = hugeWorld();
    const b = catchBug(() => checkZappedHugePmd(k.boot, pmdp.table, pmdp.index));
    expect(b?.check).toBe('zapped-range-mapped');
    expect(b?.message).toMatch(/the pmd still maps pfn/);
  });

  it('stays silent once the pmd is cleared, and on a pmd that never mapped anything', () => {
    const { k, mm, pmdp, ptl } = hugeWorld();
    const ctx = k.boot;
    expect(catchBug(() => checkZappedHugePmd(ctx, pmdp.table, pmdp.index + 1))).toBeNull();
    runToEnd(spinLock(ctx, ptl));
    runToEnd(pmdpGetAndClear(ctx, mm, pmdp));
    runToEnd(spinUnlock(ctx, ptl));
    expect(catchBug(() => checkZappedHugePmd(ctx, pmdp.table, pmdp.index))).toBeNull();
  });
});

describe('check rss-mismatch', () => {
  it('fires when a page is mapped without add_mm_counter()', () => {
    const { k } = world(false);
    const b = catchBug(() => checkRssMatchesMappings(k.boot));
    expect(b?.check).toBe('rss-mismatch');
    expect(b?.message).toMatch(/counts 0 MM_SHMEMPAGES but its page tables map 1/);
  });

  it('fires when the counter is off the other way (an unmap that forgot to decrement)', () => {
    const { k, mm } = world();
    addMmCounter(mm, MM_SHMEMPAGES, 1);
    expect(catchBug(() => checkRssMatchesMappings(k.boot))?.check).toBe('rss-mismatch');
  });

  it('stays silent when the counters match the page tables', () => {
    const { k } = world();
    expect(catchBug(() => checkRssMatchesMappings(k.boot))).toBeNull();
  });

  it('declares a read of the counters, the pmd table and every linked PTE table', () => {
    const { k } = world();
    // mm counters, the pmd table's page, the PTE table's page.
    expect(rssCheckFootprint(k.boot)).toHaveLength(3);
  });
});
