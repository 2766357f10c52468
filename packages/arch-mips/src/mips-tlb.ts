/**
 * update_mmu_cache() on MIPS — arch/mips/include/asm/pgtable.h and
 * arch/mips/mm/tlb-r4k.c (v6.6): after a fault installs a PTE, preload the
 * TLB. update_mmu_cache_range() reads *ptep from the caller and calls
 * __update_tlb(vma, address, pte), which walks the page tables again and maps
 * the even/odd PTE pair with its own pte_offset_map() (the caller holds the
 * ptl and pte_offset_map_lock()'s RCU section, so the table cannot change),
 * then pte_unmap()s it — "mips: add pte_unmap() to balance pte_offset_map()",
 * the replacement Hugh Dickins sent after the v2 "update_mmu_cache() can
 * replace __update_tlb()" broke MIPS.
 *
 * Not modelled: the CP0 registers and hazards; the TLB write is a fill of the
 * CPU's modelled TLB with each present entry of the pair.
 */
import {
  bug,
  type Ctx,
  type KGen,
  localIrqRestore,
  localIrqSave,
  type PmdPtr,
  type PtePtr,
  pmdOffset,
  pmdpGet,
  pmdSize,
  pteOffsetMap,
  ptepGet,
  pteUnmap,
  tlbFill,
  type Vma,
} from '@ptlab/core';

/** __update_tlb() — arch/mips/mm/tlb-r4k.c. `balanced`: with the pte_unmap() of the fix. */
export function* updateTlb(ctx: Ctx, vma: Vma, address: number, balanced: boolean): KGen {
  const a = ctx.k.arch;
  const mm = vma.mm;
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  // Handle debugger faulting in for debugee.
  if (ctx.cpu.mm !== mm) return;
  yield* localIrqSave(ctx);
  // address &= (PAGE_MASK << 1): the even page of the pair one TLB entry maps.
  const even = address - (address % (2 * PAGE_SIZE));
  const pmdp = pmdOffset(ctx, mm, even);
  // CONFIG_MIPS_HUGE_TLB_SUPPORT: if (pmd_huge(*pmdp)) write the huge entry from the pmd.
  const pmd = ctx.k.config.thp ? yield* pmdpGet(ctx, pmdp) : null;
  if (pmd && a.pmdTransHuge(pmd.raw)) {
    const pfn = a.ptePfn(pmd.raw) + Math.floor((address % pmdSize(ctx)) / PAGE_SIZE);
    tlbFill(ctx, mm, address, { pfn, entry: pmd.raw, src: pmdp, huge: true });
  } else {
    const ptep = yield* pteOffsetMap(ctx, pmdp, even);
    // "update_mmu_cache() is called between pte_offset_map_lock() and
    // pte_unmap_unlock(), so we can assume that ptep is not NULL here: and what
    // should be done below if it were NULL?" — the kernel would oops.
    if (!ptep)
      bug(
        'use-after-free',
        `${ctx.cpu.name} ${ctx.fn}: NULL pointer dereference: pte_offset_map() failed inside update_mmu_cache(), which runs under the caller's ptl and pte_offset_map_lock()`,
      );
    // write_c0_entrylo0(*ptep++); write_c0_entrylo1(*ptep) (XPA: pte_high, and pte_low's PFNX)
    const pair: PtePtr[] = [ptep, { table: ptep.table, index: ptep.index + 1 }];
    for (const [i, p] of pair.entries()) {
      const pte = yield* ptepGet(ctx, p, i === 0 ? 'EntryLo0 = *ptep' : 'EntryLo1 = *(ptep + 1)');
      if (!a.pteNone(pte) && a.ptePresent(pte))
        tlbFill(ctx, mm, even + i * PAGE_SIZE, {
          pfn: a.ptePfn(pte),
          entry: pte,
          src: p,
          huge: false,
        });
    }
    // if (ptemap) pte_unmap(ptemap);
    if (balanced) yield* pteUnmap(ctx, ptep);
  }
  yield* localIrqRestore(ctx);
}

/**
 * update_mmu_cache_pmd() — arch/mips/include/asm/pgtable.h (v6.6): pte =
 * *(pte_t *)pmdp; __update_tlb(vma, address, pte). do_set_pmd() calls it with
 * the pmd lock held, so __update_tlb() meets the huge pmd it just set.
 */
export function* updateMmuCachePmd(
  ctx: Ctx,
  vma: Vma,
  address: number,
  pmdp: PmdPtr,
  balanced: boolean,
): KGen {
  yield* pmdpGet(ctx, pmdp); // pte = *(pte_t *)pmdp
  yield* ctx.call('__update_tlb', updateTlb(ctx, vma, address, balanced));
}

/** update_mmu_cache_range() — arch/mips/include/asm/pgtable.h: pte = *ptep; __update_tlb(vma, address, pte). */
export function* updateMmuCache(
  ctx: Ctx,
  vma: Vma,
  address: number,
  ptep: PtePtr,
  balanced: boolean,
): KGen {
  yield* ptepGet(ctx, ptep, 'update_mmu_cache(): pte = *ptep');
  yield* ctx.call('__update_tlb', updateTlb(ctx, vma, address, balanced));
}
