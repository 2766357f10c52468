import { ModelError, pmdOffset, pmdpGet } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { INJECT_PTE_ALLOC_NOMEM, PPC32_8XX, PPC64_RADIX_64K } from '../src/index.js';
import { boot, run } from './helpers.js';

const K16 = 16 * 1024;
const K512 = 512 * 1024;
/** A user address in the second 4M pmd range, not aligned to either hugetlb size. */
const ADDR = 4 * 1024 * 1024 + 3 * K512 + 5 * 4096;

describe('ppc32-8xx hugetlb at PTE level (pte_alloc_huge / pte_offset_huge)', () => {
  it('declares 16K and 512K as its PTE-level sizes', () => {
    expect(boot(PPC32_8XX).a.hugetlbPteSizes).toEqual([K16, K512]);
    expect(boot(PPC64_RADIX_64K).a.hugetlbPteSizes).toEqual([]);
  });

  it.each([K16, K512])(
    'huge_pte_alloc(%i) installs a PTE table and points at the aligned entry, RCU balanced',
    (size) => {
      const b = boot(PPC32_8XX);
      const ptep = run(b.a.hugePteAlloc(b.ctx, b.mm, ADDR, size));
      expect(ptep).not.toBeNull();
      expect(b.ctx.cpu.rcuNesting).toBe(0);
      const haddr = ADDR - (ADDR % size);
      expect(ptep?.index).toBe((haddr / 4096) % 1024);
      const pmd = run(pmdpGet(b.ctx, pmdOffset(b.ctx, b.mm, ADDR)));
      expect(pmd.table?.pa).toBe(ptep?.table.pa);
      expect(b.mm.pgtablesBytes).toBe(1024 * 4);
      // A second call finds the table: no new allocation.
      const pages = b.k.pages.allocatedCount;
      const again = run(b.a.hugePteAlloc(b.ctx, b.mm, ADDR, size));
      expect(again).toEqual(ptep);
      expect(b.k.pages.allocatedCount).toBe(pages);
      expect(b.ctx.cpu.rcuNesting).toBe(0);
    },
  );

  it('huge_pte_alloc() returns NULL only when the table cannot be allocated, still RCU balanced', () => {
    const b = boot(PPC32_8XX, { inject: [INJECT_PTE_ALLOC_NOMEM] });
    // The injection applies to tasks, not to the boot context (a scenario's set-up).
    const task = b.k.spawn('fault', function* () {}, { mm: b.mm });
    expect(run(b.a.hugePteAlloc(task.ctx, b.mm, ADDR, K16))).toBeNull();
    expect(task.ctx.cpu.rcuNesting).toBe(0);
    expect(b.mm.pgtablesBytes).toBe(0);
    expect(run(b.a.hugePteAlloc(b.ctx, b.mm, ADDR, K16))).not.toBeNull();
    expect(b.mm.pgtablesBytes).toBe(1024 * 4);
  });

  it('huge_pte_offset() is NULL without a table and finds the entry with one, RCU balanced', () => {
    const b = boot(PPC32_8XX);
    expect(run(b.a.hugePteOffset(b.ctx, b.mm, ADDR, K512))).toBeNull();
    const ptep = run(b.a.hugePteAlloc(b.ctx, b.mm, ADDR, K512));
    expect(run(b.a.hugePteOffset(b.ctx, b.mm, ADDR, K512))).toEqual(ptep);
    expect(b.ctx.cpu.rcuNesting).toBe(0);
  });

  it('8M pages (hugepd) are not modelled and say so', () => {
    const b = boot(PPC32_8XX);
    expect(() => run(b.a.hugePteAlloc(b.ctx, b.mm, ADDR, 8 * 1024 * 1024))).toThrow(ModelError);
  });

  it('book3s64 hugetlb pages are pmd leaves: huge_pte_alloc() returns the pmd slot', () => {
    const b = boot(PPC64_RADIX_64K);
    const pmdp = pmdOffset(b.ctx, b.mm, 2 * 1024 * 1024);
    expect(run(b.a.hugePteAlloc(b.ctx, b.mm, 2 * 1024 * 1024, 2 * 1024 * 1024))).toEqual(pmdp);
  });
});
