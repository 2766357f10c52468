/**
 * arm cache coherency for shared writable mappings — arch/arm/mm/fault-armv.c
 * (v6.6). On a VIVT D-cache two user mappings of one page alias in the cache,
 * so update_mmu_cache() (called with the faulting pte's ptl held) runs
 * make_coherent(): for every other shared mapping of the page in the same mm,
 * adjust_pte() maps that mapping's PTE table and, if the page is present
 * there, makes the pte uncacheable (shared_pte_mask). adjust_pte() runs while
 * another table is mapped and locked, so it takes the other table's ptl with
 * spin_lock_nested() — and only with split PTE ptlocks: otherwise both are
 * mm->page_table_lock, which the caller already holds (do_pte_lock()).
 *
 * "[PATCH v3 03/13] arm: adjust_pte() use pte_offset_map_nolock()": the ptl
 * must be that of exactly the table pte_offset_map() mapped; pte_lockptr(mm,
 * pmd) "is not so tightly coupled, because it dereferences the pmd pointer
 * again" (the v6.5 form is the arm-adjust-pte-lockptr variant).
 */
import {
  type AddressSpace,
  type Ctx,
  flushTlbRange,
  type KGen,
  localIrqRestore,
  localIrqSave,
  type PtePtr,
  pmdOffset,
  pmdpGet,
  pteOffsetMapNolock,
  ptepGet,
  ptepGetUnderPtl,
  pteUnmap,
  ptlOfTable,
  SINGLE_DEPTH_NESTING,
  type SpinLock,
  setPteAt,
  spinLock,
  spinUnlock,
  type Vma,
} from '@ptlab/core';
import type { ArmPgalloc } from './arm-pgalloc.js';

/** adjust_pte() as the port implements it (the v6.6 form, or a historical variant's). */
export type AdjustPteFn = (ctx: Ctx, vma: Vma, addr: number) => KGen<boolean>;

/**
 * do_pte_lock() — arch/arm/mm/fault-armv.c: spin_lock_nested(ptl,
 * SINGLE_DEPTH_NESTING) with split PTE ptlocks; otherwise nothing, the caller
 * holds mm->page_table_lock already.
 */
export function* doPteLock(ctx: Ctx, ptl: SpinLock): KGen {
  if (ctx.k.config.splitPtePtlocks) yield* spinLock(ctx, ptl, SINGLE_DEPTH_NESTING);
}

/** do_pte_unlock() — arch/arm/mm/fault-armv.c */
export function* doPteUnlock(ctx: Ctx, ptl: SpinLock): KGen {
  if (ctx.k.config.splitPtePtlocks) yield* spinUnlock(ctx, ptl);
}

/**
 * do_adjust_pte() — arch/arm/mm/fault-armv.c: entry = *ptep under `ptl`; if
 * present and not yet of shared_pte_mask's memory type, flush_cache_page() /
 * outer_flush_range() (cache maintenance, not modelled), rewrite the memory
 * type with set_pte_at() and flush_tlb_page(). Returns pte_present(entry).
 */
export function* doAdjustPte(
  a: ArmPgalloc,
  ctx: Ctx,
  vma: Vma,
  addr: number,
  ptep: PtePtr,
  ptl: SpinLock,
): KGen<boolean> {
  const entry = yield* ptepGetUnderPtl(ctx, ptep, ptl, 'do_adjust_pte(): entry = *ptep');
  const present = !a.pteNone(entry) && a.ptePresent(entry);
  if (present && a.fmt.pteMemoryType(entry) !== a.fmt.sharedPteMask) {
    // The same page with another memory type: no rmap change.
    yield* setPteAt(ctx, vma.mm, ptep, a.fmt.pteWithMemoryType(entry, a.fmt.sharedPteMask), false);
    yield* ctx.call(
      'flush_tlb_page',
      flushTlbRange(ctx, vma.mm, addr, addr + ctx.k.config.PAGE_SIZE),
    );
  }
  return present;
}

/**
 * adjust_pte() — arch/arm/mm/fault-armv.c (v6.6): walk to the pmd
 * (pmd_none_or_clear_bad(): none or bad → 0), pte_offset_map_nolock() for
 * the pte and the lock of exactly that table (NULL → 0), do_pte_lock(),
 * do_adjust_pte(), do_pte_unlock(), pte_unmap().
 */
