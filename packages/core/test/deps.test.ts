/**
 * Dependency objects (src/deps.ts): how packFootprint() encodes the page
 * object's containment of its struct page fields and of its tables' registry
 * states; that call_rcu() on a ptdesc's rcu_head (a field) commutes with the
 * entry accesses of the tables in the page; and that the entry accesses of one
 * table commute with a change to another table in the same page, while every
 * whole-page access still conflicts with both.
 */
import { describe, expect, it } from 'vitest';
import { tableObj, tableStatesObj, tableStatusObj } from '../src/deps.js';
import { entryReadFootprint } from '../src/entry-footprint.js';
import {
  callRcu,
  type Footprint,
  packFootprint,
  pageFieldsObj,
  pageObj,
  pageRcuHead,
  rd,
  stepFootprint,
} from '../src/index.js';

import { newKernel, pmdAddr, populate } from './helpers.js';

const pack = (fp: Footprint, write: boolean) => {
  const out: number[] = [];
  packFootprint(fp, write, out);
  return out;
};
const R = (o: number) => o * 2;
const W = (o: number) => o * 2 + 1;
/** Two packed footprints conflict: a common object that one of them writes. */
const conflict = (a: readonly number[], b: readonly number[]) =>
  a.some((x) => b.some((y) => x >> 1 === y >> 1 && (x & 1 || y & 1)));

describe('the page object and its fields (packFootprint)', () => {
  const P = pageObj(7);
  const F = pageFieldsObj(7);
  const TS = tableStatesObj(7);
  it("a read of the page reads its tables' states and fields too; a write of it writes the page", () => {
    expect(pack(rd(P), false)).toEqual([R(P), R(TS), R(F)]);
    expect(pack(P, true)).toEqual([W(P)]);
  });
  it('an access to the fields reads the page', () => {
    expect(pack(F, true)).toEqual([W(F), R(P)]);
    expect(pack(rd(F), true)).toEqual([R(F), R(P)]);
  });
  it('so a field write conflicts with whole-page reads and writes, not with a read of a table in the page', () => {
    const field = pack(F, true);
    expect(conflict(field, pack(rd(P), false))).toBe(true);
    expect(conflict(field, pack(P, true))).toBe(true);
    expect(conflict(field, pack(rd(F), false))).toBe(true);
    expect(conflict(field, pack(rd(tableObj(7 * 65536, 65536)), false))).toBe(false);
    expect(conflict(pack(P, true), pack(rd(tableObj(7 * 65536, 65536)), false))).toBe(true);
  });
});

describe('a page table and its page (tableObj)', () => {
  const PAGE = 65536;
  const a = tableObj(7 * PAGE, PAGE);
  const b = tableObj(7 * PAGE + 4096, PAGE);
  const P = pageObj(7);
  const sa = tableStatusObj(7 * PAGE, PAGE);
  it('an access to one table reads its page; a write of it writes its status and marks the tables changed', () => {
    expect(pack(rd(a), false)).toEqual([R(a), R(P)]);
    expect(pack(a, true)).toEqual([W(a), R(P), W(sa), W(tableStatesObj(7))]);
    expect(pack(sa, true)).toEqual([W(sa), R(P), W(tableStatesObj(7))]);
    expect(a).not.toBe(b);
  });
  it("a table's status (a deferral) commutes with reads of its entries, not with writes", () => {
    expect(conflict(pack(sa, true), pack(rd(a), false))).toBe(false);
    expect(conflict(pack(sa, true), pack([rd(a), rd(sa)], false))).toBe(true);
    expect(conflict(pack(a, true), pack(rd(sa), false))).toBe(true);
    expect(conflict(pack(sa, true), pack(rd(P), false))).toBe(true);
  });
  it('so one table commutes with another of the same page, never with the page as a whole', () => {
    expect(conflict(pack(a, true), pack(rd(b), false))).toBe(false);
    expect(conflict(pack(a, true), pack(rd(a), false))).toBe(true);
    expect(conflict(pack(a, true), pack(rd(P), false))).toBe(true);
    expect(conflict(pack(a, true), pack(rd(tableObj(7 * 65536, 65536)), false))).toBe(true);
    expect(conflict(pack(P, true), pack(rd(b), false))).toBe(true);
    expect(conflict(pack(pageFieldsObj(7), true), pack(rd(b), false))).toBe(false);
  });
  it('refuses a table that is not 64-byte aligned, or pages over 64 KiB', () => {
    expect(() => tableObj(7 * PAGE + 32, PAGE)).toThrow(/tableObj/);
    expect(() => tableObj(0, 2 * PAGE)).toThrow(/tableObj/);
  });
});

describe("call_rcu() on a ptdesc's rcu_head", () => {
  it('declares the fields of the page, and commutes with a read of an entry of a table in it', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    const { pa } = populate(k, mm, pmdAddr(1));
    const pfn = Math.floor(pa / k.config.PAGE_SIZE);
    const page = k.pages.meta(k.boot, pfn, 'test');
    const r = callRcu(k.boot, pageRcuHead(page), 'cb', function* () {}).next();
    if (r.done) throw new Error('no step');
    const call = stepFootprint(r.value);
    expect(call).toContain(W(pageFieldsObj(pfn)));
    expect(call).not.toContain(W(pageObj(pfn)));
    const read: number[] = [];
    packFootprint(
      entryReadFootprint(k.boot, { table: { pa, gen: 0, label: 't' }, index: 3 }),
      false,
      read,
    );
    expect(conflict(call, read)).toBe(false);
  });
});
