import {
  type ArchConfig,
  type ArchPort,
  type Ctx,
  GenericArch,
  type KGen,
  type Mm,
  type MmuGather,
  ModelError,
  type PtePtr,
} from '@ptlab/core';
import { RISCV_CONFIGS } from './riscv-configs.js';
import { napotSizes, riscvHugePteAlloc, riscvHugePteOffset } from './riscv-hugetlb.js';
import { riscvPteFreeTlb, riscvTlbRemoveTableFree } from './riscv-pgalloc.js';
import {
  flagsOf,
  PAGE_READ,
  PAGE_WRITE,
  pageValToPfn,
  pfnEntry,
  RISCV_PAGE,
} from './riscv-pgtable.js';
import { RISCV_VARIANTS } from './riscv-variants.js';

const { PRESENT, PROT_NONE, LEAF, TABLE } = RISCV_PAGE;

/**
 * riscv64 as an ArchImpl. Everything riscv takes from generic code
 * (pte_alloc_one(), pte_free(), pte_free_defer(), pte_alloc_one_kernel(),
 * tlb_remove_table_one()) comes from GenericArch, and riscv has none of the
 * optional hooks (pmdp_collapse_flush() is core's generic one); what is
 * overridden here is what arch/riscv overrides: the entry encoding,
 * __pte_free_tlb()/__tlb_remove_table(), and huge_pte_alloc()/huge_pte_offset().
 */
export class RiscvArch extends GenericArch {
  /** for_each_napot_order(): 64K at PTE level. */
  override readonly hugetlbPteSizes: readonly number[];

  constructor(config: ArchConfig, variant?: string) {
    super(config, variant);
    this.hugetlbPteSizes = config.hugetlbPteLevel ? napotSizes(config.PAGE_SIZE) : [];
  }

  // --- entry encoding: arch/riscv/include/asm/pgtable.h, pgtable-64.h ---

  /** pte_none() — arch/riscv/include/asm/pgtable.h: pte_val(pte) == 0 */
  override pteNone(pte: number): boolean {
    return pte === 0;
  }
  /** pte_present() — arch/riscv/include/asm/pgtable.h: pte_val(pte) & (_PAGE_PRESENT | _PAGE_PROT_NONE) */
  override ptePresent(pte: number): boolean {
    return (flagsOf(pte) & (PRESENT | PROT_NONE)) !== 0;
  }
  /** pte_pfn() — arch/riscv/include/asm/pgtable.h: __page_val_to_pfn() (NAPOT low-bit encoding not modelled) */
  override ptePfn(pte: number): number {
    return pageValToPfn(pte);
  }
  /** mk_pte()/pfn_pte() — arch/riscv/include/asm/pgtable.h, with PAGE_SHARED or PAGE_COPY as vm_page_prot */
  override mkPte(pfn: number, prot: { write: boolean }): number {
    return pfnEntry(pfn, prot.write ? PAGE_WRITE : PAGE_READ);
  }
  /** pmd_none() — arch/riscv/include/asm/pgtable.h: pmd_val(pmd) == 0 */
  override pmdNone(pmd: number): boolean {
    return pmd === 0;
  }
  /** pmd_present() — arch/riscv/include/asm/pgtable.h: with THP also _PAGE_LEAF (a splitting huge pmd stays present) */
  override pmdPresent(pmd: number): boolean {
    const mask = this.config.thp ? PRESENT | PROT_NONE | LEAF : PRESENT | PROT_NONE;
    return (flagsOf(pmd) & mask) !== 0;
  }
  /** pmd_leaf() — arch/riscv/include/asm/pgtable.h: present and any of R/W/X */
  pmdLeaf(pmd: number): boolean {
    return this.pmdPresent(pmd) && (flagsOf(pmd) & LEAF) !== 0;
  }
  /** pmd_trans_huge() — arch/riscv/include/asm/pgtable.h: pmd_leaf() */
  override pmdTransHuge(pmd: number): boolean {
    return this.pmdLeaf(pmd);
  }
  /** pmd_bad() — arch/riscv/include/asm/pgtable.h: !pmd_present() || leaf (so a huge pmd is "bad": test trans_huge first) */
  override pmdBad(pmd: number): boolean {
    return !this.pmdPresent(pmd) || (flagsOf(pmd) & LEAF) !== 0;
  }
  /** pmd_populate() — arch/riscv/include/asm/pgalloc.h: (pfn << _PAGE_PFN_SHIFT) | _PAGE_TABLE */
  override mkPmdTable(pa: number): number {
    if (pa % this.config.PAGE_SIZE !== 0)
      throw new ModelError(
        'arch-riscv',
        `pmd_populate(): table at 0x${pa.toString(16)} is not page aligned`,
      );
    return pfnEntry(pa / this.config.PAGE_SIZE, TABLE);
  }
  /** pmd_page_vaddr() — arch/riscv/include/asm/pgtable.h: pfn_to_virt(__page_val_to_pfn(pmd_val(pmd))) */
  override pmdTablePa(pmd: number): number {
    return pageValToPfn(pmd) * this.config.PAGE_SIZE;
  }
  /** mk_huge_pmd() → pfn_pmd() + pmd_mkhuge() (a no-op) — arch/riscv/include/asm/pgtable*.h, PAGE_SHARED prot */
  override mkPmdHuge(pfn: number): number {
    return pfnEntry(pfn, PAGE_WRITE);
  }

  // --- table freeing: arch/riscv/include/asm/pgalloc.h, tlb.h ---

  /** __pte_free_tlb() — arch/riscv/include/asm/pgalloc.h */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    yield* riscvPteFreeTlb(ctx, tlb, pa, (c, page) => this.pagetablePteDtor(c, page));
  }
  /** __tlb_remove_table() — arch/riscv/include/asm/tlb.h */
  override *tlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
    yield* riscvTlbRemoveTableFree(ctx, pa);
  }

  // --- hugetlb: arch/riscv/mm/hugetlbpage.c ---

  /** huge_pte_alloc() — arch/riscv/mm/hugetlbpage.c */
  override *hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    return yield* riscvHugePteAlloc(this, ctx, mm, addr, size);
  }
  /** huge_pte_offset() — arch/riscv/mm/hugetlbpage.c */
  override *hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    return yield* riscvHugePteOffset(this, ctx, mm, addr, size);
  }
}

/** The riscv ArchPort: one config, one historical variant. */
export const riscv: ArchPort = {
  arch: 'riscv',
  configs: RISCV_CONFIGS,
  variants: RISCV_VARIANTS,
  create(config: ArchConfig, variant?: string) {
    if (variant !== undefined && !RISCV_VARIANTS.some((v) => v.id === variant))
      throw new ModelError('arch-riscv', `unknown variant ${variant}`);
    return new RiscvArch(config, variant);
  },
};