export function* adjustPte(a: ArmPgalloc, ctx: Ctx, vma: Vma, addr: number): KGen<boolean> {
  const mm = vma.mm;
  const pmdp = pmdOffset(ctx, mm, addr);
  // pgd/p4d/pud are folded; pmd_none_or_clear_bad(pmd) (pmd_clear_bad() itself is not modelled).
  const pmd = yield* pmdpGet(ctx, pmdp);
  if (a.pmdNone(pmd.raw) || a.pmdBad(pmd.raw) || a.pmdTransHuge(pmd.raw)) return false;
  const m = yield* pteOffsetMapNolock(ctx, mm, pmdp, addr);
  if (!m) return false;
  yield* doPteLock(ctx, m.ptl);
  const ret = yield* ctx.call('do_adjust_pte', doAdjustPte(a, ctx, vma, addr, m.pte, m.ptl));
  yield* doPteUnlock(ctx, m.ptl);
  yield* pteUnmap(ctx, m.pte);
  return ret;
}

/**
 * make_coherent() — arch/arm/mm/fault-armv.c: under flush_dcache_mmap_lock()
 * (xa_lock_irq(&mapping->i_pages): interrupts off; the xa_lock itself is not
 * modelled), adjust_pte() every other VM_MAYSHARE vma of this mm mapping the
 * page; if any alias was present, do_adjust_pte() our own pte too.
 */
export function* makeCoherent(
  a: ArmPgalloc,
  adjust: AdjustPteFn,
  ctx: Ctx,
  mapping: AddressSpace,
  vma: Vma,
  addr: number,
  ptep: PtePtr,
): KGen {
  const mm = vma.mm;
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  const pgoff = vma.pgoff + Math.floor((addr - vma.start) / PAGE_SIZE);
  let aliases = 0;
  yield* localIrqSave(ctx);
  // vma_interval_tree_foreach(mpnt, &mapping->i_mmap, pgoff, pgoff)
  for (const mpnt of [...mapping.iMmap]) {
    const pages = Math.floor((mpnt.end - mpnt.start) / PAGE_SIZE);
    if (pgoff < mpnt.pgoff || pgoff >= mpnt.pgoff + pages) continue;
    // "If this VMA is not in our MM, we can ignore it. Note that we
    // intentionally mask out the VMA that we are fixing up."
    if (mpnt.mm !== mm || mpnt === vma) continue;
    if (!mpnt.flags.shared) continue;
    const offset = (pgoff - mpnt.pgoff) * PAGE_SIZE;
    if (yield* ctx.call('adjust_pte', adjust(ctx, mpnt, mpnt.start + offset))) aliases++;
  }
  yield* localIrqRestore(ctx);
  if (aliases) {
    // The caller holds the ptl of our own table.
    const t = ctx.k.pt.deref(ctx, ptep.table, 'make_coherent()');
    const ptl = ptlOfTable(ctx, mm, t);
    yield* ctx.call('do_adjust_pte', doAdjustPte(a, ctx, vma, addr, ptep, ptl));
  }
}

/**
 * update_mmu_cache_range() — arch/arm/mm/fault-armv.c (v6.6), called with the
 * pte's ptl held after a PTE was installed: for a page-cache page on a VIVT
 * cache, make_coherent() (the PG_dcache_clean flush and the VIPT I-cache
 * flush are cache maintenance, not modelled).
 */
export function* updateMmuCache(
  a: ArmPgalloc,
  adjust: AdjustPteFn,
  ctx: Ctx,
  vma: Vma,
  addr: number,
  ptep: PtePtr,
): KGen {
  const pte = yield* ptepGet(ctx, ptep, 'pte_pfn(*ptep)');
  if (a.pteNone(pte)) return;
  const folio = ctx.k.folioOf(a.ptePfn(pte));
  // !pfn_valid(pfn) / the zero page / an anonymous page: nothing to make coherent.
  const mapping = folio?.mapping;
  if (!mapping) return;
  if (a.arm.cacheVivt)
    yield* ctx.call('make_coherent', makeCoherent(a, adjust, ctx, mapping, vma, addr, ptep));
}
