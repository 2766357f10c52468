import {
  type Ctx,
  downRead,
  type Folio,
  type KGen,
  localIrqRestore,
  localIrqSave,
  type Mm,
  type PmdPtr,
  type PmdVal,
  pmdOffset,
  pmdpGet,
  pmdpGetLockless,
  pmdSize,
  pteOffsetMap,
  pteOffsetMapLock,
  ptepGet,
  pteUnmap,
  pteUnmapUnlock,
  upRead,
} from '@ptlab/core';
import { folioPut, tryGrabFolio } from './folio.js';
import { checkUserPage, checkUserPageFootprint } from './user-access.js';

/**
 * The end-state oracle of a pin: the page gup pinned must be the page the
 * mapping held at that address when the pin was confirmed (the pmd and pte
 * rechecks, or the entry read under the ptl), i.e. a page the address mapped
 * at some point during the call (`wrong-page`, user-access.ts checkUserPage()).
 */
const PINNED = 'pin of';

/**
 * gup_fast() → gup_pgd_range() → gup_pmd_range() → gup_pte_range() —
 * mm/gup.c (v6.6): walk locklessly with interrupts off, map the table from the
 * pmd value copied to the stack, grab the folio, then recheck pmd and pte.
 * Returns the number of pages pinned (0 or 1); the pin is dropped again, as a
 * short-lived get_user_pages_fast() user would.
 */
export function* gupFast(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  if (ctx.k.config.gupFast === false)
    return yield* ctx.call('get_user_pages_unlocked', slowPath(ctx, mm, addr));
  return yield* ctx.call('gup_fast', walk(ctx, mm, addr));
}

/**
 * get_user_pages_fast() without CONFIG_HAVE_FAST_GUP — mm/gup.c: gup_fast()
 * is a stub, so __gup_longterm_unlocked() → get_user_pages_unlocked() walks
 * under mmap_read_lock(): follow_page_pte() maps and locks the table
 * (pte_offset_map_lock()), grabs the folio, unlocks. A page not mapped would
 * be faulted in; the model's short-lived user only pins what is there.
 */
function* slowPath(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  const a = ctx.k.arch;
  yield* downRead(ctx, mm.mmapLock);
  let pinned = 0;
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmd = yield* pmdpGetLockless(ctx, pmdp);
  if (a.pmdPresent(pmd.raw) && !a.pmdNone(pmd.raw) && !a.pmdTransHuge(pmd.raw)) {
    const m = yield* ctx.call('follow_page_pte', pteOffsetMapLock(ctx, mm, pmdp, addr));
    if (m) {
      const pte = yield* ptepGet(ctx, m.pte, 'ptep_get()', () =>
        checkUserPageFootprint(ctx, mm, addr),
      );
      let folio: Folio | undefined;
      if (a.ptePresent(pte) && !a.pteNone(pte)) {
        checkUserPage(ctx, mm, addr, a.ptePfn(pte), PINNED);
        const f = ctx.k.folioOf(a.ptePfn(pte));
        if (f && (yield* tryGrabFolio(ctx, f))) folio = f;
      }
      yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
      if (folio) {
        pinned = 1;
        yield* folioPut(ctx, folio); // the short-lived pin, dropped
      }
    }
  }
  yield* upRead(ctx, mm.mmapLock);
  return pinned;
}

function* walk(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  const a = ctx.k.arch;
  yield* localIrqSave(ctx);
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmd = yield* ctx.call('gup_pmd_range', pmdpGetLockless(ctx, pmdp));
  let pinned = 0;
  if (!a.pmdPresent(pmd.raw) || a.pmdNone(pmd.raw)) {
    // nothing mapped: the slow path would fault it in
  } else if (a.pmdTransHuge(pmd.raw)) {
    pinned = yield* ctx.call('gup_huge_pmd', grab(ctx, mm, addr, pmdp, pmd.raw));
  } else {
    pinned = yield* ctx.call('gup_pte_range', ptes(ctx, mm, addr, pmd, pmdp));
  }
  yield* localIrqRestore(ctx);
  return pinned;
}

function* ptes(ctx: Ctx, mm: Mm, addr: number, pmd: PmdVal, pmdp: PmdPtr): KGen<number> {
  const a = ctx.k.arch;
  const ptep = yield* pteOffsetMap(ctx, pmd, addr);
  if (!ptep) return 0;
  const pte = yield* ptepGet(ctx, ptep, 'ptep_get_lockless()');
  let pinned = 0;
  if (a.ptePresent(pte) && !a.pteNone(pte)) {
    const folio = ctx.k.folioOf(a.ptePfn(pte));
    if (folio && (yield* tryGrabFolio(ctx, folio))) {
      const pmdNow = yield* pmdpGetLockless(ctx, pmdp);
      const pteNow = yield* ptepGet(ctx, ptep, 'recheck pte', () =>
        checkUserPageFootprint(ctx, mm, addr),
      );
      // Pinned only if neither pmd nor pte changed; the short-lived pin is dropped either way.
      if (pmdNow.raw === pmd.raw && pteNow === pte) {
        pinned = 1;
        checkUserPage(ctx, mm, addr, a.ptePfn(pte), PINNED);
      }
      yield* folioPut(ctx, folio);
    }
  }
  yield* pteUnmap(ctx, ptep);
  return pinned;
}

/**
 * gup_huge_pmd() — mm/gup.c (v6.6): grab the folio, then `pmd_val(orig) !=
 * pmd_val(*pmdp)` (one plain read) drops it again if the pmd changed. That
 * re-read confirms the pin, so the pinned page is checked against the mapping
 * in the same step: a truncate that unmaps and drops the page right after is
 * no wrong page (the pin keeps its own reference).
 */
function* grab(ctx: Ctx, mm: Mm, addr: number, pmdp: PmdPtr, raw: number): KGen<number> {
  const pfn = ctx.k.arch.ptePfn(raw);
  const folio = ctx.k.folioOf(pfn);
  if (!folio || !(yield* tryGrabFolio(ctx, folio))) return 0;
  const now = yield* pmdpGet(ctx, pmdp, () => checkUserPageFootprint(ctx, mm, addr));
  let pinned = 0;
  if (now.raw === raw) {
    // The page of addr within the huge page.
    const page = pfn + Math.floor((addr % pmdSize(ctx)) / ctx.k.config.PAGE_SIZE);
    checkUserPage(ctx, mm, addr, page, PINNED);
    pinned = 1;
  }
  yield* folioPut(ctx, folio);
  return pinned;
}
