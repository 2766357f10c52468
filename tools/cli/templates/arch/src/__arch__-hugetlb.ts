/**
 * __arch__ hugetlb: which page sizes live at PTE level, and how
 * huge_pte_alloc()/huge_pte_offset() reach them (arch/.../mm/hugetlbpage.c).
 * As generated, hugetlb pages are PMD-sized only (the generic
 * ARCH_WANT_GENERAL_HUGETLB code): scenarios that need PTE-level hugetlb are
 * not applicable. A PTE-level size must be mapped with pte_alloc_huge() and
 * looked up with pte_offset_huge(), which stay balanced with pte_unmap().
 */
import {
  type ArchConfig,
  type Ctx,
  type KGen,
  type Mm,
  type PtePtr,
  pmdOffset,
  pmdpGet,
  pteAllocHuge,
  pteOffsetHuge,
} from '@ptlab/core';

/** Page sizes mapped at PTE level (riscv Svnapot: [65536]; arm64 contiguous PTEs: [65536]). */
export function hugetlbPteSizes(config: ArchConfig): readonly number[] {
  return config.hugetlbPteLevel ? [16 * config.PAGE_SIZE] : [];
}

/** huge_pte_alloc(): a PTE-level size through pte_alloc_huge(), otherwise the pmd itself. */
export function* hugePteAlloc(
  sizes: readonly number[],
  ctx: Ctx,
  mm: Mm,
  addr: number,
  size: number,
): KGen<PtePtr | null> {
  const pmdp = pmdOffset(ctx, mm, addr);
  if (sizes.includes(size))
    return yield* ctx.call('pte_alloc_huge', pteAllocHuge(ctx, mm, pmdp, addr));
  return pmdp;
}

/** huge_pte_offset(): NULL when no table is there; a PTE-level size through pte_offset_huge(). */
export function* hugePteOffset(
  sizes: readonly number[],
  ctx: Ctx,
  mm: Mm,
  addr: number,
  size: number,
): KGen<PtePtr | null> {
  const pmdp = pmdOffset(ctx, mm, addr);
  if (!sizes.includes(size)) return pmdp;
  const pmdval = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(pmdval.raw)) return null;
  return yield* ctx.call('pte_offset_huge', pteOffsetHuge(ctx, pmdp, addr));
}
