import {
  type ArchConfig,
  type ArchPort,
  type Ctx,
  type KGen,
  type Mm,
  ModelError,
  type PtePtr,
  type Vma,
} from '@ptlab/core';
import { ARM_CONFIGS } from './arm-configs.js';
import { type AdjustPteFn, updateMmuCache } from './arm-fault.js';
import { ARM64_CONT_PTES, arm64HugePteOffset } from './arm-hugetlb.js';
import { ArmPgalloc } from './arm-pgalloc.js';
import {
  ARM_MAINLINE,
  ARM_VARIANT_POLICIES,
  ARM_VARIANTS,
  type ArmPolicy,
  type ArmVariantId,
} from './arm-variants.js';

/**
 * arm (32-bit, classic and LPAE MMUs) and arm64. Both use the generic
 * one-table-per-page pgtable_t and the generic pte_free_defer(); what is
 * theirs: the entry formats (arm-pgtable.ts), the classic PTE page holding
 * Linux and hardware ptes and __pte_free_tlb() running the dtor itself
 * (arm-pgalloc.ts), the VIVT cache-coherency walk adjust_pte() (32-bit arm,
 * arm-fault.ts) and arm64's contiguous-PTE hugetlb pages (arm-hugetlb.ts).
 */
export class ArmArch extends ArmPgalloc {
  override readonly hugetlbPteSizes: readonly number[];
  readonly policy: ArmPolicy;
  /**
   * adjust_pte() — arch/arm/mm/fault-armv.c (32-bit arm only). v6.6 compiles
   * it for __LINUX_ARM_ARCH__ < 6 (VIVT caches), where make_coherent() calls
   * it; the port offers it on arm-lpae too, the one arm config where the pmd
   * can change under it (THP retract), see docs/arch/arm.md.
   */
  readonly adjustPte?: AdjustPteFn;
  /** update_mmu_cache() — arch/arm/mm/fault-armv.c: make_coherent() on VIVT caches only. */
  readonly updateMmuCache?: (ctx: Ctx, vma: Vma, addr: number, ptep: PtePtr) => KGen;

  constructor(config: ArchConfig, variant?: string, policy: ArmPolicy = ARM_MAINLINE) {
    super(config, variant);
    this.policy = policy;
    this.hugetlbPteSizes = this.arm.mmu === 'arm64' ? [ARM64_CONT_PTES * config.PAGE_SIZE] : [];
    if (this.arm.mmu !== 'arm64') {
      const adjust: AdjustPteFn = (ctx, vma, addr) => this.policy.adjustPte(this, ctx, vma, addr);
      this.adjustPte = adjust;
      if (this.arm.cacheVivt)
        this.updateMmuCache = (ctx, vma, addr, ptep) =>
          updateMmuCache(this, adjust, ctx, vma, addr, ptep);
    }
  }

  /** huge_pte_alloc() — arch/arm64/mm/hugetlbpage.c (32-bit arm: generic, PMD level). */
  override *hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    if (this.arm.mmu !== 'arm64') return yield* super.hugePteAlloc(ctx, mm, addr, size);
    return yield* ctx.call('huge_pte_alloc', this.policy.hugePteAlloc(ctx, mm, addr, size));
  }

  /** huge_pte_offset() — arch/arm64/mm/hugetlbpage.c (32-bit arm: generic). */
  override *hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    if (this.arm.mmu !== 'arm64') return yield* super.hugePteOffset(ctx, mm, addr, size);
    return yield* ctx.call('huge_pte_offset', arm64HugePteOffset(ctx, mm, addr, size));
  }
}

function policyOf(variant: string | undefined): ArmPolicy {
  if (variant === undefined) return ARM_MAINLINE;
  const p = ARM_VARIANT_POLICIES[variant as ArmVariantId];
  if (!p)
    throw new ModelError(
      'arch-arm',
      `unknown variant "${variant}" (known: ${ARM_VARIANTS.map((v) => v.id).join(', ')})`,
    );
  return p;
}

/** The arm ArchPort: arm-classic, arm-lpae and arm64-4k, with the seeds' arm/arm64 variants. */
export const arm: ArchPort = {
  arch: 'arm',
  configs: ARM_CONFIGS,
  variants: ARM_VARIANTS,
  create(config: ArchConfig, variant?: string) {
    return new ArmArch(config, variant, policyOf(variant));
  },
};
