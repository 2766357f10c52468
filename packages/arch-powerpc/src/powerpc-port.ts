import {
  type ArchConfig,
  type ArchImpl,
  type ArchPort,
  type Ctx,
  type EntryEncoding,
  type KGen,
  type Mm,
  ModelError,
  type PtePtr,
  useEncoding,
} from '@ptlab/core';
import { POWERPC_CONFIGS } from './powerpc-configs.js';
import { HUGETLB_8XX_PTE_SIZES, hugePteAlloc8xx, hugePteOffset8xx } from './powerpc-hugetlb.js';
import { MAINLINE_POLICY, PowerpcPgalloc, type PteFreePolicy } from './powerpc-pgalloc.js';
import {
  assertPteLocked,
  Book3s64Encoding,
  hashPmdpCollapseFlush,
  Nohash8xxEncoding,
  radixPmdpCollapseFlush,
} from './powerpc-pgtable.js';
import {
  POWERPC_VARIANT_POLICIES,
  POWERPC_VARIANTS,
  type PowerpcVariantId,
} from './powerpc-variants.js';

/**
 * powerpc: PTE tables are fragments of a page (PTE_FRAG_NR per page:
 * book3s64 hash 64K 16, radix 64K 256, 4K pages 1), pgtable_t is a pte_t *,
 * pte_free_defer() is powerpc's own (PageActive + pte_fragment_free()), tables
 * are freed through the mmu_gather by RCU (MMU_GATHER_RCU_TABLE_FREE), and
 * book3s64 overrides pmdp_collapse_flush(). assert_pte_locked() is the
 * DEBUG_VM hook.
 */
export class PowerpcArch extends PowerpcPgalloc {
  readonly enc: EntryEncoding;
  override readonly hugetlbPteSizes: readonly number[];
  /** pmdp_collapse_flush() — book3s64 only (hash__ or radix__; the 8xx has no THP). */
  readonly pmdpCollapseFlush?: NonNullable<ArchImpl['pmdpCollapseFlush']>;

  constructor(
    config: ArchConfig,
    variant: string | undefined = undefined,
    policy: PteFreePolicy = MAINLINE_POLICY,
  ) {
    super(config, variant, policy);
    const mmu = this.consts.mmu;
    this.enc =
      mmu === '8xx'
        ? new Nohash8xxEncoding(config.PAGE_SIZE)
        : new Book3s64Encoding(this.consts, config.PAGE_SIZE);
    useEncoding(this, this.enc);
    this.hugetlbPteSizes = mmu === '8xx' ? HUGETLB_8XX_PTE_SIZES : [];
    if (mmu === 'hash') this.pmdpCollapseFlush = hashPmdpCollapseFlush;
    else if (mmu === 'radix') this.pmdpCollapseFlush = radixPmdpCollapseFlush;
  }

  // --- hooks ---
  /** assert_pte_locked() — arch/powerpc/mm/pgtable.c (CONFIG_DEBUG_VM). */
  *assertPteLocked(ctx: Ctx, mm: Mm, addr: number): KGen {
    yield* ctx.call('assert_pte_locked', assertPteLocked(ctx, mm, addr));
  }

  // --- hugetlb ---
  /** huge_pte_alloc() — arch/powerpc/mm/hugetlbpage.c: 8xx PTE-level sizes via pte_alloc_huge(). */
  override *hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    if (this.consts.mmu !== '8xx') return yield* super.hugePteAlloc(ctx, mm, addr, size);
    return yield* ctx.call('huge_pte_alloc', hugePteAlloc8xx(ctx, mm, addr, size));
  }

  /** huge_pte_offset() — arch/powerpc/mm/hugetlbpage.c: 8xx PTE-level sizes via __find_linux_pte(). */
  override *hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    if (this.consts.mmu !== '8xx') return yield* super.hugePteOffset(ctx, mm, addr, size);
    return yield* ctx.call('huge_pte_offset', hugePteOffset8xx(ctx, mm, addr, size));
  }
}

function policyOf(variant: string | undefined): PteFreePolicy {
  if (variant === undefined) return MAINLINE_POLICY;
  const p = POWERPC_VARIANT_POLICIES[variant as PowerpcVariantId];
  if (!p)
    throw new ModelError(
      'arch-powerpc',
      `unknown variant "${variant}" (known: ${POWERPC_VARIANTS.map((v) => v.id).join(', ')})`,
    );
  return p;
}

/** The powerpc ArchPort: book3s64 hash/radix and the 8xx, with the seeds' pte_free_defer() variants. */
export const powerpc: ArchPort = {
  arch: 'powerpc',
  configs: POWERPC_CONFIGS,
  variants: POWERPC_VARIANTS,
  create(config: ArchConfig, variant?: string) {
    return new PowerpcArch(config, variant, policyOf(variant));
  },
};
