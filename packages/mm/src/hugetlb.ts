/**
 * hugetlbfs mappings, as far as their page-table walks go: the hugetlb fault
 * (huge_pte_alloc()), the GUP lookup (huge_pte_offset()) and the unmap at
 * exit. Where a huge page size lives at PTE level (sparc64 64K, arm64
 * CONT_PTE, powerpc 8xx 16K/512K), the arch's huge_pte_alloc() and
 * huge_pte_offset() go through pte_alloc_huge()/pte_offset_huge(), which take
 * no rcu_read_lock(): "[PATCH v2 ../23] <arch>/hugetlb: pte_alloc_huge()
 * pte_offset_huge()" in seeds/004. A PMD-sized hstate (VmaFlags.hugetlbSize
 * = PMD_SIZE) is one huge pmd per page: huge_pte_alloc()/huge_pte_offset()
 * return the pmd, huge_pte_lockptr() is pmd_lockptr(), and gup_fast meets it
 * as pmd_huge() (gup_huge_pmd()). hugetlb page tables are never retracted by
 * khugepaged; they are freed by free_pgtables() under mmap_lock held for write,
 * which every path here excludes by holding mmap_lock for read.
 *
 * Not modelled: the hugetlb_fault_mutex (the page-cache lookup, and the
 * allocation and insertion of a new huge folio when it is absent, are one
 * atomic step instead), the hugetlb vma lock and PMD sharing
 * (huge_pmd_share()/huge_pmd_unshare(): only a shared mapping covering a whole
 * PUD-aligned PUD_SIZE range shares, and the model folds the levels above the
 * pmd), reservations, anonymous/private hugetlb (COW),
 * hugetlb rss (hugetlb_count_add()).
 */
import {
  assertEffectWrites,
  type Ctx,
  checkZappedEmpty,
  checkZappedHugePmd,
  downRead,
  downWrite,
  FOLIO_ALLOC,
  type Folio,
  type KGen,
  type Mm,
  type PmdPtr,
  type PtePtr,
  pmdLockptr,
  pmdpGet,
  pmdpGetAndClear,
  pmdSize,
  ptepGet,
  ptepGetAndClear,
  ptlOfTable,
  type SpinLock,
  setPmdHuge,
  setPteAt,
  spinLock,
  spinUnlock,
  upRead,
  upWrite,
  type Vma,
} from '@ptlab/core';
import type { VmFault } from './fault.js';
import { folioPut, folioUnmapped, tryGrabFolio } from './folio.js';

/** Bound on GUP's fault-and-retry loop, as in fault.ts. */
const MAX_RETRIES = 4;

/**
 * huge_page_size(hstate_vma(vma)) — include/linux/hugetlb.h: the size the vma
 * declares (VmaFlags.hugetlbSize, its hugetlbfs mount's hstate); without one,
 * or without a vma, the arch's first PTE-level hugetlb size
 * (ArchImpl.hugetlbPteSizes[0]), or PMD_SIZE where it has none.
 */
export function hugePageSize(ctx: Ctx, vma?: Vma): number {
  return vma?.flags.hugetlbSize ?? ctx.k.arch.hugetlbPteSizes[0] ?? pmdSize(ctx);
}

/** Is the hstate mapped by a pmd (PMD_SIZE and up) rather than by PTEs? */
function pmdLevel(ctx: Ctx, size: number): boolean {
  return size >= pmdSize(ctx);
}

/** The pointer huge_pte_alloc()/huge_pte_offset() return for a PMD-level size is the pmd itself. */
function asPmdp(mm: Mm, ptep: PtePtr): PmdPtr {
  return { table: ptep.table, index: ptep.index, mm };
}

