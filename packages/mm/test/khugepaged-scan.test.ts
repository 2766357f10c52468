/**
 * khugepaged_scan_mm_slot() → collapse_pte_mapped_thp() (src/madvise.ts):
 * khugepaged finds the vma and its file under mmap_read_lock() (v6.6
 * mm/khugepaged.c: mmap_read_trylock(), hpage_collapse_test_exit(),
 * for_each_vma()), so a munmap() holding mmap_write_lock() is ordered
 * before or after the lookup, never across it.
 */
import { MM_SHMEMPAGES } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { khugepagedCollapsePteMapped, munmapVma } from '../src/index.js';
import { PMD, run, world } from './helpers.js';

describe('khugepaged_scan_mm_slot() on a PTE-mapped THP', () => {
  it('collapses: the PTEs and the table go', () => {
    const { k, mm, thp } = world({ ptes: [0, 1, 2] });
    const t = k.spawn('khugepaged', (ctx) => khugepagedCollapsePteMapped(ctx, mm, PMD));
    const r = run(k, [['khugepaged', '*']], { teardown: false });
    expect(r.finding).toBeNull();
    expect(t.result).toBe('SCAN_SUCCEED');
    expect(mm.rss[MM_SHMEMPAGES]).toBe(0);
    expect(thp.mapcount).toBe(0);
    expect(run(k).finding).toBeNull();
  });

  it('looks the vma up under mmap_read_lock(): it waits for a munmap() holding the write lock, then finds no vma', () => {
    const { k, mm } = world({ ptes: [0, 1, 2] });
    k.spawn('munmap', (ctx) => munmapVma(ctx, mm, PMD), { mm });
    const t = k.spawn('khugepaged', (ctx) => khugepagedCollapsePteMapped(ctx, mm, PMD));
    // munmap holds mmap_write_lock() and is about to detach the vma.
    const r = run(k, [
      ['munmap', /^detach vma/],
      ['khugepaged', '*'],
    ]);
    expect(r.finding).toBeNull();
    const steps = r.steps.map((s) => `${s.task}: ${s.what}`);
    const detach = steps.findIndex((s) => s.startsWith('munmap: detach vma'));
    const firstScan = steps.findIndex((s) => s.startsWith('khugepaged: xas_for_each'));
    const upWrite = steps.findIndex((s) => s.startsWith('munmap: unlock(mmap_lock'));
    const lookup = steps.findIndex((s) => s.startsWith('khugepaged: hpage_collapse_test_exit'));
    expect(detach).toBeGreaterThan(0);
    expect(upWrite).toBeGreaterThan(detach);
    // The vma was gone when khugepaged looked: no page-cache scan at all.
    expect(firstScan).toBe(-1);
    expect(lookup).toBeGreaterThan(upWrite);
    expect(t.result).toBe('SCAN_VMA_CHECK');
  });
});
