/**
 * arm64 hugetlb helpers — arch/arm64/mm/hugetlbpage.c (v6.6): a
 * CONT_PTE_SIZE (64K) page lives in a PTE table reached through
 * pte_alloc_huge() / pte_offset_huge(): no rcu_read_lock() left behind, and
 * huge_pte_alloc() returns NULL only when the table cannot be allocated.
 */
import { type Ctx, type KGen, type Mm, pmdOffset, pmdpGet, pmdSize } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { ARM64_4K, ARM64_HUGETLB_UNBALANCED_MAP, contPteSize } from '../src/index.js';
import { boot, run } from './helpers.js';

const SIZE = 16 * 4096;

describe('huge_pte_alloc() / huge_pte_offset() for CONT_PTE_SIZE', () => {
  it('the hstate at PTE level is CONT_PTE_SIZE = 16 pages', () => {
    const b = boot(ARM64_4K);
    expect(b.a.hugetlbPteSizes).toEqual([SIZE]);
    expect(contPteSize(b.ctx)).toBe(SIZE);
  });

  it('allocates the PTE table and returns a pte pointer, RCU balanced', () => {
    const b = boot(ARM64_4K);
    const addr = pmdSize(b.ctx) + 2 * SIZE;
    const p = run(b.a.hugePteAlloc(b.ctx, b.mm, addr, SIZE));
    expect(p).not.toBeNull();
    expect(p?.index).toBe(32);
    expect(b.ctx.cpu.rcuNesting).toBe(0);
    const q = run(b.a.hugePteOffset(b.ctx, b.mm, addr + 5 * 4096, SIZE));
    expect(q).toEqual({ table: p?.table, index: 32 }); // addr & CONT_PTE_MASK
    expect(b.ctx.cpu.rcuNesting).toBe(0);
  });

  it('a second huge_pte_alloc() reuses the table', () => {
    const b = boot(ARM64_4K);
    const addr = pmdSize(b.ctx);
    const p = run(b.a.hugePteAlloc(b.ctx, b.mm, addr, SIZE));
    const q = run(b.a.hugePteAlloc(b.ctx, b.mm, addr + SIZE, SIZE));
    expect(q?.table).toEqual(p?.table);
  });

  it('huge_pte_offset() with no table is NULL (nothing mapped), not an error', () => {
    const b = boot(ARM64_4K);
    expect(run(b.a.hugePteOffset(b.ctx, b.mm, pmdSize(b.ctx), SIZE))).toBeNull();
    expect(b.ctx.cpu.rcuNesting).toBe(0);
  });

  it('NULL only on OOM: pte_alloc() failing', () => {
    const b = boot(ARM64_4K);
    Object.assign(b.a, {
      *pteAllocOne(_ctx: Ctx, _mm: Mm): KGen<number | null> {
        return null;
      },
    });
    expect(run(b.a.hugePteAlloc(b.ctx, b.mm, pmdSize(b.ctx), SIZE))).toBeNull();
    expect(b.ctx.cpu.rcuNesting).toBe(0);
    expect(b.a.pmdNone(run(pmdpGet(b.ctx, pmdOffset(b.ctx, b.mm, pmdSize(b.ctx)))).raw)).toBe(true);
  });

  it('PMD_SIZE: the pmd itself', () => {
    const b = boot(ARM64_4K);
    const addr = pmdSize(b.ctx);
    expect(run(b.a.hugePteAlloc(b.ctx, b.mm, addr, pmdSize(b.ctx)))).toEqual(
      pmdOffset(b.ctx, b.mm, addr),
    );
  });

  it(`${ARM64_HUGETLB_UNBALANCED_MAP}: pte_alloc_map() leaves rcu_read_lock() held`, () => {
    const b = boot(ARM64_4K, ARM64_HUGETLB_UNBALANCED_MAP);
    const p = run(b.a.hugePteAlloc(b.ctx, b.mm, pmdSize(b.ctx), SIZE));
    expect(p).not.toBeNull();
    expect(b.ctx.cpu.rcuNesting).toBe(1);
  });
});
