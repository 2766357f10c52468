/**
 * powerpc hugetlb helpers that reach PTE level — arch/powerpc/mm/hugetlbpage.c
 * (v6.6). Only the 8xx maps hugetlb pages inside PTE tables: 16K and 512K
 * pages (pshift < PMD_SHIFT) go through pte_alloc_huge() ("[PATCH v2 13/23]
 * powerpc/hugetlb: pte_alloc_huge()"); its 8M pages use a hugepd (removed in
 * v6.10) and book3s64 maps hugetlb pages with leaf pmds/puds.
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
  pteAlloc,
  pteAllocHuge,
  pteOffsetKernel,
  pteOffsetMap,
} from '@ptlab/core';

/** 8xx hugetlb page sizes below PMD_SIZE (4M): MMU_PAGE_16K and MMU_PAGE_512K. */
export const HUGETLB_8XX_PTE_SIZES: readonly number[] = [16 * 1024, 512 * 1024];

function checkSize(size: number): void {
  if (!HUGETLB_8XX_PTE_SIZES.includes(size))
    throw new ModelError(
      'arch-powerpc',
      `hugetlb page size ${size} is not modelled on ppc32-8xx (16K and 512K live in PTE tables; 8M uses a hugepd)`,
    );
}

/**
 * huge_pte_alloc() — arch/powerpc/mm/hugetlbpage.c (v6.6, 8xx): addr &=
 * ~(sz - 1); walk the folded levels to the pmd; "if (IS_ENABLED(CONFIG_PPC_8xx)
 * && pshift < PMD_SHIFT) return pte_alloc_huge(mm, (pmd_t *)hpdp, addr)": NULL
 * only when the table cannot be allocated, and no rcu_read_lock() left behind.
 */
export function* hugePteAlloc8xx(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  size: number,
): KGen<PtePtr | null> {
  checkSize(size);
  const haddr = addr - (addr % size);
  const pmdp = pmdOffset(ctx, mm, haddr);
  ctx.k.reach(POWERPC_8XX_HUGETLB_UNBALANCED_MAP);
  if ((ctx.k.arch as { variant?: string }).variant === POWERPC_8XX_HUGETLB_UNBALANCED_MAP)
    return yield* ctx.call('pte_alloc_map', pteAllocMap(ctx, mm, pmdp, haddr));
  return yield* ctx.call('pte_alloc_huge', pteAllocHuge(ctx, mm, pmdp, haddr));
}

/** The variant id of huge_pte_alloc() before "powerpc/hugetlb: pte_alloc_huge()". */
export const POWERPC_8XX_HUGETLB_UNBALANCED_MAP = 'powerpc-8xx-hugetlb-unbalanced-map';

/**
 * pte_alloc_map() — include/linux/mm.h: pte_alloc() then pte_offset_map(),
 * which expects a pte_unmap() that hugetlb never calls. What the 8xx
 * huge_pte_alloc() used before "[PATCH v2 13/23] powerpc/hugetlb: pte_alloc_huge()".
 */
function* pteAllocMap(ctx: Ctx, mm: Mm, pmdp: PmdPtr, addr: number): KGen<PtePtr | null> {
  const cur = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(cur.raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0) return null;
  return yield* pteOffsetMap(ctx, pmdp, addr);
}

/**
 * huge_pte_offset() — arch/powerpc/mm/hugetlbpage.c → __find_linux_pte()
 * (arch/powerpc/mm/pgtable.c): a lockless walk ending in pte_offset_kernel()
 * (no RCU, no unmap); NULL when there is no table.
 */
export function* hugePteOffset8xx(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  size: number,
): KGen<PtePtr | null> {
  checkSize(size);
  const haddr = addr - (addr % size);
  const pmdp = pmdOffset(ctx, mm, haddr);
  const pmd = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(pmd.raw)) return null;
  return pteOffsetKernel(ctx, pmd, haddr);
}
