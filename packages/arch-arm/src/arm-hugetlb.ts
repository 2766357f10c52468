/**
 * arm64 hugetlb page-table helpers — arch/arm64/mm/hugetlbpage.c (v6.6). With
 * the 4K granule, hugetlb sizes are PUD_SIZE (1G), CONT_PMD_SIZE (32M),
 * PMD_SIZE (2M) and CONT_PTE_SIZE (64K: CONT_PTES = 16 contiguous PTEs with
 * PTE_CONT). Only CONT_PTE_SIZE lives inside a PTE table, reached through
 * pte_alloc_huge() / pte_offset_huge() since "[PATCH v2 03/23] arm64/hugetlb:
 * pte_alloc_huge() pte_offset_huge()": no rcu_read_lock() is left behind.
 * PUD-level pages and huge_pmd_share() are not modelled (the model's upper
 * levels are folded).
 */
import {
  type Ctx,
  type KGen,
  type Mm,
  ModelError,
  type PmdPtr,
  type PtePtr,
  pmdOffset,
  pmdpGet,
  pmdSize,
  pteAllocHuge,
  pteOffsetHuge,
} from '@ptlab/core';

/** CONT_PTES — arch/arm64/include/asm/pgtable-hwdef.h (4K granule: CONT_PTE_SHIFT 4). */
export const ARM64_CONT_PTES = 16;
/** CONT_PMDS (4K granule: CONT_PMD_SHIFT 4). */
export const ARM64_CONT_PMDS = 16;

/** CONT_PTE_SIZE = CONT_PTES * PAGE_SIZE. */
export function contPteSize(ctx: Ctx): number {
  return ARM64_CONT_PTES * ctx.k.config.PAGE_SIZE;
}

/** CONT_PMD_SIZE = CONT_PMDS * PMD_SIZE. */
export function contPmdSize(ctx: Ctx): number {
  return ARM64_CONT_PMDS * pmdSize(ctx);
}

function unsupported(size: number): never {
  throw new ModelError(
    'arch-arm',
    `arm64 hugetlb size ${size} is not modelled (CONT_PTE_SIZE, PMD_SIZE and CONT_PMD_SIZE are)`,
  );
}

/**
 * huge_pte_alloc() — arch/arm64/mm/hugetlbpage.c (v6.6): CONT_PTE_SIZE →
 * pmd_alloc() then WARN_ON(addr & (sz - 1)) and pte_alloc_huge(mm, pmdp, addr)
 * (NULL only when the table cannot be allocated); PMD_SIZE / CONT_PMD_SIZE →
 * the pmd itself.
 */
export function* arm64HugePteAlloc(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  size: number,
): KGen<PtePtr | null> {
  const pmdp = pmdOffset(ctx, mm, addr);
  if (size === contPteSize(ctx)) {
    if (addr % size !== 0)
      throw new ModelError(
        'arch-arm',
        `huge_pte_alloc(): WARN_ON(addr & (sz - 1)) at 0x${addr.toString(16)}`,
      );
    return yield* ctx.call('pte_alloc_huge', pteAllocHuge(ctx, mm, pmdp, addr));
  }
  if (size === pmdSize(ctx) || size === contPmdSize(ctx)) return pmdp;
  return unsupported(size);
}

/**
 * huge_pte_offset() — arch/arm64/mm/hugetlbpage.c (v6.6): read the pmd
 * (READ_ONCE); a none pmd → NULL unless the size is PMD-level; a huge or
 * non-present pmd → the pmd itself; CONT_PTE_SIZE →
 * pte_offset_huge(pmdp, addr & CONT_PTE_MASK) (no RCU, no unmap).
 */
export function* arm64HugePteOffset(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  size: number,
): KGen<PtePtr | null> {
  const a = ctx.k.arch;
  const pmdLevel = size === pmdSize(ctx) || size === contPmdSize(ctx);
  if (!pmdLevel && size !== contPteSize(ctx)) return unsupported(size);
  const pmdp: PmdPtr = pmdOffset(ctx, mm, addr);
  const pmd = yield* pmdpGet(ctx, pmdp);
  if (!pmdLevel && a.pmdNone(pmd.raw)) return null;
  // "hugepage or swap?"
  if (a.pmdTransHuge(pmd.raw) || !a.pmdPresent(pmd.raw)) return pmdp;
  if (pmdLevel) return null;
  const base = addr - (addr % contPteSize(ctx));
  return yield* ctx.call('pte_offset_huge', pteOffsetHuge(ctx, pmdp, base));
}
