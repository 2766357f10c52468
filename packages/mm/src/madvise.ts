/**
 * madvise(MADV_COLLAPSE) on one PMD-sized range — madvise_collapse(),
 * mm/khugepaged.c (v6.6). For a file VMA it drops mmap_lock to scan the page
 * cache (hpage_collapse_scan_file()); when a PMD-sized folio is already there
 * the result is SCAN_PTE_MAPPED_HUGEPAGE and it retakes mmap_read_lock() to
 * call collapse_pte_mapped_thp(mm, addr, install_pmd = true), which maps the
 * THP with a huge pmd (the path the khugepaged selftest
 * madvise_retracted_page_tables exercises).
 *
 * Not modelled: collapse_file() building a new THP from small folios (a range
 * whose page cache holds small folios is refused with a ModelError), anon
 * collapse (hpage_collapse_scan_pmd()), the mmgrab()/lru_add_drain_all().
 */
import {
  type AddressSpace,
  type Ctx,
  downRead,
  type KGen,
  type Mm,
  ModelError,
  pmdSize,
  upRead,
} from '@ptlab/core';
import { collapsePteMappedThp } from './collapse.js';
import type { ScanResult } from './khugepaged.js';

const EINVAL = 22;
const ENOMEM = 12;

/**
 * hpage_collapse_scan_file() — mm/khugepaged.c, reduced to what decides the
 * result here: an existing PMD-order folio at the aligned index ("Maybe
 * PMD-mapped"), or an extent with no page at all (collapse_file() then finds
 * it truncated). Like the kernel's, it is given the file (get_file() of
 * vma->vm_file before mmap_lock was dropped), not the vma.
 */
function* scanFile(ctx: Ctx, mapping: AddressSpace, index: number): KGen<ScanResult> {
  yield ctx.step(() => `xas_for_each(${mapping.id}, ${index})`, mapping.pageCacheObj, 'r');
  const n = ctx.k.config.PTRS_PER_PTE;
  const folio = mapping.folioAt(index);
  if (folio && folio.nrPages === n && folio.index === index) return 'SCAN_PTE_MAPPED_HUGEPAGE';
  for (let i = index; i < index + n; i++)
    if (mapping.folioAt(i))
      throw new ModelError(
        'mm/madvise',
        `MADV_COLLAPSE of ${mapping.id}@${index}: collapse_file() from small folios is not modelled`,
      );
  return 'SCAN_TRUNCATED';
}

/**
 * madvise_collapse_errno() — mm/khugepaged.c: -ENOMEM, -EBUSY and -EAGAIN are
 * for allocation, charge, none-PTE and page-count/lock/LRU failures, which the
 * modelled results never are; everything else is -EINVAL.
 */
function collapseErrno(_r: ScanResult): number {
  return -EINVAL;
}

/**
 * madvise(addr, PMD_SIZE, MADV_COLLAPSE) → madvise_collapse() — mm/madvise.c,
 * mm/khugepaged.c. Returns 0 when the range ends up PMD-mapped, else -errno.
 */
export function* madviseCollapse(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  return yield* ctx.call('madvise_collapse', madviseCollapseBody(ctx, mm, addr));
}

/** The body of madviseCollapse(). */
function* madviseCollapseBody(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  const PMD_SIZE = pmdSize(ctx);
  const haddr = addr - (addr % PMD_SIZE);
  yield* downRead(ctx, mm.mmapLock); // madvise_lock(): MADV_COLLAPSE takes it for read
  const vma = mm.vmaAt(haddr);
  if (!vma) {
    yield* upRead(ctx, mm.mmapLock);
    return -ENOMEM;
  }
  if (ctx.k.config.thp && !vma.file)
    throw new ModelError(
      'mm/khugepaged',
      'MADV_COLLAPSE of an anonymous vma (hpage_collapse_scan_pmd(), collapse_huge_page()) is not modelled',
    );
  if (!ctx.k.config.thp || !vma.file || haddr + PMD_SIZE > vma.end) {
    yield* upRead(ctx, mm.mmapLock);
    return -EINVAL; // thp_vma_allowable_order() failed
  }
  const file = vma.file;
  const index = vma.pgoff + Math.floor((haddr - vma.start) / ctx.k.config.PAGE_SIZE);
  // File VMA: drop mmap_lock for the page-cache scan.
  yield* upRead(ctx, mm.mmapLock);
  let result = yield* ctx.call('hpage_collapse_scan_file', scanFile(ctx, file, index));
  if (result === 'SCAN_PTE_MAPPED_HUGEPAGE') {
    yield* downRead(ctx, mm.mmapLock);
    result = yield* collapsePteMappedThp(ctx, mm, haddr, true);
    yield* upRead(ctx, mm.mmapLock);
  }
  ctx.k.note(() => `madvise_collapse: ${result}`);
  return result === 'SCAN_SUCCEED' || result === 'SCAN_PMD_MAPPED' ? 0 : collapseErrno(result);
}

