/**
 * retract_page_tables() (src/khugepaged.ts) visits only the VMAs whose file
 * range contains the collapsed index: vma_interval_tree_foreach(vma,
 * &mapping->i_mmap, pgoff, pgoff) in mm/khugepaged.c.
 */
import {
  type AddressSpace,
  type ArchConfig,
  type Folio,
  GenericArch,
  Kernel,
  lockHeldBy,
  MM_FILEPAGES,
  type Mm,
  pmdOffset,
  pmdpGet,
  runToEnd,
  Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { collapseFileTail, madviseDontneed } from '../src/index.js';
import { boot, CONFIG, mapFilePage, PMD, populate, run } from './helpers.js';

function pmdAt(k: Kernel, mm: Mm, slot: number) {
  return runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, slot * PMD)));
}

/**
 * mm A maps shmem file "shm" twice: pmd 1 at file offset 0 (the new THP) and
 * pmd 3 at file offset PMD (a later extent), with a driver file mapped at pmd
 * 2 in between, one page of it mapped by a PTE. Every vma has its PTE table.
 */
function fileMappedTwice() {
  const k = boot();
  const ctx = k.boot;
  const shm = k.createFile('shm', true);
  const thp = k.createFolio('THP', Math.log2(CONFIG.PTRS_PER_PTE), shm, 0);
  const drv = k.createFile('drv', false);
  const page = k.createFolio('drv@0', 0, drv, 0);
  const mm = k.createMm('A');
  const flags = { shared: true, uffdMissing: false, uffdWp: false };
  const low = new Vma(mm, PMD, 2 * PMD, flags, shm, 0);
  const mid = new Vma(mm, 2 * PMD, 3 * PMD, flags, drv, 0);
  const high = new Vma(mm, 3 * PMD, 4 * PMD, flags, shm, CONFIG.PTRS_PER_PTE);
  for (const v of [low, mid, high]) {
    mm.vmas.push(v);
    v.file?.iMmap.push(v);
    runToEnd(populate(ctx, mm, v.start));
  }
  runToEnd(mapFilePage(ctx, mid, 0, page));
  return { k, mm, shm, thp };
}

/** khugepaged at the end of collapse_file(): the new THP is locked by it. */
function khugepaged(k: Kernel, shm: AddressSpace, thp: Folio): void {
  const t = k.spawn('khugepaged', (ctx) => collapseFileTail(ctx, shm, thp));
  lockHeldBy(thp.lock, t.ctx.cpu);
}

describe('retract_page_tables()', () => {
  it('retracts only the table of the vma whose file range holds pgoff', () => {
    const { k, mm, shm, thp } = fileMappedTwice();
    const before = [1, 2, 3].map((s) => pmdAt(k, mm, s).table?.pa);
    khugepaged(k, shm, thp);
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    // pmd 1 (shm at offset 0): retracted.
    expect(k.arch.pmdNone(pmdAt(k, mm, 1).raw)).toBe(true);
    // pmd 3 maps shm too, but at offset PMD: the stabbing query for pgoff 0 never sees it.
    // (Before the fix every vma of the file was visited: addr = vm_start + (0 - vm_pgoff) pages
    // is pmd 2's address, PMD-aligned and below vm_end, so the driver's table went instead.)
    expect(pmdAt(k, mm, 2).table?.pa).toBe(before[1]);
    expect(pmdAt(k, mm, 3).table?.pa).toBe(before[2]);
    expect(mm.rss[MM_FILEPAGES]).toBe(1);
  });

  it('the rest of the mm tears down cleanly afterwards', () => {
    const { k, shm, thp } = fileMappedTwice();
    khugepaged(k, shm, thp);
    expect(run(k).finding).toBeNull();
  });
});

/** v6.14 with CONFIG_PT_RECLAIM (it selects MMU_GATHER_RCU_TABLE_FREE). */
const V614: ArchConfig = {
  ...CONFIG,
  id: 'mm-test-v6.14',
  kernel: 'v6.14',
  ptReclaim: true,
  rcuTableFree: true,
};

describe('retract_page_tables() against PT_RECLAIM (v6.14 check_pmd_state() under pml)', () => {
  /** mm A maps shm at pmd 1 with an empty table; khugepaged holds the new THP locked. */
  function racing() {
    const k = new Kernel({ arch: new GenericArch(V614) });
    const shm = k.createFile('shm', true);
    const thp = k.createFolio('THP', Math.log2(CONFIG.PTRS_PER_PTE), shm, 0);
    const mm = k.createMm('A');
    const vma = new Vma(
      mm,
      PMD,
      2 * PMD,
      { shared: true, uffdMissing: false, uffdWp: false },
      shm,
      0,
    );
    mm.vmas.push(vma);
    shm.iMmap.push(vma);
    runToEnd(populate(k.boot, mm, PMD));
    khugepaged(k, shm, thp);
    k.spawn('madvise', (ctx) => madviseDontneed(ctx, mm, PMD), { mm });
    return { k, mm };
  }

  it('the table reclaimed between find_pmd_or_thp_or_none() and pmd_lock() is skipped, freed once', () => {
    const { k, mm } = racing();
    const table = pmdAt(k, mm, 1).table;
    // khugepaged has seen the table and is about to take the pmd lock; MADV_DONTNEED
    // then reclaims the empty table entirely (pmd_clear(), pte_free_tlb()).
    const r = run(k, [
      ['khugepaged', /spin_lock\(pmd ptl/],
      ['madvise', '*'],
    ]);
    expect(r.finding).toBeNull();
    expect(r.steps.some((x) => x.task === 'madvise' && x.what.startsWith('pmd_clear('))).toBe(true);
    // khugepaged rechecked under pml and went no further: no second clear, no pte_free_defer.
    const after = r.steps.filter((x) => x.task === 'khugepaged').map((x) => x.what);
    expect(after.some((w) => w.startsWith('pmdp_huge_get_and_clear'))).toBe(false);
    expect(after.some((w) => w.startsWith('call_rcu'))).toBe(false);
    expect(table && k.pt.get(table.pa)?.state).toBe('free');
    expect(mm.pgtablesBytes).toBe(0);
  });

  it('without the race, v6.14 retracts as before', () => {
    const { k, mm } = racing();
    const r = run(k, [['khugepaged', '*']], { teardown: false });
    expect(r.finding).toBeNull();
    expect(
      r.steps.some((x) => x.task === 'khugepaged' && x.what.startsWith('pmdp_huge_get_and_clear')),
    ).toBe(true);
    expect(k.arch.pmdNone(pmdAt(k, mm, 1).raw)).toBe(true);
  });
});
