/**
 * The per-object access histories of the exhaustive search (src/histories.ts):
 * found by object id (doubles above 2^32 included), reset when an execution
 * first touches them, kept across growth.
 */
import { describe, expect, it } from 'vitest';
import { Histories } from '../src/histories.js';

describe('Histories', () => {
  it('an object never touched has no history', () => {
    const h = new Histories();
    expect(h.get(2 ** 33 + 5)).toBeUndefined();
  });

  it('finds each object by id, telling apart ids that share a low or a high half', () => {
    const h = new Histories();
    const ids = [0, 1, 2 ** 32, 2 ** 32 + 1, 3 * 2 ** 32 + 1, 2 ** 45 + 7];
    ids.forEach((o, i) => {
      h.at(o, 1).lastWrite = i;
    });
    ids.forEach((o, i) => {
      expect(h.get(o)?.lastWrite).toBe(i);
    });
  });

  it('is reset when a later execution first touches it, not within one', () => {
    const h = new Histories();
    const a = h.at(2 ** 34, 1);
    a.lastWrite = 7;
    a.reads[0] = 3;
    a.nReads = 1;
    expect(h.at(2 ** 34, 1)).toMatchObject({ gen: 1, lastWrite: 7, nReads: 1 });
    expect(h.at(2 ** 34, 2)).toMatchObject({ gen: 2, lastWrite: -1, nReads: 0 });
  });

  it('keeps every history when it grows', () => {
    const h = new Histories();
    const n = 5000; // several doublings past the initial 1024 slots
    for (let i = 0; i < n; i++) h.at(17 * 2 ** 32 + i * 1024, 1).lastWrite = i;
    for (let i = 0; i < n; i++) expect(h.get(17 * 2 ** 32 + i * 1024)?.lastWrite).toBe(i);
    expect(h.get(17 * 2 ** 32 + n * 1024)).toBeUndefined();
  });
});
