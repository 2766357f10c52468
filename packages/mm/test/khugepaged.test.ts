/**
 * retract_page_tables() (src/khugepaged.ts) visits only the VMAs whose file
 * range contains the collapsed index: vma_interval_tree_foreach(vma,
 * &mapping->i_mmap, pgoff, pgoff) in mm/khugepaged.c.
 */
import {
  type AddressSpace,
  type Folio,
  type Kernel,
  lockHeldBy,
  MM_FILEPAGES,
  type Mm,
  pmdOffset,
  pmdpGet,
  runToEnd,
  Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { collapseFileTail } from '../src/index.js';
import { boot, CONFIG, mapFilePage, PMD, populate, run } from './helpers.js';

function pmdAt(k: Kernel, mm: Mm, slot: number) {
  return runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, slot * PMD)));
}

/**
 * mm A maps shmem file "shm" twice: pmd 1 at file offset 0 (the new THP) and
 * pmd 3 at file offset PMD (a later extent), with a driver file mapped at pmd
 * 2 in between, one page of it mapped by a PTE. Every vma has its PTE table.
 */
function fileMappedTwice() {
  const k = boot();
  const ctx = k.boot;
  const shm = k.createFile('shm', true);
  const thp = k.createFolio('THP', Math.log2(CONFIG.PTRS_PER_PTE), shm, 0);
  const drv = k.createFile('drv', false);
  const page = k.createFolio('drv@0', 0, drv, 0);
  const mm = k.createMm('A');
  const flags = { shared: true, uffdMissing: false, uffdWp: false };
  const low = new Vma(mm, PMD, 2 * PMD, flags, shm, 0);
  const mid = new Vma(mm, 2 * PMD, 3 * PMD, flags, drv, 0);
  const high = new Vma(mm, 3 * PMD, 4 * PMD, flags, shm, CONFIG.PTRS_PER_PTE);
  for (const v of [low, mid, high]) {
    mm.vmas.push(v);
    v.file?.iMmap.push(v);
    runToEnd(populate(ctx, mm, v.start));
  }
  runToEnd(mapFilePage(ctx, mid, 0, page));
  return { k, mm, shm, thp };
}

/** khugepaged at the end of collapse_file(): the new THP is locked by it. */
function khugepaged(k: Kernel, shm: AddressSpace, thp: Folio): void {
  const t = k.spawn('khugepaged', (ctx) => collapseFileTail(ctx, shm, thp));
  lockHeldBy(thp.lock, t.ctx.cpu);
}

describe('retract_page_tables()', () => {
  it('retracts only the table of the vma whose file range holds pgoff', () => {
    const { k, mm, shm, thp } = fileMappedTwice();
    const before = [1, 2, 3].map((s) => pmdAt(k, mm, s).table?.pa);
    khugepaged(k, shm, thp);
    const r = run(k, [], { teardown: false });
    expect(r.finding).toBeNull();
    // pmd 1 (shm at offset 0): retracted.
    expect(k.arch.pmdNone(pmdAt(k, mm, 1).raw)).toBe(true);
    // pmd 3 maps shm too, but at offset PMD: the stabbing query for pgoff 0 never sees it.
    // (Before the fix every vma of the file was visited: addr = vm_start + (0 - vm_pgoff) pages
    // is pmd 2's address, PMD-aligned and below vm_end, so the driver's table went instead.)
    expect(pmdAt(k, mm, 2).table?.pa).toBe(before[1]);
    expect(pmdAt(k, mm, 3).table?.pa).toBe(before[2]);
    expect(mm.rss[MM_FILEPAGES]).toBe(1);
  });

  it('the rest of the mm tears down cleanly afterwards', () => {
    const { k, shm, thp } = fileMappedTwice();
    khugepaged(k, shm, thp);
    expect(run(k).finding).toBeNull();
  });
});
