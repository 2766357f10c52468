/**
 * arm and arm64 PTE table allocation and freeing (v6.6). Both use the generic
 * one-table-per-page scheme (pgtable_t is a struct page *) and the generic
 * pte_free_defer() (call_rcu on the page's rcu_head). What is arm's own:
 *
 * - the classic MMU's PTE page is two tables in one page: 512 Linux ptes, then
 *   the 512 hardware ptes the MMU walks (PTE_HWTABLE_OFF), which
 *   clean_pte_table() writes back to memory (arch/arm/include/asm/pgalloc.h);
 * - __pte_free_tlb() runs pagetable_pte_dtor() itself and hands the page to
 *   tlb_remove_ptdesc(); __tlb_remove_table() is then a plain
 *   free_page_and_swap_cache() (arch/arm/include/asm/tlb.h,
 *   arch/arm64/include/asm/tlb.h). Without MMU_GATHER_RCU_TABLE_FREE (classic)
 *   tlb_remove_table() is tlb_remove_page(): the table goes with the data pages
 *   after the TLB flush.
 */
import {
  type ArchConfig,
  type Ctx,
  GenericArch,
  type KGen,
  type Mm,
  type MmuGather,
  ModelError,
  pageObj,
  Tag,
  tlbRemoveTable,
  useEncoding,
} from '@ptlab/core';
import { type ArmConfig, armConfigOf } from './arm-configs.js';
import { type ArmFormat, formatOf } from './arm-pgtable.js';

/** arm's page-table allocator over the generic one, with the arm/arm64 entry format. */
export class ArmPgalloc extends GenericArch {
  readonly arm: ArmConfig;
  readonly fmt: ArmFormat;

  constructor(config: ArchConfig, variant?: string) {
    super(config, variant);
    const arm = armConfigOf(config);
    if (!arm)
      throw new ModelError('arch-arm', `${config.id}: not an arm config (no mmu/cacheVivt)`);
    this.arm = arm;
    this.fmt = formatOf(arm.mmu);
    useEncoding(this, this.fmt);
  }

  // --- entry encoding ---

  /** Words of the hardware half of a classic PTE page (PTE_HWTABLE_PTRS), 0 elsewhere. */
  get hwTableWords(): number {
    return this.arm.mmu === 'classic' ? this.config.PTRS_PER_PTE : 0;
  }

  /**
   * clean_pte_table() — arch/arm/include/asm/pgalloc.h: the hardware tables
   * (second half of a classic PTE page) are zeroed and cleaned to memory. The
   * model tags them arch side data: a walker indexing Linux ptes never meets
   * them, and one that did would be reading a word that is not a Linux pte.
   */
  protected cleanPteTable(ctx: Ctx, pa: number): void {
    const n = this.hwTableWords;
    if (n === 0) return;
    ctx.k.mem.fill(pa + this.config.PTRS_PER_PTE * ctx.k.mem.wordSize, n, 0, Tag.aux);
  }

  /**
   * pte_alloc_one() — arch/arm/include/asm/pgalloc.h: __pte_alloc_one(mm,
   * GFP_PGTABLE_USER | PGTABLE_HIGHMEM), then clean_pte_table() if the page is
   * not highmem; arm64 uses the generic __pte_alloc_one().
   */
  override *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    const pa = yield* super.pteAllocOne(ctx, mm);
    if (pa !== null) this.cleanPteTable(ctx, pa);
    return pa;
  }

  /** pte_alloc_one_kernel() — arch/arm/include/asm/pgalloc.h: __pte_alloc_one_kernel() + clean_pte_table(). */
  override *pteAllocOneKernel(ctx: Ctx, mm: Mm): KGen<number | null> {
    const pa = yield* super.pteAllocOneKernel(ctx, mm);
    if (pa !== null) this.cleanPteTable(ctx, pa);
    return pa;
  }

  /**
   * __pte_free_tlb() — arch/arm/include/asm/tlb.h, arch/arm64/include/asm/tlb.h
   * (v6.6): pagetable_pte_dtor(), (classic MMU: widen the flush range to both
   * 1 MB halves — the model flushes whole mms), tlb_remove_ptdesc() →
   * tlb_remove_table().
   */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `pagetable_pte_dtor(pfn ${pfn})`, pageObj(pfn));
    this.pagetablePteDtor(ctx, ctx.k.pages.meta(ctx, pfn, '__pte_free_tlb()'));
    yield* tlbRemoveTable(ctx, tlb, pa);
  }

  /**
   * __tlb_remove_table() — arch/arm/include/asm/tlb.h, arch/arm64/include/asm/tlb.h
   * (v6.6): free_page_and_swap_cache(); the dtor already ran in __pte_free_tlb().
   */
  override *tlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(
      () => `free_page_and_swap_cache(pfn ${pfn})`,
      ctx.k.pages.freeFootprint(ctx, pfn),
    );
    ctx.k.pt.released(ctx, pa);
    ctx.k.pages.freeNow(ctx, pfn);
  }
}
