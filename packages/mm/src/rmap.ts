import {
  type Ctx,
  downRead,
  type Folio,
  type KGen,
  type Mm,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdpGetLockless,
  pteOffsetMapLock,
  ptepGet,
  pteUnmapUnlock,
  spinUnlock,
  upRead,
} from '@ptlab/core';

/**
 * rmap_walk_file() — mm/rmap.c, visiting each vma with
 * page_vma_mapped_walk() — mm/page_vma_mapped.c (its PVMW_SYNC map_pte():
 * pte_offset_map_lock()), as folio_referenced() does. The model checks the
 * PTE for the folio's first page in each vma. Returns how many mappings it saw.
 */
export function* rmapWalkFile(ctx: Ctx, folio: Folio): KGen<number> {
  return yield* ctx.call('rmap_walk_file', walk(ctx, folio));
}

function* walk(ctx: Ctx, folio: Folio): KGen<number> {
  const mapping = folio.mapping;
  if (!mapping) return 0;
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  let seen = 0;
  yield* downRead(ctx, mapping.iMmapRwsem);
  for (const vma of [...mapping.iMmap]) {
    const addr = vma.start + (folio.index - vma.pgoff) * PAGE_SIZE;
    if (addr < vma.start || addr >= vma.end) continue;
    const mm = vma.mm;
    seen += yield* ctx.call('page_vma_mapped_walk', pageVmaMappedWalk(ctx, folio, mm, addr));
  }
  yield* upRead(ctx, mapping.iMmapRwsem);
  return seen;
}

/** page_vma_mapped_walk() — mm/page_vma_mapped.c, for the folio's first page at `addr` in `mm`: 1 if it maps it. */
function* pageVmaMappedWalk(ctx: Ctx, folio: Folio, mm: Mm, addr: number): KGen<number> {
  const a = ctx.k.arch;
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmde = yield* pmdpGetLockless(ctx, pmdp);
  if (a.pmdNone(pmde.raw) || !a.pmdPresent(pmde.raw)) return 0;
  if (a.pmdTransHuge(pmde.raw)) {
    const pml = yield* pmdLock(ctx, mm, pmdp);
    const again = yield* pmdpGet(ctx, pmdp);
    yield* spinUnlock(ctx, pml);
    return a.pmdTransHuge(again.raw) && ctx.k.folioOf(a.ptePfn(again.raw)) === folio ? 1 : 0;
  }
  const m = yield* pteOffsetMapLock(ctx, mm, pmdp, addr);
  if (!m) return 0;
  const pte = yield* ptepGet(ctx, m.pte, 'check_pte()');
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  return a.ptePresent(pte) && ctx.k.folioOf(a.ptePfn(pte)) === folio ? 1 : 0;
}
