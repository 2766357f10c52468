/**
 * pmd_populate() of memory that is no live PTE table (mm/mremap.c's
 * move_normal_pmd() before "mm/mremap: fix move_normal_pmd/retract_page_tables
 * race" populated pmd_pgtable() of a none pmd: physical page 0).
 */
import { describe, expect, it } from 'vitest';
import {
  type Kernel,
  type Mm,
  pmdLock,
  pmdOffset,
  pmdPopulate,
  runToEnd,
  spinUnlock,
} from '../src/index.js';
import { catchBug, newKernel, pmdAddr, populate, retractTable } from './helpers.js';

function populateAt(k: Kernel, mm: Mm, slot: number, pa: number): void {
  const ctx = k.boot;
  const pmdp = pmdOffset(ctx, mm, pmdAddr(slot));
  const pml = runToEnd(pmdLock(ctx, mm, pmdp));
  try {
    runToEnd(pmdPopulate(ctx, mm, pmdp, pa));
  } finally {
    runToEnd(spinUnlock(ctx, pml));
  }
}

describe('check bogus-pmd', () => {
  it('fires', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    const b = catchBug(() => populateAt(k, mm, 3, 0));
    expect(b?.check).toBe('bogus-pmd');
    expect(b?.message).toContain('with pa 0x0, which is no page table');
  });

  it('stays silent', () => {
    // A live table moved from one pmd to another (what move_normal_pmd() does right).
    const k = newKernel();
    const mm = k.createMm('A');
    const { pa } = populate(k, mm, pmdAddr(1));
    expect(catchBug(() => populateAt(k, mm, 3, pa))).toBeNull();
  });

  it('fires: a table retracted and waiting for its grace period', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    const { pmdp, pa } = populate(k, mm, pmdAddr(1));
    runToEnd(retractTable(k.boot, mm, pmdp, pa));
    const b = catchBug(() => populateAt(k, mm, 3, pa));
    expect(b?.check).toBe('bogus-pmd');
    expect(b?.message).toContain('waiting for its grace period');
  });
});
