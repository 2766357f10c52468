/**
 * PhysMem's written range (src/memory.ts): scans of a mostly empty table read
 * only the words written since the page's arrays were made; every other word
 * holds the page's fill.
 */
import { describe, expect, it } from 'vitest';
import { PhysMem, Tag, writtenRange } from '../src/memory.js';

const PAGE = 4096;
const WORD = 8;

describe('PhysMem written range', () => {
  it('a page never written has no written words', () => {
    const m = new PhysMem(PAGE, WORD);
    m.fillPage(3, 0, Tag.zero);
    expect(writtenRange(m.words(3 * PAGE), 512)).toEqual({ from: 0, to: 0 });
  });

  it('covers the words written, and only those', () => {
    const m = new PhysMem(PAGE, WORD);
    m.write(3 * PAGE + 7 * WORD, 0x1234, Tag.pte);
    m.write(3 * PAGE + 3 * WORD, 0x5678, Tag.pte);
    const w = m.words(3 * PAGE);
    expect(writtenRange(w, 512)).toEqual({ from: 3, to: 8 });
    // Every word outside it holds the fill.
    for (let i = 0; i < 512; i++)
      if (i < 3 || i >= 8) {
        expect(w.values?.[i]).toBe(w.fill);
        expect(w.tags?.[i]).toBe(w.fillTag);
      }
  });

  it('is relative to the scan: a table in the second half of a page', () => {
    const m = new PhysMem(PAGE, WORD);
    m.write(3 * PAGE + 300 * WORD, 1, Tag.pte);
    expect(writtenRange(m.words(3 * PAGE + 256 * WORD), 256)).toEqual({ from: 44, to: 45 });
    // A table before the written word sees none of it.
    expect(writtenRange(m.words(3 * PAGE), 256)).toEqual({ from: 0, to: 0 });
  });

  it('a partial fill widens it; a whole-page fill empties it', () => {
    const m = new PhysMem(PAGE, WORD);
    m.write(3 * PAGE + 10 * WORD, 1, Tag.pte);
    m.fill(3 * PAGE + 100 * WORD, 20, 0xdead, Tag.poison);
    expect(writtenRange(m.words(3 * PAGE), 512)).toEqual({ from: 10, to: 120 });
    m.fillPage(3, 0xdead, Tag.poison);
    const w = m.words(3 * PAGE);
    expect(writtenRange(w, 512)).toEqual({ from: 0, to: 0 });
    expect(w.fill).toBe(0xdead);
  });

  it('starts empty again when the arrays are reused by another run', () => {
    const a = new PhysMem(PAGE, WORD);
    a.write(5 * PAGE + 511 * WORD, 1, Tag.pte);
    a.release();
    const b = new PhysMem(PAGE, WORD);
    b.write(5 * PAGE, 2, Tag.pte);
    const w = b.words(5 * PAGE);
    expect(writtenRange(w, 512)).toEqual({ from: 0, to: 1 });
    expect(w.values?.[511]).toBe(0);
  });
});
