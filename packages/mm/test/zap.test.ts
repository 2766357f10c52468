/**
 * truncate_pagecache() (src/zap.ts): unmap every mapping of the file with
 * i_mmap_rwsem and the ptl only, then drop the page cache; the THP is freed
 * with every counter (rss, mapcount, page_table_check) back at zero.
 */
import { MM_SHMEMPAGES, pmdOffset, pmdpGet, runToEnd } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { madviseCollapse, truncatePagecache } from '../src/index.js';
import { PMD, run, world } from './helpers.js';

describe('truncate_pagecache()', () => {
  it('unmaps a PTE-mapped THP and frees it', () => {
    const { k, mm, file, thp } = world({ ptes: [0, 1, 2, 3] });
    k.spawn('truncate', (ctx) => truncatePagecache(ctx, file));
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    expect(mm.rss[MM_SHMEMPAGES]).toBe(0);
    expect(thp.mapcount).toBe(0);
    expect(thp.refcount).toBe(0);
    expect(file.pageCache.size).toBe(0);
    // The unmap flushed the TLB before the pages were let go.
    const flush = r.steps.findIndex((s) => s.what.startsWith('send IPI flush_tlb_func'));
    const put = r.steps.findIndex((s) => s.what.startsWith('folio_put(THP'));
    expect(flush).toBeGreaterThan(0);
    expect(put).toBeGreaterThan(flush);
    expect(run(k).finding).toBeNull();
  });

  it('unmaps a PMD-mapped THP (zap_huge_pmd) and frees it', () => {
    const { k, mm, file, thp } = world({ table: false });
    k.spawn('madvise', (ctx) => madviseCollapse(ctx, mm, PMD), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(k.arch.pmdTransHuge(runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).raw)).toBe(
      true,
    );
    k.spawn('truncate', (ctx) => truncatePagecache(ctx, file));
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(k.arch.pmdNone(runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).raw)).toBe(true);
    expect(thp.refcount).toBe(0);
    expect(run(k).finding).toBeNull();
  });
});