/**
 * huge_pte_lockptr() — include/linux/hugetlb.h, in its v6.11+ form ("mm/hugetlb:
 * fix hugetlb vs. core-mm PT locking"): pmd_lockptr() for PMD-level sizes,
 * ptep_lockptr() — the ptl of the PTE table holding the entry — below PMD_SIZE.
 * v6.6-v6.10 took mm->page_table_lock below PMD_SIZE, which no core-mm walker
 * took; the model uses the fixed form so set_pte_at()'s ptl contract holds.
 * Without split ptlocks both are mm->page_table_lock.
 */
export function hugePteLockptr(ctx: Ctx, mm: Mm, size: number, ptep: PtePtr): SpinLock {
  if (pmdLevel(ctx, size)) return pmdLockptr(ctx, mm, asPmdp(mm, ptep));
  return ptlOfTable(ctx, mm, ctx.k.pt.deref(ctx, ptep.table, 'huge_pte_lockptr()'));
}

/** huge_ptep_get() — include/asm-generic/hugetlb.h: ptep_get(), of the pmd for PMD-level sizes. */
function* hugePtepGet(ctx: Ctx, mm: Mm, size: number, ptep: PtePtr): KGen<number> {
  if (pmdLevel(ctx, size)) return (yield* pmdpGet(ctx, asPmdp(mm, ptep))).raw;
  return yield* ptepGet(ctx, ptep, 'huge_ptep_get()');
}

/** huge_pte_none() — include/asm-generic/hugetlb.h */
function hugePteNone(ctx: Ctx, size: number, entry: number): boolean {
  const a = ctx.k.arch;
  return pmdLevel(ctx, size) ? a.pmdNone(entry) : a.pteNone(entry);
}

/** pte_present() of a hugetlb entry. */
function hugePtePresent(ctx: Ctx, size: number, entry: number): boolean {
  const a = ctx.k.arch;
  if (pmdLevel(ctx, size)) return a.pmdPresent(entry) && a.pmdTransHuge(entry);
  return !a.pteNone(entry) && a.ptePresent(entry);
}

/**
 * set_huge_pte_at() — arch hugetlbpage.c: a PMD-level size is one huge pmd;
 * a PTE-level size writes all size/PAGE_SIZE consecutive PTEs of the huge page
 * (sparc64 __set_huge_pte_at(), arm64 CONT_PTE, powerpc 8xx), under the ptl.
 * The arch's size bits (sparc64 _PAGE_SZ64K_4V, arm64 PTE_CONT) are not modelled.
 */
function* setHugePteAt(
  ctx: Ctx,
  mm: Mm,
  size: number,
  ptep: PtePtr,
  folio: Folio,
  write: boolean,
): KGen {
  if (pmdLevel(ctx, size)) {
    yield* setPmdHuge(ctx, mm, asPmdp(mm, ptep), folio.pfn);
    return;
  }
  const n = size / ctx.k.config.PAGE_SIZE;
  for (let i = 0; i < n; i++)
    // hugetlb_add_file_rmap() follows in the last entry's step: only that one names the
    // folio's references, so the others commute with a folio_put() that does not free.
    yield* setPteAt(
      ctx,
      mm,
      { table: ptep.table, index: ptep.index + i },
      ctx.k.arch.mkPte(folio.pfn + i, { write }),
      i === n - 1,
    );
}

/** huge_ptep_get_and_clear() — arch hugetlbpage.c: clear every entry of the huge page, return the first. */
function* hugePtepGetAndClear(ctx: Ctx, mm: Mm, size: number, ptep: PtePtr): KGen<number> {
  if (pmdLevel(ctx, size)) return (yield* pmdpGetAndClear(ctx, mm, asPmdp(mm, ptep))).raw;
  const n = size / ctx.k.config.PAGE_SIZE;
  let first = ctx.k.arch.pteEmpty;
  for (let i = 0; i < n; i++) {
    // The caller's hugetlb_remove_rmap() follows in the last entry's step (as above).
    const old = yield* ptepGetAndClear(
      ctx,
      mm,
      { table: ptep.table, index: ptep.index + i },
      i === n - 1,
    );
    if (i === 0) first = old;
  }
  return first;
}

