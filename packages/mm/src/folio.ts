import {
  assertEffectWrites,
  bug,
  type Ctx,
  type Folio,
  type KGen,
  pageTableCheckEnabled,
  pageTableCheckZero,
  rd,
} from '@ptlab/core';

/** try_grab_folio() / folio_try_get() — mm/gup.c: fails on a folio whose refcount already hit zero. */
export function* tryGrabFolio(ctx: Ctx, folio: Folio): KGen<boolean> {
  yield ctx.step(() => `try_grab_folio(${folio.id})`, folio.refsObj);
  if (folio.refcount <= 0) return false;
  folio.refcount++;
  return true;
}

/** folio_put() / gup_put_folio() — include/linux/mm.h */
export function* folioPut(ctx: Ctx, folio: Folio, nr = 1): KGen {
  // Only the put that frees the folio reads its page_table_check counters.
  yield ctx.stepDynamic(
    () => `folio_put(${folio.id})`,
    () =>
      folio.refcount - nr === 0 && pageTableCheckEnabled(ctx)
        ? [folio.refsObj, rd(folio.ptcObj)]
        : folio.refsObj,
  );
  folio.refcount -= nr;
  if (folio.refcount < 0)
    bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: folio_put(${folio.id}): refcount below zero (${folio.refcount}): VM_BUG_ON_FOLIO(folio_ref_count(folio) == 0)`,
    );
  // The last reference: the folio goes back to the allocator (free_pages_prepare()).
  if (folio.refcount === 0)
    pageTableCheckZero(ctx, folio.pfn, folio.nrPages, `free of ${folio.id}`);
}

/**
 * folio_get() + folio_add_file_rmap_pte()/pmd(): account one new mapping. No
 * step of its own: it runs in the effect of the step that installed the entry,
 * whose footprint names the folio (the audit checks that).
 */
export function folioMapped(ctx: Ctx, folio: Folio): void {
  assertEffectWrites(ctx, folio.refsObj, () => `folioMapped(${folio.id})`);
  folio.refcount++;
  folio.mapcount++;
}

/** folio_remove_rmap_*() + the reference the mapping held: in the effect of the step that cleared the entry. */
export function folioUnmapped(ctx: Ctx, folio: Folio): void {
  assertEffectWrites(ctx, folio.refsObj, () => `folioUnmapped(${folio.id})`);
  folio.mapcount--;
  folio.refcount--;
}
