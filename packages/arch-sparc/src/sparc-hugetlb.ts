/**
 * sparc64 hugetlb page-table helpers — arch/sparc/mm/hugetlbpage.c (v6.6):
 * 64K pages live at PTE level (8 consecutive 8K PTEs), 8M/256M at PMD level
 * (2G at PUD level is not modelled). The upper levels are folded in the model,
 * so pud_alloc()/pmd_alloc() cannot fail.
 */
import {
  type Ctx,
  type KGen,
  type Mm,
  type PmdPtr,
  type PtePtr,
  pmdOffset,
  pmdpGet,
  pmdSize,
  pteAlloc,
  pteAllocHuge,
  pteOffsetHuge,
  pteOffsetMap,
} from '@ptlab/core';

/** HPAGE_64K_SHIFT — arch/sparc/include/asm/page_64.h */
export const SPARC64_HPAGE_64K = 64 * 1024;

/**
 * pte_alloc_map() — include/linux/mm.h: pte_alloc() then pte_offset_map(),
 * which expects a pte_unmap(). What sparc64 huge_pte_alloc() used before
 * "sparc/hugetlb: pte_alloc_huge() pte_offset_huge()".
 */
function* pteAllocMap(ctx: Ctx, mm: Mm, pmdp: PmdPtr, addr: number): KGen<PtePtr | null> {
  const cur = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(cur.raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0) return null;
  return yield* pteOffsetMap(ctx, pmdp, addr);
}

/** huge_pte_alloc() — arch/sparc/mm/hugetlbpage.c: NULL only when a table cannot be allocated. */
export function* sparc64HugePteAlloc(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  sz: number,
  unbalanced: boolean,
): KGen<PtePtr | null> {
  const pmdp = pmdOffset(ctx, mm, addr);
  if (sz >= pmdSize(ctx)) return pmdp;
  if (unbalanced) return yield* ctx.call('pte_alloc_map', pteAllocMap(ctx, mm, pmdp, addr));
  return yield* ctx.call('pte_alloc_huge', pteAllocHuge(ctx, mm, pmdp, addr));
}

/** huge_pte_offset() — arch/sparc/mm/hugetlbpage.c: NULL when there is no table. */
export function* sparc64HugePteOffset(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  _sz: number,
  unbalanced: boolean,
): KGen<PtePtr | null> {
  const a = ctx.k.arch;
  const pmdp = pmdOffset(ctx, mm, addr);
  // if (pmd_none(*pmd)) return NULL;
  if (a.pmdNone((yield* pmdpGet(ctx, pmdp)).raw)) return null;
  // if (is_hugetlb_pmd(*pmd)) return (pte_t *)pmd;
  if (a.pmdTransHuge((yield* pmdpGet(ctx, pmdp)).raw)) return pmdp;
  if (unbalanced) return yield* pteOffsetMap(ctx, pmdp, addr);
  return yield* ctx.call('pte_offset_huge', pteOffsetHuge(ctx, pmdp, addr));
}
