/**
 * wrong-page (src/user-access.ts): a user load must reach the page the
 * mapping holds at that address — the check behind "the memory reads back
 * intact" of the khugepaged selftest madvise_retracted_page_tables.
 */

import { pmdOffset, rd, runToEnd, tlbLookup } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  doSetPmd,
  gupFast,
  handleUserFault,
  madviseDontneed,
  truncatePagecache,
  userLoad,
} from '../src/index.js';
import { checkUserPageFootprint } from '../src/user-access.js';
import { mapFilePage, PAGE, PMD, run, world } from './helpers.js';

describe('check wrong-page', () => {
  it('fires', () => {
    const { k, mm, vma } = world();
    // Slot 4 maps a page of another file: not what shm holds at index 4.
    const other = k.createFolio('other@4', 0, k.createFile('other', true), 4);
    runToEnd(mapFilePage(k.boot, vma, 4, other));
    k.spawn('user', (ctx) => userLoad(ctx, mm, PMD + 4 * PAGE), { mm });
    const f = run(k).finding;
    expect(f?.check).toBe('wrong-page');
    expect(f?.message).toMatch(
      /cpu0 user load: load from 0x\w+ of A reached pfn \d+ \(other@4\), but shm holds pfn \d+ \(THP\) at index 4/,
    );
  });

  it('stays silent', () => {
    const { k, mm, thp } = world({ ptes: [4] });
    const t = k.spawn(
      'user',
      function* (ctx) {
        const a = yield* userLoad(ctx, mm, PMD + 4 * PAGE); // walk + TLB fill
        const hit = tlbLookup(ctx, mm, PMD + 4 * PAGE) !== null;
        const b = yield* userLoad(ctx, mm, PMD + 4 * PAGE); // TLB hit
        const c = yield* userLoad(ctx, mm, PMD + 9 * PAGE); // fault: do_set_pmd() maps the THP
        return [a, hit, b, c];
      },
      { mm },
    );
    expect(run(k).finding).toBeNull();
    expect(t.result).toEqual([thp.pfn + 4, true, thp.pfn + 4, thp.pfn + 9]);
  });
});

describe('check wrong-page at a GUP pin (the oracle on what gup_fast() returns)', () => {
  it('fires: the page pinned is not the one the mapping holds', () => {
    const { k, mm, vma } = world();
    const other = k.createFolio('other@4', 0, k.createFile('other', true), 4);
    runToEnd(mapFilePage(k.boot, vma, 4, other));
    k.spawn('gup', (ctx) => gupFast(ctx, mm, PMD + 4 * PAGE), { mm });
    const f = run(k).finding;
    expect(f?.check).toBe('wrong-page');
    expect(f?.message).toMatch(
      /cpu0 gup_pte_range: pin of 0x\w+ of A reached pfn \d+ \(other@4\), but shm holds pfn \d+ \(THP\) at index 4/,
    );
  });

  it('stays silent: the page pinned is the one the mapping holds', () => {
    const { k, mm } = world({ ptes: [4] });
    const t = k.spawn('gup', (ctx) => gupFast(ctx, mm, PMD + 4 * PAGE), { mm });
    expect(run(k).finding).toBeNull();
    expect(t.result).toBe(1);
  });
});

describe('check wrong-page at a GUP pin through a huge pmd (gup_huge_pmd())', () => {
  it('fires: the huge pmd maps a THP of another file', () => {
    const { k, mm, vma } = world({ table: false });
    const other = k.createFolio('other THP', Math.log2(PMD / PAGE), k.createFile('other', true), 0);
    runToEnd(doSetPmd(k.boot, vma, PMD, pmdOffset(k.boot, mm, PMD), other));
    k.spawn('gup', (ctx) => gupFast(ctx, mm, PMD + 3 * PAGE), { mm });
    const f = run(k).finding;
    expect(f?.check).toBe('wrong-page');
    expect(f?.message).toMatch(
      /cpu0 gup_huge_pmd: pin of 0x\w+ of A reached pfn \d+ \(other THP\), but shm holds pfn \d+ \(THP\) at index 3/,
    );
  });

  it('stays silent: the pin confirmed by pmd_val(*pmdp), the page unmapped and truncated right after', () => {
    // As a scenario's race found it: the fault maps the THP whole after truncate's first
    // unmap; gup_fast pins it and rechecks the pmd; MADV_DONTNEED zaps the huge pmd (its
    // flush waits for gup's irqs) and truncate drops the THP from the page cache, all before
    // gup_fast's next step. The pin was right when the recheck confirmed it.
    const { k, mm, file, thp } = world({ table: false });
    const g = k.spawn('gup', (ctx) => gupFast(ctx, mm, PMD + 3 * PAGE), { mm });
    k.spawn('fault', (ctx) => handleUserFault(ctx, mm, PMD, false), { mm });
    k.spawn('dontneed', (ctx) => madviseDontneed(ctx, mm, PMD), { mm });
    k.spawn('truncate', (ctx) => truncatePagecache(ctx, file));
    const r = run(k, [
      ['truncate', /find_get_entries/],
      ['fault', '*'],
      ['gup', /try_grab_folio/],
      ['gup', /read pmd/], // the recheck, pmd_val(*pmdp)
      ['gup', /folio_put/],
      ['dontneed', '*'],
      ['truncate', '*'],
    ]);
    expect(r.finding).toBeNull();
    expect(g.result).toBe(1);
    expect(file.folioAt(3)).toBeUndefined();
    expect(thp.refcount).toBe(0);
  });
});

describe("the check's footprint", () => {
  it("reads the mm's vmas and the page cache, not the vma (which anon_vma_prepare() writes)", () => {
    const { k, mm, vma } = world({ ptes: [4] });
    const fp = checkUserPageFootprint(k.boot, mm, PMD + 4 * PAGE);
    expect(fp).toContain(rd(mm.vmasObj));
    expect(fp).toContain(rd((vma.file as NonNullable<typeof vma.file>).pageCacheObj));
    expect(fp).not.toContain(rd(vma.obj));
    expect(fp).not.toContain(vma.obj);
  });
});
