import {
  type Ctx,
  downRead,
  type KGen,
  type Mm,
  pmdOffset,
  pmdpGet,
  pteAlloc,
  pteOffsetMapLock,
  ptepGet,
  pteUnmapUnlock,
  upRead,
} from '@ptlab/core';

const ENOMEM = -12;
const EINVAL = -22;

/**
 * apply_to_page_range() — mm/memory.c (v6.6), on one page of a user mm, as a
 * driver remapping into its vma does it (xen gntdev, ...), with the caller's
 * mmap_read_lock: apply_to_pmd_range() → apply_to_pte_range(create=true):
 * pte_alloc_map_lock() allocates a PTE table if the pmd is none, maps and
 * locks it, `fn` reads the pte, pte_unmap_unlock(). The model's process-context
 * page-table allocation. Returns 0, -ENOMEM or -EINVAL.
 */
export function* applyToPageRange(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  return yield* ctx.call('apply_to_page_range', applyToPageRangeBody(ctx, mm, addr));
}

/** The body of applyToPageRange(). */
function* applyToPageRangeBody(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  yield* downRead(ctx, mm.mmapLock);
  const r = yield* ctx.call('apply_to_pmd_range', applyToPmd(ctx, mm, addr));
  yield* upRead(ctx, mm.mmapLock);
  return r;
}

/** apply_to_pmd_range() + apply_to_pte_range() — mm/memory.c */
function* applyToPmd(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  const a = ctx.k.arch;
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmdval = yield* pmdpGet(ctx, pmdp);
  // WARN_ON_ONCE(pmd_leaf(*pmd)): a huge pmd is not walked.
  if (a.pmdTransHuge(pmdval.raw)) {
    ctx.k.note('apply_to_pmd_range: WARN_ON_ONCE(pmd_leaf(*pmd))');
    return EINVAL;
  }
  if (!a.pmdNone(pmdval.raw) && a.pmdBad(pmdval.raw)) {
    ctx.k.note('apply_to_pmd_range: WARN_ON_ONCE(pmd_bad(*pmd))');
    return EINVAL;
  }
  // pte_alloc_map_lock() — include/linux/mm.h: pte_alloc() then pte_offset_map_lock().
  if (a.pmdNone(pmdval.raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0) return ENOMEM;
  const m = yield* pteOffsetMapLock(ctx, mm, pmdp, addr);
  if (!m) return ENOMEM;
  yield* ctx.call('apply_to_pte_range', ptepGet(ctx, m.pte, 'fn(pte)'));
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  return 0;
}
