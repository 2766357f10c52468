/**
 * Data folios live in a pfn range of their own (Kernel.createFolio()), above
 * every pfn the page allocator can hand out (allocatorPfnEnd()): with x86-32
 * PAE's spread-out pfns (pfnBase = pfnStride = 2^20) the old fixed base 2^30
 * was the 1024th page of the boot CPU's range, so a page table and a folio
 * could share a pfn.
 */
import { describe, expect, it } from 'vitest';
import { allocatorPfnEnd } from '../src/page-alloc.js';
import { newKernel } from './helpers.js';

describe('folio pfns', () => {
  it('are above every page the allocator hands out, with x86-32 PAE spacing', () => {
    const k = newKernel({ pfnBase: 2 ** 20, pfnStride: 2 ** 20 });
    const as = k.createFile('f', true);
    const thp = k.createFolio('THP f@0', 9, as, 0);
    const small = k.createFolio('f@600', 0, as, 600);
    // The boot CPU's whole per-CPU range and some of the shared range.
    const pfns = Array.from({ length: 1100 }, (_, i) => k.pages.allocNow(k.boot, `t${i}`).pfn);
    expect(pfns).toContain(2 ** 30); // the old folio base is a page-table pfn here
    for (const p of pfns) {
      expect(k.folioOf(p)).toBeUndefined();
      expect(p).toBeLessThan(allocatorPfnEnd(2 ** 20, 2 ** 20));
    }
    expect(thp.pfn).toBeGreaterThanOrEqual(allocatorPfnEnd(2 ** 20, 2 ** 20));
    expect(thp.pfn % 2 ** 9).toBe(0);
    expect(small.pfn).toBeGreaterThan(thp.pfn);
  });

  it('stay at 2^30 where the allocator ends below it', () => {
    const k = newKernel();
    expect(k.createFolio('f@0', 9, k.createFile('f', true), 0).pfn).toBe(2 ** 30);
  });
});
