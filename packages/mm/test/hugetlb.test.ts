/**
 * hugetlb (src/hugetlb.ts): hugetlb_fault() with huge_pte_alloc(), the GUP
 * lookup hugetlb_follow_page_mask() with huge_pte_offset(), and
 * __unmap_hugepage_range() at exit, for a size at PTE level (16 PTEs of 4K:
 * arm64's CONT_PTE 64K with the generic helpers) and at PMD level.
 */
import {
  type ArchConfig,
  type Ctx,
  GenericArch,
  Kernel,
  type KGen,
  type Mm,
  pmdOffset,
  pmdpGet,
  ptepGet,
  runToEnd,
  Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { handleUserFault, hugePageSize, hugetlbGetUserPages } from '../src/index.js';
import { CONFIG, PAGE, PMD, run } from './helpers.js';

const SZ_64K = 16 * PAGE;

class PteLevelHugetlb extends GenericArch {
  override readonly hugetlbPteSizes: readonly number[] = [SZ_64K];
}

function setup(pteLevel: boolean, hugetlbSize?: number) {
  const config: ArchConfig = { ...CONFIG, hugetlbPteLevel: pteLevel };
  const k = new Kernel({
    arch: pteLevel ? new PteLevelHugetlb(config) : new GenericArch(config),
  });
  const mm: Mm = k.createMm('A');
  const file = k.createFile('huge', false);
  const vma = new Vma(
    mm,
    PMD,
    2 * PMD,
    {
      shared: true,
      uffdMissing: false,
      uffdWp: false,
      hugetlb: true,
      ...(hugetlbSize ? { hugetlbSize } : {}),
    },
    file,
    0,
  );
  mm.vmas.push(vma);
  file.iMmap.push(vma);
  return { k, mm, file, vma };
}

const gup = (mm: Mm, addr: number, fault: boolean) => (ctx: Ctx) =>
  hugetlbGetUserPages(ctx, mm, addr, fault);

describe('hugetlb at PTE level (pte_alloc_huge()/pte_offset_huge())', () => {
  it('hugePageSize() is the arch first PTE-level size', () => {
    expect(hugePageSize(setup(true).k.boot)).toBe(SZ_64K);
    expect(hugePageSize(setup(false).k.boot)).toBe(PMD);
  });

  it('a GUP lookup that may fault maps all 16 PTEs of the huge page, then finds it', () => {
    const { k, mm, file } = setup(true);
    const addr = PMD + 3 * SZ_64K + 5 * PAGE;
    const t = k.spawn('gup', gup(mm, addr, true), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(t.result).toBe(1);
    const folio = file.folioAt(3 * 16);
    expect(folio?.nrPages).toBe(16);
    expect(folio?.mapcount).toBe(1);
    // The page cache's reference and the mapping's.
    expect(folio?.refcount).toBe(2);
    const ctx = k.boot;
    const table = runToEnd(pmdpGet(ctx, pmdOffset(ctx, mm, addr))).table;
    if (!table || !folio) throw new Error('no table');
    for (let i = 0; i < 16; i++) {
      const pte = runToEnd(ptepGet(ctx, { table, index: 48 + i }));
      expect(k.arch.ptePfn(pte)).toBe(folio.pfn + i);
    }
    expect(runToEnd(ptepGet(ctx, { table, index: 64 }))).toBe(0);
    // Every CPU ended outside RCU; exit unmaps it and frees the table: no leak.
    expect(k.cpus.every((c) => c.rcuNesting === 0)).toBe(true);
    expect(run(k).finding).toBeNull();
    expect(folio.refcount).toBe(0);
  });

  it('a lookup that must not fault finds nothing and allocates nothing', () => {
    const { k, mm } = setup(true);
    const t = k.spawn('lookup', gup(mm, PMD, false), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(t.result).toBe(0);
    expect(k.arch.pmdNone(runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).raw)).toBe(true);
    expect(run(k).finding).toBeNull();
  });

  it('two CPUs faulting the same huge page map it once', () => {
    const { k, mm, file } = setup(true);
    const a = k.spawn('a', gup(mm, PMD, true), { mm });
    const b = k.spawn('b', gup(mm, PMD + PAGE, true), { mm });
    // b faults first but stops before its page-cache lookup; a faults and stops just before it
    // maps; b then waits for the folio lock, and under the ptl finds the entry no longer none.
    const r = run(
      k,
      [
        ['b', /filemap_lock_hugetlb_folio/],
        ['a', /set_pte_at/],
        ['b', '*'],
      ],
      { teardown: false },
    );
    expect(r.steps.filter((s) => s.what.startsWith('filemap_lock_hugetlb_folio')).length).toBe(2);
    expect(r.finding).toBeNull();
    expect([a.result, b.result]).toEqual([1, 1]);
    expect(file.folioAt(0)?.mapcount).toBe(1);
    const maps = r.steps.filter((s) => /set_pte_at\(pt#\d+\[0\]\)/.test(s.what));
    expect(maps.map((s) => s.task)).toEqual(['a']);
    expect(run(k).finding).toBeNull();
  });

  it('handle_mm_fault() sends a hugetlb vma to hugetlb_fault()', () => {
    const { k, mm, file } = setup(true);
    const t = k.spawn('fault', (ctx): KGen<boolean> => handleUserFault(ctx, mm, PMD, false), {
      mm,
    });
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    expect(t.result).toBe(true);
    expect(r.steps.some((s) => s.what.startsWith('filemap_lock_hugetlb_folio'))).toBe(true);
    expect(file.folioAt(0)?.mapcount).toBe(1);
    expect(run(k).finding).toBeNull();
  });
});

describe('hugetlb at PMD level', () => {
  it('maps a huge pmd, and exit unmaps it', () => {
    const { k, mm, file } = setup(false);
    const t = k.spawn('gup', gup(mm, PMD + 7 * PAGE, true), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(t.result).toBe(1);
    const pmd = runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).raw;
    expect(k.arch.pmdTransHuge(pmd)).toBe(true);
    expect(file.folioAt(0)?.nrPages).toBe(512);
    expect(run(k).finding).toBeNull();
    expect(file.folioAt(0)).toBeUndefined();
  });

  it('a vma whose hstate is PMD_SIZE maps a huge pmd even where the arch has a PTE-level size', () => {
    const { k, mm, file, vma } = setup(true, PMD);
    expect(hugePageSize(k.boot, vma)).toBe(PMD);
    expect(hugePageSize(k.boot)).toBe(SZ_64K);
    const t = k.spawn('gup', gup(mm, PMD + 7 * PAGE, true), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(t.result).toBe(1);
    const pmd = runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD)));
    expect(k.arch.pmdTransHuge(pmd.raw)).toBe(true);
    expect(pmd.table).toBeNull();
    const folio = file.folioAt(0);
    expect(folio?.nrPages).toBe(512);
    // The page cache's reference and the mapping's; exit unmaps the pmd (no table to free).
    expect(folio?.refcount).toBe(2);
    expect(run(k).finding).toBeNull();
    expect(folio?.refcount).toBe(0);
  });
});
