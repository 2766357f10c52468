import {
  type Ctx,
  type KGen,
  type Mm,
  pmdLockptr,
  pmdOffset,
  pmdPopulate,
  pmdpGet,
  runToEnd,
  spinLock,
  spinUnlock,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  SPARC_HUGETLB_UNBALANCED_MAP,
  SPARC64,
  SPARC64_HPAGE_64K,
  Sparc64Arch,
} from '../src/index.js';
import { boot, run } from './helpers.js';

const PMD_SIZE = SPARC64.PTRS_PER_PTE * SPARC64.PAGE_SIZE;
const ADDR = 1 * PMD_SIZE + 5 * SPARC64_HPAGE_64K;

/** A sparc64 whose pte_alloc_one() finds no memory. */
class OomSparc64 extends Sparc64Arch {
  override *pteAllocOne(_ctx: Ctx, _mm: Mm): KGen<number | null> {
    return null;
  }
}

describe('sparc64 64K hugetlb: huge_pte_alloc()/huge_pte_offset() at PTE level', () => {
  it('advertises 64K at PTE level, and only that', () => {
    const { k } = boot(SPARC64);
    expect(k.arch.hugetlbPteSizes).toEqual([SPARC64_HPAGE_64K]);
    expect(SPARC64.hugetlbPteLevel).toBe(true);
  });

  it('huge_pte_alloc() allocates the PTE table once, returns the first PTE of the huge page, RCU untouched', () => {
    const { k, mm, ctx } = boot(SPARC64);
    const ptep = run(k.arch.hugePteAlloc(ctx, mm, ADDR, SPARC64_HPAGE_64K));
    expect(ptep).not.toBeNull();
    expect(ptep?.index).toBe(5 * (SPARC64_HPAGE_64K / SPARC64.PAGE_SIZE));
    expect(ctx.cpu.rcuNesting).toBe(0);
    const again = run(k.arch.hugePteAlloc(ctx, mm, ADDR, SPARC64_HPAGE_64K));
    expect(again?.table.pa).toBe(ptep?.table.pa);
    expect(mm.pgtablesBytes).toBe(SPARC64.PTRS_PER_PTE * SPARC64.pteSize);
    expect(ctx.cpu.rcuNesting).toBe(0);
  });

  it('huge_pte_alloc() returns NULL only when pte_alloc() fails (OOM)', () => {
    const { k, mm, ctx } = boot(SPARC64, undefined, new OomSparc64(SPARC64));
    expect(run(k.arch.hugePteAlloc(ctx, mm, ADDR, SPARC64_HPAGE_64K))).toBeNull();
    expect(ctx.cpu.rcuNesting).toBe(0);
    // The same walk where memory is there succeeds.
    const ok = boot(SPARC64);
    expect(run(ok.k.arch.hugePteAlloc(ok.ctx, ok.mm, ADDR, SPARC64_HPAGE_64K))).not.toBeNull();
  });

  it('with the PTE table already there nothing is allocated, so OOM does not matter', () => {
    const { k, mm, ctx } = boot(SPARC64, undefined, new OomSparc64(SPARC64));
    // Install a table as an earlier fault would have (GenericArch's allocator, which has memory).
    const table = run(Sparc64Arch.prototype.pteAllocOne.call(k.arch, ctx, mm)) as number;
    const pmdp = pmdOffset(ctx, mm, ADDR);
    const pml = pmdLockptr(ctx, mm, pmdp);
    run(spinLock(ctx, pml));
    run(pmdPopulate(ctx, mm, pmdp, table));
    run(spinUnlock(ctx, pml));
    const ptep = run(k.arch.hugePteAlloc(ctx, mm, ADDR, SPARC64_HPAGE_64K));
    expect(ptep?.table.pa).toBe(table);
    expect(ctx.cpu.rcuNesting).toBe(0);
  });

  it('huge_pte_offset(): NULL without a table, the PTE with one, never an RCU section', () => {
    const { k, mm, ctx } = boot(SPARC64);
    expect(run(k.arch.hugePteOffset(ctx, mm, ADDR, SPARC64_HPAGE_64K))).toBeNull();
    run(k.arch.hugePteAlloc(ctx, mm, ADDR, SPARC64_HPAGE_64K));
    const ptep = run(k.arch.hugePteOffset(ctx, mm, ADDR, SPARC64_HPAGE_64K));
    expect(ptep?.index).toBe(40);
    expect(ctx.cpu.rcuNesting).toBe(0);
  });

  it('sizes from PMD_SIZE up are returned as the pmd itself', () => {
    const { k, mm, ctx } = boot(SPARC64);
    const p = run(k.arch.hugePteAlloc(ctx, mm, PMD_SIZE, PMD_SIZE));
    const pmdp = pmdOffset(ctx, mm, PMD_SIZE);
    expect(p?.table.pa).toBe(pmdp.table.pa);
    expect(p?.index).toBe(pmdp.index);
    // No PTE table was allocated for it.
    expect(runToEnd(pmdpGet(ctx, pmdp)).table).toBeNull();
  });

  it('the historical pte_alloc_map()/pte_offset_map() versions leave rcu_read_lock() held', () => {
    const { k, mm, ctx } = boot(SPARC64, SPARC_HUGETLB_UNBALANCED_MAP);
    expect(run(k.arch.hugePteAlloc(ctx, mm, ADDR, SPARC64_HPAGE_64K))).not.toBeNull();
    expect(ctx.cpu.rcuNesting).toBe(1);
    expect(run(k.arch.hugePteOffset(ctx, mm, ADDR, SPARC64_HPAGE_64K))).not.toBeNull();
    expect(ctx.cpu.rcuNesting).toBe(2);
  });
});
