import {
  type ArchConfig,
  type ArchPort,
  type Ctx,
  GenericArch,
  type KGen,
  type PmdPtr,
  type PtePtr,
  type Vma,
} from '@ptlab/core';
import { MIPS_CONFIGS } from './mips-configs.js';
import {
  INVALID_PTE_TABLE,
  type MipsEncoding,
  R4K64_ENCODING,
  XPA_ENCODING,
} from './mips-pgtable.js';
import { updateMmuCache, updateMmuCachePmd } from './mips-tlb.js';
import { MIPS_UPDATE_TLB_UNBALANCED, MIPS_VARIANTS } from './mips-variants.js';

/**
 * MIPS uses the generic page-table code: generic pte_alloc_one()/pte_free(),
 * the generic pte_free_defer() (THP on mips64), no MMU_GATHER_TABLE_FREE (a
 * torn-down table is freed with the data pages after the IPI TLB flush). Its
 * own: pte_none() ignores _PAGE_GLOBAL (and on XPA looks at pte_high only), an
 * empty pmd points at invalid_pte_table instead of being 0, and
 * update_mmu_cache() preloads the TLB from the tables.
 */
export class MipsArch extends GenericArch {
  readonly enc: MipsEncoding;
  /** pmd_none() is "points at invalid_pte_table"; pmd_clear()/pmd_init() store it. */
  override readonly pmdEmpty: number = INVALID_PTE_TABLE;

  constructor(config: ArchConfig, variant?: string) {
    super(config, variant);
    this.enc = config.id === 'mips32-xpa' ? XPA_ENCODING : R4K64_ENCODING;
  }

  /** pte_none() — arch/mips/include/asm/pgtable.h */
  override pteNone(pte: number): boolean {
    return this.enc.pteNone(pte);
  }
  /** pte_present() — arch/mips/include/asm/pgtable.h */
  override ptePresent(pte: number): boolean {
    return this.enc.ptePresent(pte);
  }
  /** pte_pfn() — pgtable-32.h / pgtable-64.h */
  override ptePfn(pte: number): number {
    return this.enc.ptePfn(pte);
  }
  /** pfn_pte() — pgtable-32.h / pgtable-64.h */
  override mkPte(pfn: number, prot: { write: boolean }): number {
    return this.enc.mkPte(pfn, prot.write);
  }
  /** pmd_none() — pmd_val(pmd) == (unsigned long) invalid_pte_table */
  override pmdNone(pmd: number): boolean {
    return pmd === INVALID_PTE_TABLE;
  }
  /** pmd_present() — a huge pmd's _PAGE_PRESENT, else "not invalid_pte_table" */
  override pmdPresent(pmd: number): boolean {
    if (this.enc.pmdTransHuge(pmd)) return this.enc.ptePresent(pmd);
    return pmd !== INVALID_PTE_TABLE;
  }
  override pmdTransHuge(pmd: number): boolean {
    return this.enc.pmdTransHuge(pmd);
  }
  /** pmd_bad() — a huge pmd is not bad; else pmd_val(pmd) & ~PAGE_MASK */
  override pmdBad(pmd: number): boolean {
    if (this.enc.pmdTransHuge(pmd)) return false;
    return !this.pmdNone(pmd) && pmd % this.config.PAGE_SIZE !== 0;
  }
  /** pmd_populate() — set_pmd(pmd, __pmd((unsigned long)page_address(pte))) */
  override mkPmdTable(pa: number): number {
    return pa;
  }
  /** pmd_page_vaddr() — pmd_val(pmd) */
  override pmdTablePa(pmd: number): number {
    return pmd;
  }
  override mkPmdHuge(pfn: number): number {
    return this.enc.mkPmdHuge(pfn);
  }

  /** update_mmu_cache() → __update_tlb() — arch/mips/mm/tlb-r4k.c */
  *updateMmuCache(ctx: Ctx, vma: Vma, addr: number, ptep: PtePtr): KGen {
    yield* updateMmuCache(ctx, vma, addr, ptep, this.variant !== MIPS_UPDATE_TLB_UNBALANCED);
  }

  /** update_mmu_cache_pmd() → __update_tlb() — arch/mips/include/asm/pgtable.h, arch/mips/mm/tlb-r4k.c */
  *updateMmuCachePmd(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen {
    yield* updateMmuCachePmd(ctx, vma, addr, pmdp, this.variant !== MIPS_UPDATE_TLB_UNBALANCED);
  }
}

const VARIANT_IDS = MIPS_VARIANTS.map((v) => v.id);

/** The mips ArchPort: mips64 and mips32 with XPA. */
export const mips: ArchPort = {
  arch: 'mips',
  configs: MIPS_CONFIGS,
  variants: MIPS_VARIANTS,
  create(config: ArchConfig, variant?: string) {
    if (variant !== undefined && !VARIANT_IDS.includes(variant))
      throw new Error(`unknown mips variant ${variant}`);
    if (!MIPS_CONFIGS.some((c) => c.id === config.id))
      throw new Error(`unknown mips config ${config.id}`);
    return new MipsArch(config, variant);
  },
};
