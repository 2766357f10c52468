/**
 * free_page_is_bad() with PAGE_FLAGS_CHECK_AT_FREE (mm/page_alloc.c, v6.6, on
 * under CONFIG_DEBUG_VM): the page allocator refuses a page freed with a
 * checked flag still set.
 */
import { describe, expect, it } from 'vitest';
import { allocPage, freePage, PG, runToEnd } from '../src/index.js';
import { catchBug, newKernel } from './helpers.js';

function page() {
  const k = newKernel();
  return { k, page: runToEnd(allocPage(k.boot, 'pte table')) };
}

describe('check bad-page-state', () => {
  it('fires', () => {
    // A "free deferred" PG_active mark (powerpc/s390 pte_free_defer()) left on at free.
    const { k, page: p } = page();
    p.setFlag(PG.active);
    const b = catchBug(() => runToEnd(freePage(k.boot, p.pfn)));
    expect(b?.check).toBe('bad-page-state');
    expect(b?.message).toContain('BUG: Bad page state');
    expect(b?.message).toContain('flags:(active)');
    expect(b?.message).toContain('PAGE_FLAGS_CHECK_AT_FREE flag(s) set');
    // bad_page(): the page is not freed.
    expect(p.allocated).toBe(true);
  });

  it('stays silent', () => {
    // The same page after folio_test_clear_active(), and a page table's PG_table type:
    // a page type, not one of PAGE_FLAGS_CHECK_AT_FREE.
    const { k, page: p } = page();
    p.setFlag(PG.active | PG.table);
    expect(p.testClearFlag(PG.active)).toBe(true);
    expect(catchBug(() => runToEnd(freePage(k.boot, p.pfn)))).toBeNull();
    expect(p.allocated).toBe(false);
  });

  it('fires: PG_reserved', () => {
    const { k, page: p } = page();
    p.setFlag(PG.reserved);
    expect(catchBug(() => runToEnd(freePage(k.boot, p.pfn)))?.check).toBe('bad-page-state');
  });
});