/**
 * khugepaged_scan_mm_slot() on a file vma whose extent already has a
 * PMD-sized folio — mm/khugepaged.c (v6.6): under mmap_read_lock() (a
 * mmap_read_trylock() in the kernel, see below) it checks the mm is not
 * exiting (hpage_collapse_test_exit()), finds the vma and its file
 * (get_file()), drops the lock for hpage_collapse_scan_file(); that says
 * SCAN_PTE_MAPPED_HUGEPAGE, so khugepaged retakes mmap_read_lock(), checks
 * hpage_collapse_test_exit() again, and calls collapse_pte_mapped_thp(mm,
 * addr, install_pmd = false): the PTEs and the table go, and the next fault
 * maps the THP by a huge pmd.
 *
 * Simplified: the first mmap_read_trylock() is a mmap_read_lock(). A failed
 * trylock only moves khugepaged on to the next mm, and the model does not
 * model that; waiting for the writer stands for the later scan that finds
 * the lock free. Either way the vma lookup is ordered after the writer's
 * munmap or mremap.
 */
export function* khugepagedCollapsePteMapped(ctx: Ctx, mm: Mm, addr: number): KGen<ScanResult> {
  return yield* ctx.call('khugepaged_scan_mm_slot', khugepagedCollapsePteMappedBody(ctx, mm, addr));
}

/** hpage_collapse_test_exit() — mm/khugepaged.c: atomic_read(&mm->mm_users) == 0. */
function* hpageCollapseTestExit(ctx: Ctx, mm: Mm): KGen<boolean> {
  yield ctx.step(() => `hpage_collapse_test_exit(${mm.id})`, mm.countersObj, 'r');
  return mm.users === 0;
}

/** The body of khugepagedCollapsePteMapped(). */
function* khugepagedCollapsePteMappedBody(ctx: Ctx, mm: Mm, addr: number): KGen<ScanResult> {
  const PMD_SIZE = pmdSize(ctx);
  const haddr = addr - (addr % PMD_SIZE);
  yield* downRead(ctx, mm.mmapLock); // mmap_read_trylock(mm)
  // goto breakouterloop: the result stays khugepaged_do_scan()'s initial SCAN_FAIL.
  if (yield* hpageCollapseTestExit(ctx, mm)) {
    yield* upRead(ctx, mm.mmapLock);
    return 'SCAN_FAIL';
  }
  // for_each_vma(vmi, vma), thp_vma_allowable_order(); the vma is stable under mmap_lock.
  const vma = mm.vmaAt(haddr);
  const file = vma?.file;
  if (ctx.k.config.thp && vma && !file)
    throw new ModelError(
      'mm/khugepaged',
      'khugepaged on an anonymous vma (hpage_collapse_scan_pmd(), collapse_huge_page()) is not modelled',
    );
  if (!ctx.k.config.thp || !vma || !file) {
    yield* upRead(ctx, mm.mmapLock);
    return 'SCAN_VMA_CHECK';
  }
  const index = vma.pgoff + Math.floor((haddr - vma.start) / ctx.k.config.PAGE_SIZE);
  // get_file(vma->vm_file); linear_page_index(); mmap_read_unlock() for the page-cache scan.
  yield* upRead(ctx, mm.mmapLock);
  let result = yield* ctx.call('hpage_collapse_scan_file', scanFile(ctx, file, index));
  if (result !== 'SCAN_PTE_MAPPED_HUGEPAGE') return result;
  yield* downRead(ctx, mm.mmapLock);
  if (!(yield* hpageCollapseTestExit(ctx, mm)))
    result = yield* collapsePteMappedThp(ctx, mm, haddr, false);
  yield* upRead(ctx, mm.mmapLock);
  return result;
}
