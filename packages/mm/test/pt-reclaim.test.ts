/**
 * MADV_DONTNEED with CONFIG_PT_RECLAIM (src/pt-reclaim.ts, v6.14): the zapped,
 * now empty PTE table is removed — under its ptl by try_get_and_clear_pmd()
 * when the pmd lock is free, else by try_to_free_pte() after rechecking every
 * pte under pmd lock and ptl — and freed through the mmu_gather.
 */
import {
  type Ctx,
  type Folio,
  GenericArch,
  Kernel,
  type KGen,
  MM_SHMEMPAGES,
  type Mm,
  pmdLockptr,
  pmdOffset,
  pmdpGet,
  runToEnd,
  spinLock,
  spinUnlock,
  Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { madviseCollapse, madviseDontneed } from '../src/index.js';
import { CONFIG, world as helperWorld, mapFilePage, PMD, populate, run } from './helpers.js';

const RECLAIM = { ...CONFIG, id: 'mm-test-pt-reclaim', ptReclaim: true, rcuTableFree: true };

function world(ptReclaim = true, ptes: number[] = [3, 5]) {
  const k = new Kernel({ arch: new GenericArch(ptReclaim ? RECLAIM : CONFIG) });
  const file = k.createFile('shm', true);
  const thp = k.createFolio('THP', 9, file, 0);
  const mm = k.createMm('A');
  const vma = new Vma(
    mm,
    PMD,
    2 * PMD,
    { shared: true, uffdMissing: false, uffdWp: false },
    file,
    0,
  );
  mm.vmas.push(vma);
  file.iMmap.push(vma);
  runToEnd(populate(k.boot, mm, PMD));
  for (const p of ptes) runToEnd(mapFilePage(k.boot, vma, p, thp));
  const table = runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).table;
  if (!table) throw new Error('no table');
  return { k, mm, vma, thp, table };
}

