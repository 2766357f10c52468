import type { Ctx } from './context.js';
import type { Mm } from './mm.js';
import { type PmdPtr, type PtePtr, pmdpGet, pteAlloc, pteOffsetKernel } from './pgtable.js';
import type { KGen } from './step.js';

/**
 * pte_offset_huge() — include/linux/hugetlb.h: pte_offset_kernel(), so no
 * rcu_read_lock(), no NULL (but for no table), no unmap. hugetlb tables are not
 * freed by khugepaged; they go in free_pgtables() under mmap_lock.
 */
export function* pteOffsetHuge(ctx: Ctx, pmdp: PmdPtr, addr: number): KGen<PtePtr | null> {
  const pmdval = yield* pmdpGet(ctx, pmdp);
  return pteOffsetKernel(ctx, pmdval, addr);
}

/** pte_alloc_huge() — include/linux/hugetlb.h: NULL only when pte_alloc() fails (OOM). */
export function* pteAllocHuge(ctx: Ctx, mm: Mm, pmdp: PmdPtr, addr: number): KGen<PtePtr | null> {
  const cur = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(cur.raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0) return null;
  return yield* pteOffsetHuge(ctx, pmdp, addr);
}