/**
 * The hugetlbfs folio of the huge page mapped at `haddr`, with a reference
 * the caller owns: filemap_lock_hugetlb_folio()'s lookup (filemap_get_entry():
 * load, folio_try_get(), reload; one step, since the reload makes it retry
 * until the three agree, and a folio in the page cache holds the cache's
 * reference), or, when the page cache has none, alloc_hugetlb_folio() (may
 * sleep) and hugetlb_add_to_page_cache() (the cache's reference and the
 * caller's) — mm/hugetlb.c hugetlb_no_page(), mm/filemap.c.
 */
function* hugetlbFolioFor(ctx: Ctx, vma: Vma, haddr: number, size: number): KGen<Folio | null> {
  const file = vma.file;
  if (!file) return null;
  const idx = vma.pgoff + Math.floor((haddr - vma.start) / ctx.k.config.PAGE_SIZE);
  // The reference taken commutes with every other reference count change and read but the
  // put that ends at zero, which only follows filemap_remove_folio(), a write of the page cache
  // this step also writes: the page cache is footprint enough. (Naming the folio too is sound
  // but costs arm64-4k gen-gup-fault-hugetlb 31,179 executions instead of 3,920.) So the
  // footprint audit is not asserted for this one increment.
  yield ctx.step(
    () => `filemap_lock_hugetlb_folio(${file.id}, ${idx})`,
    [file.pageCacheObj, FOLIO_ALLOC],
  );
  const found = file.folioAt(idx);
  if (found) {
    if (found.index !== idx) return null;
    found.refcount++;
    return found;
  }
  ctx.mightSleep('alloc_hugetlb_folio()');
  const pages = size / ctx.k.config.PAGE_SIZE;
  const folio = ctx.k.createFolio(`hugetlb ${file.id}@${idx}`, Math.log2(pages), file, idx);
  folio.refcount++; // the page cache's (createFolio()) and the fault's
  return folio;
}

/**
 * hugetlb_no_page() — mm/hugetlb.c (v6.6), shared mapping: find (or allocate
 * and add) the folio in the hugetlbfs page cache and lock it (looking again if
 * truncation removed it meanwhile, as __filemap_get_folio(FGP_LOCK) does),
 * take the huge ptl, recheck the entry is still none, map the folio (the
 * lookup's reference becomes the mapping's), unlock.
 */
function* hugetlbNoPage(
  ctx: Ctx,
  vma: Vma,
  haddr: number,
  size: number,
  ptep: PtePtr,
): KGen<VmFault> {
  const mm = vma.mm;
  let folio: Folio | null;
  for (;;) {
    folio = yield* hugetlbFolioFor(ctx, vma, haddr, size);
    if (!folio) return 'VM_FAULT_SIGBUS';
    yield* ctx.call('folio_lock', downWrite(ctx, folio.lock));
    // folio->mapping is only cleared under the folio lock we now hold: read with no step of its own.
    if (vma.file?.pageCache.get(folio.index) === folio) break;
    yield* upWrite(ctx, folio.lock);
    yield* folioPut(ctx, folio);
  }
  const ptl = hugePteLockptr(ctx, mm, size, ptep);
  yield* ctx.call('huge_pte_lock', spinLock(ctx, ptl));
  const now = yield* hugePtepGet(ctx, mm, size, ptep);
  const mapped = hugePteNone(ctx, size, now);
  if (mapped) {
    yield* ctx.call('set_huge_pte_at', setHugePteAt(ctx, mm, size, ptep, folio, vma.flags.shared));
    // hugetlb_add_file_rmap(): the reference the lookup took stays with the mapping.
    assertEffectWrites(ctx, folio.refsObj, 'hugetlb_add_file_rmap()');
    folio.mapcount++;
  }
  yield* spinUnlock(ctx, ptl);
  yield* upWrite(ctx, folio.lock);
  // backout: the entry changed under us; the lookup's reference goes.
  if (!mapped) yield* folioPut(ctx, folio);
  return 0;
}

