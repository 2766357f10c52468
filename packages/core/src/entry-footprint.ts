/**
 * The dependency objects of one page-table entry (deps.ts ptEntryObj): a read
 * of one entry commutes with a write of another entry of the same table.
 */
import type { Ctx } from './context.js';
import {
  type FootprintEntry,
  ptEntryObj,
  rd,
  tableObj,
  tableStatusObj,
  tableWritesObj,
} from './deps.js';
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
 * What reading one entry touches: the entry and, read, its table's life,
 * which reads its page (its life, its memory) but neither the table's status
 * (a deferred table stays valid), its struct page fields, nor the other tables
 * in it (deps.ts tableObj).
 */
export function entryReadFootprint(ctx: Ctx, p: EntrySlot): FootprintEntry[] {
  return [rd(tableObj(p.table.pa, ctx.k.config.PAGE_SIZE)), rd(ptEntryObj(entryPa(ctx, p)))];
}

/**
 * What writing one entry touches, besides what its old and new values point
 * to: the table's life and status (a write into a detached table is a finding).
 */
export function entryWriteFootprint(ctx: Ctx, p: EntrySlot): FootprintEntry[] {
  const P = ctx.k.config.PAGE_SIZE;
  return [
    rd(tableObj(p.table.pa, P)),
    rd(tableStatusObj(p.table.pa, P)),
    ptEntryObj(entryPa(ctx, p)),
    tableWritesObj(Math.floor(p.table.pa / P)),
  ];
}

/** What scanning every entry of a table at once reads (under its lock: its status too). */
export function tableScanFootprint(ctx: Ctx, t: TableRef): FootprintEntry[] {
  const P = ctx.k.config.PAGE_SIZE;
  return [
    rd(tableObj(t.pa, P)),
    rd(tableStatusObj(t.pa, P)),
    rd(tableWritesObj(Math.floor(t.pa / P))),
  ];
}