describe('madvise(MADV_DONTNEED) with PT_RECLAIM', () => {
  it('zaps the ptes and removes the empty table under its ptl (try_get_and_clear_pmd)', () => {
    const { k, mm, thp, table } = world();
    const t = k.spawn('madvise', (ctx) => madviseDontneed(ctx, mm, PMD), { mm });
    const r = run(k, [['madvise', '*']], { teardown: false });
    expect(r.finding).toBeNull();
    expect(t.result).toBe(0);
    expect(mm.rss[MM_SHMEMPAGES]).toBe(0);
    expect(thp.mapcount).toBe(0);
    expect(mm.pgtablesBytes).toBe(0);
    expect(runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).raw).toBe(0);
    // pmd_clear() happened while the table's ptl was held: between spin_trylock(pml) and pte_unmap_unlock().
    const whats = r.steps.filter((s) => s.task === 'madvise').map((s) => s.what);
    const clear = whats.findIndex((w) => w.startsWith('pmd_clear('));
    const unlockPtl = whats.findIndex((w, i) => i > clear && w.startsWith('spin_unlock(ptl'));
    expect(whats[clear - 2]).toMatch(/^spin_trylock\(pmd ptl/);
    expect(clear).toBeGreaterThan(0);
    expect(unlockPtl).toBeGreaterThan(clear);
    // Freed through the mmu_gather: after a grace period (MMU_GATHER_RCU_TABLE_FREE).
    expect(k.pt.get(table.pa)?.state).toBe('free');
  });

  it('pmd lock busy: try_to_free_pte() rechecks every pte under pmd lock and ptl, then frees', () => {
    const { k, mm, table } = world();
    const pml = pmdLockptr(k.boot, mm, pmdOffset(k.boot, mm, PMD));
    k.spawn('holder', function* (ctx) {
      yield* spinLock(ctx, pml);
      yield* spinUnlock(ctx, pml);
    });
    k.spawn('madvise', (ctx) => madviseDontneed(ctx, mm, PMD), { mm });
    const r = run(k, [
      ['holder', /^spin_unlock/],
      ['madvise', /^spin_lock\(pmd ptl/],
    ]);
    expect(r.finding).toBeNull();
    const whats = r.steps.filter((s) => s.task === 'madvise').map((s) => s.what);
    expect(whats).toContain('try_to_free_pte(): pte_none(ptep_get(pte))?');
    expect(k.pt.get(table.pa)?.state).toBe('free');
  });

  it('a pte refilled before the slow path: the table is kept', () => {
    const { k, mm, vma, thp, table } = world();
    const pml = pmdLockptr(k.boot, mm, pmdOffset(k.boot, mm, PMD));
    k.spawn('holder', function* (ctx) {
      yield* spinLock(ctx, pml);
      yield* spinUnlock(ctx, pml);
    });
    k.spawn('madvise', (ctx) => madviseDontneed(ctx, mm, PMD), { mm });
    k.spawn('fault', (ctx) => mapFilePage(ctx, vma, 7, thp), { mm });
    const r = run(k, [
      ['holder', /^spin_unlock/],
      ['madvise', /^spin_lock\(pmd ptl/],
      ['fault', '*'],
    ]);
    expect(r.finding).toBeNull();
    expect(k.pt.get(table.pa)?.state).toBe('free'); // by the teardown's exit_mmap
    const whats = r.steps.filter((s) => s.task === 'madvise').map((s) => s.what);
    expect(whats).toContain('try_to_free_pte(): pte_none(ptep_get(pte))?');
    expect(whats.filter((w) => w.startsWith('pmd_clear('))).toEqual([]);
  });

  it('without CONFIG_PT_RECLAIM the ptes go and the table stays', () => {
    const { k, mm, table } = world(false);
    k.spawn('madvise', (ctx) => madviseDontneed(ctx, mm, PMD), { mm });
    const r = run(k, [['madvise', '*']], { teardown: false });
    expect(r.finding).toBeNull();
    expect(mm.rss[MM_SHMEMPAGES]).toBe(0);
    expect(runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).table).toEqual(table);
  });
});

describe('madvise(MADV_DONTNEED) of a huge pmd (zap_huge_pmd)', () => {
  it('rechecks the pmd under pmd_lock: one that became a PTE table meanwhile is zapped, not cleared', () => {
    const w = helperWorld({ table: false });
    const { k, mm, vma, thp } = w;
    k.spawn('collapse', (ctx) => madviseCollapse(ctx, mm, PMD), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    const pmdp = pmdOffset(k.boot, mm, PMD);
    expect(k.arch.pmdTransHuge(runToEnd(pmdpGet(k.boot, pmdp)).raw)).toBe(true);
    // dontneed reads the pmd as huge; before it takes pmd_lock another MADV_DONTNEED zaps the
    // huge pmd and a fault maps one page by a new PTE table.
    k.spawn('dontneed', (ctx) => madviseDontneed(ctx, mm, PMD), { mm });
    k.spawn('other', (ctx) => zapThenMapPte(ctx, mm, vma, thp), { mm });
    const r = run(
      k,
      [
        ['dontneed', /^spin_lock\(pmd ptl/],
        ['other', '*'],
        ['dontneed', '*'],
      ],
      { teardown: false },
    );
    expect(r.finding).toBeNull();
    const whats = r.steps.filter((s) => s.task === 'dontneed').map((s) => s.what);
    expect(whats.some((w) => w.startsWith('zap_pte_range('))).toBe(true);
    expect(mm.rss[MM_SHMEMPAGES]).toBe(0);
    expect(thp.mapcount).toBe(0);
    // The table is still linked (no PT_RECLAIM here) and empty; exit frees it.
    expect(runToEnd(pmdpGet(k.boot, pmdp)).table).not.toBeNull();
    expect(run(k).finding).toBeNull();
  });
});

function* zapThenMapPte(ctx: Ctx, mm: Mm, vma: Vma, thp: Folio): KGen {
  yield* madviseDontneed(ctx, mm, PMD);
  yield* populate(ctx, mm, PMD);
  yield* mapFilePage(ctx, vma, 3, thp);
}