/**
 * hugetlb_fault() — mm/hugetlb.c (v6.6): huge_pte_alloc() the entry for the
 * huge page (NULL only on OOM), read it, and map the page if it is none.
 * Called with mmap_lock held for read.
 */
export function* hugetlbFault(ctx: Ctx, vma: Vma, addr: number): KGen<VmFault> {
  return yield* ctx.call('hugetlb_fault', hugetlbFaultBody(ctx, vma, addr));
}

/** The body of hugetlbFault(). */
function* hugetlbFaultBody(ctx: Ctx, vma: Vma, addr: number): KGen<VmFault> {
  const mm = vma.mm;
  const size = hugePageSize(ctx, vma);
  const haddr = addr - (addr % size);
  const ptep = yield* ctx.call('huge_pte_alloc', ctx.k.arch.hugePteAlloc(ctx, mm, haddr, size));
  if (!ptep) return 'VM_FAULT_OOM';
  const entry = yield* hugePtepGet(ctx, mm, size, ptep);
  if (hugePteNone(ctx, size, entry))
    return yield* ctx.call('hugetlb_no_page', hugetlbNoPage(ctx, vma, haddr, size, ptep));
  // Present already: a read fault has nothing more to do (young/dirty updates not modelled).
  return 0;
}

/**
 * hugetlb_follow_page_mask() — mm/hugetlb.c (v6.6), reached from
 * follow_page_mask() for a hugetlb vma: hugetlb_walk() = huge_pte_offset(),
 * then the entry under huge_pte_lock(), grabbing the page if present.
 */
export function* hugetlbFollowPageMask(ctx: Ctx, vma: Vma, addr: number): KGen<Folio | null> {
  return yield* ctx.call('hugetlb_follow_page_mask', hugetlbFollowPageMaskBody(ctx, vma, addr));
}

/** The body of hugetlbFollowPageMask(). */
function* hugetlbFollowPageMaskBody(ctx: Ctx, vma: Vma, addr: number): KGen<Folio | null> {
  const mm = vma.mm;
  const a = ctx.k.arch;
  const size = hugePageSize(ctx, vma);
  const haddr = addr - (addr % size);
  const ptep = yield* ctx.call(
    'hugetlb_walk',
    ctx.call('huge_pte_offset', a.hugePteOffset(ctx, mm, haddr, size)),
  );
  if (!ptep) return null;
  const ptl = hugePteLockptr(ctx, mm, size, ptep);
  yield* ctx.call('huge_pte_lock', spinLock(ctx, ptl));
  const entry = yield* hugePtepGet(ctx, mm, size, ptep);
  let got: Folio | null = null;
  if (hugePtePresent(ctx, size, entry)) {
    const folio = ctx.k.folioOf(a.ptePfn(entry));
    // try_grab_folio() cannot fail here: the ptl is held and the entry is present.
    if (folio && (yield* tryGrabFolio(ctx, folio))) got = folio;
  }
  yield* spinUnlock(ctx, ptl);
  return got;
}

/**
 * get_user_pages() on a hugetlb address — mm/gup.c (v6.6) __get_user_pages():
 * under mmap_lock for read, follow_page_mask() → hugetlb_follow_page_mask();
 * when nothing is mapped, faultin_page() → handle_mm_fault() → hugetlb_fault()
 * and look again (unless `fault` is false: a lookup that must not fault, as
 * follow_page() users do). The pin is dropped again at once. Returns the number
 * of pages got (0 or 1).
 */
export function* hugetlbGetUserPages(ctx: Ctx, mm: Mm, addr: number, fault: boolean): KGen<number> {
  return yield* ctx.call('get_user_pages', hugetlbGetUserPagesBody(ctx, mm, addr, fault));
}

