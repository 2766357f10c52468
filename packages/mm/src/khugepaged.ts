import {
  type AddressSpace,
  type Ctx,
  downRead,
  type Folio,
  type KGen,
  kernelAtLeast,
  type Mm,
  mmDecNrPtes,
  type PmdPtr,
  pageTableCheckPteClearRange,
  pmdLock,
  pmdOffset,
  pmdpCollapseFlush,
  pmdpGet,
  pmdpGetLockless,
  pmdpGetLocklessSync,
  pmdSize,
  pteLockptr,
  SINGLE_DEPTH_NESTING,
  spinLock,
  spinUnlock,
  upRead,
  upWrite,
  type Vma,
} from '@ptlab/core';
import { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from './mmu-notifier.js';
import {
  RETRACT_FREES_IMMEDIATELY,
  RETRACT_WITHOUT_MMU_NOTIFIER,
  RETRACT_WITHOUT_RECHECK,
} from './mutants.js';

/** enum scan_result (subset) — mm/khugepaged.c */
export type ScanResult =
  | 'SCAN_SUCCEED'
  | 'SCAN_PMD_NULL'
  | 'SCAN_PMD_NONE'
  | 'SCAN_PMD_MAPPED'
  | 'SCAN_FAIL'
  | 'SCAN_PTE_NON_PRESENT'
  | 'SCAN_PTE_UFFD_WP'
  | 'SCAN_PTE_MAPPED_HUGEPAGE'
  | 'SCAN_PAGE_NULL'
  | 'SCAN_PAGE_COMPOUND'
  | 'SCAN_VMA_CHECK'
  | 'SCAN_TRUNCATED';

/** check_pmd_state() — mm/khugepaged.c (factored out of find_pmd_or_thp_or_none() in v6.14). */
export function* checkPmdState(ctx: Ctx, pmdp: PmdPtr): KGen<ScanResult> {
  const pmde = yield* pmdpGetLockless(ctx, pmdp);
  const a = ctx.k.arch;
  if (a.pmdNone(pmde.raw)) return 'SCAN_PMD_NONE';
  if (!a.pmdPresent(pmde.raw)) return 'SCAN_PMD_NULL';
  if (a.pmdTransHuge(pmde.raw)) return 'SCAN_PMD_MAPPED';
  if (a.pmdBad(pmde.raw)) return 'SCAN_PMD_NULL';
  return 'SCAN_SUCCEED';
}

/** find_pmd_or_thp_or_none() — mm/khugepaged.c */
export function* findPmdOrThpOrNone(
  ctx: Ctx,
  mm: Mm,
  addr: number,
): KGen<{ result: ScanResult; pmdp: PmdPtr }> {
  const pmdp = pmdOffset(ctx, mm, addr);
  return { result: yield* checkPmdState(ctx, pmdp), pmdp };
}

/** vma->vm_pgoff <= pgoff < vma->vm_pgoff + vma_pages(vma) — the i_mmap interval tree's key (mm/interval_tree.c). */
function vmaCoversPgoff(ctx: Ctx, vma: Vma, pgoff: number): boolean {
  const pages = (vma.end - vma.start) / ctx.k.config.PAGE_SIZE;
  return vma.pgoff <= pgoff && pgoff < vma.pgoff + pages;
}

/** hpage_collapse_test_exit() — mm/khugepaged.c */
function hpageCollapseTestExit(mm: Mm): boolean {
  return mm.users === 0;
}

/**
 * retract_page_tables() — mm/khugepaged.c (v6.6, "[PATCH v3 09/13]"): with
 * only i_mmap_lock_read() and the new folio locked, remove every PMD-sized
 * empty PTE table mapping `pgoff` and free it with pte_free_defer().
 */
export function* retractPageTables(ctx: Ctx, mapping: AddressSpace, pgoff: number): KGen {
  yield* ctx.call('retract_page_tables', retract(ctx, mapping, pgoff));
}

function* retract(ctx: Ctx, mapping: AddressSpace, pgoff: number): KGen {
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  const PMD_SIZE = pmdSize(ctx);
  yield* downRead(ctx, mapping.iMmapRwsem);
  // vma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff, pgoff): a stabbing query for the one
  // index pgoff, so only the VMAs whose file range holds it (in any mm); another VMA of the same
  // file, even in the same mm at another offset, is never considered.
  for (const vma of mapping.iMmap.filter((v) => vmaCoversPgoff(ctx, v, pgoff))) {
    // Check vma->anon_vma to exclude MAP_PRIVATE mappings that have COWed.
    yield ctx.step(() => `READ_ONCE(vma->anon_vma) of ${vma.mm.id}`, vma.obj, 'r');
    if (vma.anonVma) continue;
    const addr = vma.start + (pgoff - vma.pgoff) * PAGE_SIZE;
    if (addr % PMD_SIZE !== 0 || vma.end < addr + PMD_SIZE) continue;
    const mm = vma.mm;
    const { result, pmdp } = yield* findPmdOrThpOrNone(ctx, mm, addr);
    if (result !== 'SCAN_SUCCEED') continue;
    yield ctx.step(() => `hpage_collapse_test_exit(${mm.id})`, mm.countersObj, 'r');
    if (hpageCollapseTestExit(mm)) continue;
    // uffd-wp may have installed pte markers: keep the small mappings.
    if (vma.flags.uffdWp) continue;

    // "PTEs were notified when unmapped; but now for the PMD?" (v1 had no notifier here).
    const notify = !ctx.k.has(RETRACT_WITHOUT_MMU_NOTIFIER);
    if (notify) yield* mmuNotifierInvalidateRangeStart(ctx, mm, addr, addr + PMD_SIZE);
    const pml = yield* pmdLock(ctx, mm, pmdp);
    // v6.14 ("mm: khugepaged: recheck pmd state in retract_page_tables()", PT_RECLAIM series):
    // PT_RECLAIM may have freed the empty table (or a fault put a new, still empty, one in)
    // since find_pmd_or_thp_or_none(); the new folio's lock keeps any new table empty, so only
    // the pmd's state is rechecked, not pmd_same(). v6.6..v6.13 could not race there.
    if (
      kernelAtLeast(ctx.k.config, 'v6.14') &&
      (yield* checkPmdState(ctx, pmdp)) !== 'SCAN_SUCCEED'
    ) {
      yield* spinUnlock(ctx, pml);
      if (notify) yield* mmuNotifierInvalidateRangeEnd(ctx, mm, addr, addr + PMD_SIZE);
      continue;
    }
    const ptl = pteLockptr(ctx, mm, yield* pmdpGet(ctx, pmdp));
    if (ptl !== pml) yield* spinLock(ctx, ptl, SINGLE_DEPTH_NESTING);

    // Repeat the checks under ptl: a racing UFFDIO ioctl or COW could have populated the table.
    // (v1 did not: it trusted the checks made before taking the locks.)
    let skipped = false;
    if (!ctx.k.has(RETRACT_WITHOUT_RECHECK)) {
      yield ctx.step('recheck anon_vma, userfaultfd_wp under ptl', vma.obj, 'r');
      if (vma.anonVma || vma.flags.uffdWp) skipped = true;
    }
    let pgt = null;
    if (!skipped) {
      pgt = yield* pmdpCollapseFlush(ctx, vma, addr, pmdp);
      yield* pmdpGetLocklessSync(ctx);
    }
    if (ptl !== pml) yield* spinUnlock(ctx, ptl);
    yield* spinUnlock(ctx, pml);
    if (notify) yield* mmuNotifierInvalidateRangeEnd(ctx, mm, addr, addr + PMD_SIZE);

    if (pgt?.table) {
      mmDecNrPtes(ctx, mm);
      yield* ctx.call(
        'page_table_check_pte_clear_range',
        pageTableCheckPteClearRange(ctx, mm, pgt.table),
      );
      if (ctx.k.has(RETRACT_FREES_IMMEDIATELY))
        yield* ctx.call('pte_free', ctx.k.arch.pteFree(ctx, mm, pgt.table.pa));
      else yield* ctx.call('pte_free_defer', ctx.k.arch.pteFreeDefer(ctx, mm, pgt.table.pa));
    }
  }
  yield* upRead(ctx, mapping.iMmapRwsem);
}

/**
 * The tail of collapse_file() — mm/khugepaged.c: the new huge folio is in the
 * page cache and locked, the small pages are unmapped; retract the tables,
 * then unlock the folio.
 */
export function* collapseFileTail(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen {
  yield* ctx.call('collapse_file', collapseFileTailBody(ctx, mapping, folio));
}

/** The body of collapseFileTail(). */
function* collapseFileTailBody(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen {
  yield* retractPageTables(ctx, mapping, folio.index);
  yield* upWrite(ctx, folio.lock);
}
