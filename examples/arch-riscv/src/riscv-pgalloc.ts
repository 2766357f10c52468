/**
 * riscv PTE table freeing through the mmu_gather — arch/riscv/include/asm/pgalloc.h
 * and tlb.h (v6.9-v6.13). Allocation, pte_free() and pte_free_defer() are the
 * generic ones (include/asm-generic/pgalloc.h, mm/pgtable-generic.c), so they
 * come from GenericArch unchanged.
 *
 * What is riscv's own: __pte_free_tlb() runs the ptdesc destructor at once and
 * then hands the table to the mmu_gather by riscv_tlb_remove_ptdesc():
 * tlb_remove_page_ptdesc() (free after the TLB flush) where remote flushes are
 * IPIs, tlb_remove_ptdesc() (RCU-freed batch, MMU_GATHER_RCU_TABLE_FREE) where
 * they go through SBI firmware and so do not wait for IRQ-disabled walkers.
 * __tlb_remove_table() is then a bare free_page_and_swap_cache(): the
 * destructor already ran.
 */
import {
  type Ctx,
  type KGen,
  type MmuGather,
  type PageMeta,
  pageObj,
  tlbRemoveTable,
} from '@ptlab/core';

/** pagetable_pte_dtor() as the port's base class runs it. */
export type PteDtor = (ctx: Ctx, page: PageMeta) => void;

/** __pte_free_tlb() — arch/riscv/include/asm/pgalloc.h: pagetable_pte_dtor(), then riscv_tlb_remove_ptdesc(). */
export function* riscvPteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number, dtor: PteDtor): KGen {
  const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
  yield ctx.step(() => `pagetable_pte_dtor(pfn ${pfn})`, pageObj(pfn));
  dtor(ctx, ctx.k.pages.meta(ctx, pfn, '__pte_free_tlb()'));
  yield* riscvTlbRemovePtdesc(ctx, tlb, pa);
}

/** riscv_tlb_remove_ptdesc() — arch/riscv/include/asm/pgalloc.h: IPI flushes free after the flush, SBI flushes by RCU. */
export function* riscvTlbRemovePtdesc(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
  if (ctx.k.config.tlbFlushIpi) {
    // tlb_remove_page_ptdesc() — include/asm-generic/tlb.h: freed by tlb_finish_mmu() after the flush IPIs.
    tlb.freedTables = true;
    tlb.pages.push(pa);
    return;
  }
  // tlb_remove_ptdesc() → tlb_remove_table() — include/asm-generic/tlb.h, mm/mmu_gather.c
  yield* tlbRemoveTable(ctx, tlb, pa);
}

/** __tlb_remove_table() — arch/riscv/include/asm/tlb.h: free_page_and_swap_cache(table), no destructor. */
export function* riscvTlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
  const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
  yield ctx.step(() => `free_page_and_swap_cache(pfn ${pfn})`, ctx.k.pages.freeFootprint(ctx, pfn));
  ctx.k.pages.meta(ctx, pfn, '__tlb_remove_table()');
  ctx.k.pt.released(ctx, pa);
  ctx.k.pages.freeNow(ctx, pfn);
}
