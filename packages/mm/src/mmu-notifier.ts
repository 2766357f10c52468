import type { Ctx, KGen, Mm } from '@ptlab/core';

/** mmu_notifier_invalidate_range_start() — include/linux/mmu_notifier.h: secondary MMUs drop their translations. */
export function* mmuNotifierInvalidateRangeStart(
  ctx: Ctx,
  mm: Mm,
  start: number,
  end: number,
): KGen {
  if (mm.notifiers.length === 0) return;
  yield ctx.step(() => `mmu_notifier_invalidate_range_start(${mm.id})`, mm.notifierObj);
  for (const n of mm.notifiers) n.invalidateRangeStart(ctx, start, end);
}

/** mmu_notifier_invalidate_range_end() — include/linux/mmu_notifier.h */
export function* mmuNotifierInvalidateRangeEnd(ctx: Ctx, mm: Mm, start: number, end: number): KGen {
  if (mm.notifiers.length === 0) return;
  yield ctx.step(() => `mmu_notifier_invalidate_range_end(${mm.id})`, mm.notifierObj);
  for (const n of mm.notifiers) n.invalidateRangeEnd(ctx, start, end);
}
