/**
 * The dependency objects of one page-table entry (deps.ts ptEntryObj): a read
 * of one entry commutes with a write of another entry of the same table.
 */
import type { Ctx } from './context.js';
import { type FootprintEntry, ptEntryObj, rd, tableObj, tableWritesObj } from './deps.js';
import type { TableRef } from './pgtable-registry.js';

/** A slot of a table: its table and index (pgtable.ts EntryPtr). */
export interface EntrySlot {
  readonly table: TableRef;
  readonly index: number;
}

/** Physical address of an entry. */
export function entryPa(ctx: Ctx, p: EntrySlot): number {
  return p.table.pa + p.index * ctx.k.mem.wordSize;
}

/**
 * What reading one entry touches: the entry and, read, its table's registry
 * state, which reads its page (its life, its memory) but neither its struct
 * page fields nor the other tables in it (deps.ts tableObj).
 */
export function entryReadFootprint(ctx: Ctx, p: EntrySlot): FootprintEntry[] {
  return [rd(tableObj(p.table.pa, ctx.k.config.PAGE_SIZE)), rd(ptEntryObj(entryPa(ctx, p)))];
}

/** What writing one entry touches, besides what its old and new values point to. */
export function entryWriteFootprint(ctx: Ctx, p: EntrySlot): FootprintEntry[] {
  const pfn = Math.floor(p.table.pa / ctx.k.config.PAGE_SIZE);
  return [
    rd(tableObj(p.table.pa, ctx.k.config.PAGE_SIZE)),
    ptEntryObj(entryPa(ctx, p)),
    tableWritesObj(pfn),
  ];
}

/** What scanning every entry of a table at once reads. */
export function tableScanFootprint(ctx: Ctx, t: TableRef): FootprintEntry[] {
  const pfn = Math.floor(t.pa / ctx.k.config.PAGE_SIZE);
  return [rd(tableObj(t.pa, ctx.k.config.PAGE_SIZE)), rd(tableWritesObj(pfn))];
}
