/**
 * wrong-page (src/user-access.ts): a user load must reach the page the
 * mapping holds at that address — the check behind "the memory reads back
 * intact" of the khugepaged selftest madvise_retracted_page_tables.
 */

import { runToEnd, tlbLookup } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { gupFast, userLoad } from '../src/index.js';
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
