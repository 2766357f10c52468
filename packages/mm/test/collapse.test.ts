/**
 * collapse_pte_mapped_thp() and madvise_collapse() (src/collapse.ts,
 * src/madvise.ts) without contention: what a successful collapse leaves behind,
 * where it aborts, and the lock sequence the uffd fix is about.
 */
import {
  type Ctx,
  downRead,
  type Kernel,
  type KGen,
  MM_SHMEMPAGES,
  type Mm,
  pmdOffset,
  pmdpGet,
  runToEnd,
  upRead,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  COLLAPSE_BEFORE_UFFD_FIX,
  COLLAPSE_UFFD_FIX_V2_TRYLOCK,
  collapsePteMappedThp,
  madviseCollapse,
  type ScanResult,
} from '../src/index.js';
import { CONFIG, mapFilePage, PMD, run, world } from './helpers.js';

function pmdOf(k: Kernel, mm: Mm) {
  return runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD)));
}

/** collapse_pte_mapped_thp(mm, PMD, install_pmd) under mmap_read_lock(), as its callers run it. */
function* collapse(ctx: Ctx, mm: Mm, install: boolean): KGen<ScanResult> {
  yield* downRead(ctx, mm.mmapLock);
  const r = yield* collapsePteMappedThp(ctx, mm, PMD, install);
  yield* upRead(ctx, mm.mmapLock);
  return r;
}

describe('collapse_pte_mapped_thp()', () => {
  it('MADV_COLLAPSE on an uncontended mm maps the PMD and leaves rss right', () => {
    const { k, mm, thp } = world({ ptes: [0, 1, 2, 3] });
    expect(mm.rss[MM_SHMEMPAGES]).toBe(4);
    const table = pmdOf(k, mm).table;
    const t = k.spawn('madvise', (ctx) => madviseCollapse(ctx, mm, PMD), { mm });
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    expect(t.result).toBe(0);
    // The range is mapped by a huge pmd to the THP; rss counts all of it once.
    const pmd = pmdOf(k, mm);
    expect(k.arch.pmdTransHuge(pmd.raw)).toBe(true);
    expect(k.arch.ptePfn(pmd.raw)).toBe(thp.pfn);
    expect(mm.rss[MM_SHMEMPAGES]).toBe(CONFIG.PTRS_PER_PTE);
    // Page cache + the pmd mapping; the four PTE mappings are gone.
    expect(thp.refcount).toBe(2);
    expect(thp.mapcount).toBe(1);
    // The table was retracted (mm_dec_nr_ptes) and freed after a grace period.
    expect(mm.pgtablesBytes).toBe(0);
    expect(table && k.pt.get(table.pa)?.state).toBe('free');
    expect(r.steps.some((s) => s.what.startsWith('call_rcu(pt_rcu_head'))).toBe(true);
    // Exit and truncation leave nothing behind (rss, pgtables_bytes, leaks, page_table_check).
    expect(run(k).finding).toBeNull();
  });

  it('without install_pmd (khugepaged) it only removes the table', () => {
    const { k, mm } = world({ ptes: [0, 3] });
    const t = k.spawn('khugepaged', (ctx) => collapse(ctx, mm, false), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(t.result).toBe('SCAN_SUCCEED');
    expect(k.arch.pmdNone(pmdOf(k, mm).raw)).toBe(true);
    expect(mm.rss[MM_SHMEMPAGES]).toBe(0);
    expect(run(k).finding).toBeNull();
  });

  it('a PTE mapping another page aborts with SCAN_FAIL and leaves the table', () => {
    const { k, mm, vma } = world({ ptes: [0, 1] });
    // A page of another file at slot 5 (as a uprobe or a COW would leave there).
    const other = k.createFolio('other@5', 0, k.createFile('other', true), 5);
    runToEnd(mapFilePage(k.boot, vma, 5, other));
    const t = k.spawn('khugepaged', (ctx) => collapse(ctx, mm, true), { mm });
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    expect(t.result).toBe('SCAN_FAIL');
    expect(pmdOf(k, mm).table).not.toBeNull();
    expect(mm.rss[MM_SHMEMPAGES]).toBe(3);
    // Step 1 found it: nothing was cleared, so nothing needed a TLB flush.
    expect(r.steps.some((s) => s.what.startsWith('ptep_get_and_clear'))).toBe(false);
    expect(run(k).finding).toBeNull();
  });

  it('a range whose table is already gone (SCAN_PMD_NONE) gets the huge pmd straight away', () => {
    const { k, mm, thp } = world({ table: false });
    const t = k.spawn('madvise', (ctx) => madviseCollapse(ctx, mm, PMD), { mm });
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    expect(t.result).toBe(0);
    expect(k.arch.ptePfn(pmdOf(k, mm).raw)).toBe(thp.pfn);
    expect(r.steps.some((s) => s.what.startsWith('pte_offset_map'))).toBe(false);
    expect(run(k).finding).toBeNull();
  });

  it('an already PMD-mapped range is SCAN_PMD_MAPPED, and MADV_COLLAPSE succeeds', () => {
    const { k, mm } = world({ table: false });
    k.spawn('madvise', (ctx) => madviseCollapse(ctx, mm, PMD), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    const again = k.spawn('khugepaged', (ctx) => collapse(ctx, mm, true), { mm });
    expect(run(k).finding).toBeNull();
    expect(again.result).toBe('SCAN_PMD_MAPPED');
  });

  /** Step labels of madvise from the first PTE it clears to the pmd clear. */
  function clearToRemove(variants: string[], shared: boolean): string[] {
    const { k, mm } = world({ ptes: [0, 1], shared, uffd: true, variants });
    k.spawn('madvise', (ctx) => madviseCollapse(ctx, mm, PMD), { mm });
    const r = run(k);
    expect(r.finding).toBeNull();
    const whats = r.steps.filter((s) => s.task === 'madvise').map((s) => s.what);
    const from = whats.findIndex((w) => w.startsWith('ptep_get_and_clear'));
    const to = whats.findIndex((w) => w.startsWith('pmdp_huge_get_and_clear'));
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(from);
    return whats.slice(from, to);
  }

  it('uffd-armed private: pml is taken before step 2 and the ptl is held until the pmd is cleared', () => {
    expect(clearToRemove([], false).filter((w) => w.startsWith('spin_unlock'))).toEqual([]);
  });

  it('uffd-armed shared, or before the uffd fix: the ptl is dropped between step 2 and step 4', () => {
    const unlock = /^spin_unlock\(ptl of pfn/;
    expect(clearToRemove([], true).some((w) => unlock.test(w))).toBe(true);
    expect(clearToRemove([COLLAPSE_BEFORE_UFFD_FIX], false).some((w) => unlock.test(w))).toBe(true);
  });

  it('the trylock v2 collapses like the fix when pmd_lock() is not contended', () => {
    const { k, mm, thp } = world({
      ptes: [0, 1],
      shared: false,
      uffd: true,
      variants: [COLLAPSE_UFFD_FIX_V2_TRYLOCK],
    });
    const t = k.spawn('madvise', (ctx) => madviseCollapse(ctx, mm, PMD), { mm });
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    expect(t.result).toBe(0);
    expect(k.arch.ptePfn(pmdOf(k, mm).raw)).toBe(thp.pfn);
    expect(r.steps.some((s) => s.what.startsWith('spin_trylock(pmd ptl'))).toBe(true);
    expect(run(k).finding).toBeNull();
  });
});
