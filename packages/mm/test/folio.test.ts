/**
 * folio_put() (src/folio.ts): only the put that frees the folio reads its
 * pages' page_table_check counters, so a put that leaves references commutes
 * with PTE writes that only count or un-count the folio (deps.ts FolioSub.ptc).
 */
import { stepFootprint } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { folioPut } from '../src/index.js';
import { boot } from './helpers.js';

function putFootprint(refcount: number) {
  const k = boot();
  const folio = k.createFolio('data', 0, k.createFile('f', true), 0);
  folio.refcount = refcount;
  const step = folioPut(k.boot, folio).next().value;
  if (!step) throw new Error('no step');
  return { folio, fp: stepFootprint(step) };
}
// stepFootprint() packs an object as obj * 2, plus 1 when written.

describe("folio_put()'s footprint", () => {
  it('writes the refs; reads the page_table_check counters when it drops the last reference', () => {
    const { folio, fp } = putFootprint(1);
    expect(fp).toContain(folio.refsObj * 2 + 1);
    expect(fp).toContain(folio.ptcObj * 2);
  });

  it('a put that leaves a reference does not touch the counters', () => {
    const { folio, fp } = putFootprint(2);
    expect(fp).toEqual([folio.refsObj * 2 + 1]);
  });
});