/** The body of hugetlbGetUserPages(). */
function* hugetlbGetUserPagesBody(ctx: Ctx, mm: Mm, addr: number, fault: boolean): KGen<number> {
  yield* downRead(ctx, mm.mmapLock);
  const vma = mm.vmaAt(addr);
  let got = 0;
  if (vma?.flags.hugetlb) {
    for (let i = 0; i < MAX_RETRIES; i++) {
      const folio = yield* ctx.call('follow_page_mask', hugetlbFollowPageMask(ctx, vma, addr));
      if (folio) {
        got = 1;
        yield* folioPut(ctx, folio);
        break;
      }
      if (!fault) break;
      const r = yield* ctx.call('faultin_page', hugetlbFault(ctx, vma, addr));
      if (r !== 0) break;
    }
  }
  yield* upRead(ctx, mm.mmapLock);
  return got;
}

/**
 * __unmap_hugepage_range() — mm/hugetlb.c, from unmap_single_vma(): at exit
 * and munmap (mmap_lock held for write), and from zap_page_range_single()
 * when a hugetlbfs file is truncated (i_mmap_rwsem held, other CPUs may
 * fault the file in meanwhile). For each huge page of [start, end):
 * huge_pte_offset(), then under huge_pte_lock() read and clear what is
 * mapped and drop the folio's mapping, as the kernel does; a huge page the
 * arch maps with several contiguous PTEs is one huge_ptep_get_and_clear()
 * and one reference, never one per PTE.
 */
export function* unmapHugepageRange(
  ctx: Ctx,
  vma: Vma,
  start: number = vma.start,
  end: number = vma.end,
): KGen {
  yield* ctx.call('__unmap_hugepage_range', unmapHugepageRangeBody(ctx, vma, start, end));
}

/** The body of unmapHugepageRange(). */
function* unmapHugepageRangeBody(ctx: Ctx, vma: Vma, start: number, end: number): KGen {
  const mm = vma.mm;
  const a = ctx.k.arch;
  const size = hugePageSize(ctx, vma);
  const PMD_SIZE = pmdSize(ctx);
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  for (let base = start - (start % PMD_SIZE); base < end; base += PMD_SIZE) {
    const candidates: PtePtr[] = [];
    if (pmdLevel(ctx, size)) {
      // hugetlb_walk() = huge_pte_offset(): the pmd itself (NULL: no huge page can be there);
      // whether it maps anything is read under huge_pte_lock() below.
      const pmdp = yield* a.hugePteOffset(ctx, mm, base, size);
      if (pmdp) candidates.push(pmdp);
    } else {
      const first = yield* a.hugePteOffset(ctx, mm, base, size);
      if (!first) continue;
      const lo = Math.max(start, base);
      const hi = Math.min(end, base + PMD_SIZE);
      for (let addr = lo - (lo % size); addr < hi; addr += size)
        candidates.push({
          table: first.table,
          index: Math.floor(addr / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE,
        });
    }
    for (const ptep of candidates) {
      const ptl = hugePteLockptr(ctx, mm, size, ptep);
      yield* ctx.call('huge_pte_lock', spinLock(ctx, ptl));
      // huge_ptep_get() under the lock: an empty slot is skipped (nothing to clear).
      const cur = yield* hugePtepGet(ctx, mm, size, ptep);
      if (hugePtePresent(ctx, size, cur)) {
        const old = yield* hugePtepGetAndClear(ctx, mm, size, ptep);
        // In the clearing step, which names the folio it maps.
        const folio = hugePtePresent(ctx, size, old) ? ctx.k.folioOf(a.ptePfn(old)) : undefined;
        if (folio) folioUnmapped(ctx, folio);
      }
      // The end-state oracle, in the continuation of the last step on the entry: unmapped.
      if (pmdLevel(ctx, size)) checkZappedHugePmd(ctx, ptep.table, ptep.index);
      else checkZappedEmpty(ctx, ptep.table, ptep.index, ptep.index + size / PAGE_SIZE);
      yield* spinUnlock(ctx, ptl);
    }
  }
}
