/**
 * riscv's own table-freeing and hugetlb helpers, driven directly on a booted
 * Kernel (no scheduler): __pte_free_tlb() runs the destructor at once and the
 * page waits for a grace period (SBI flushes) or for the flush (IPI flushes);
 * huge_pte_alloc()/huge_pte_offset() for the 64K NAPOT size, and the
 * historical pte_alloc_map() variant leaving rcu_read_lock() held.
 */
import { Kernel, PG, pmdOffset, pmdpGet, runToEnd, tlbFinishMmu, tlbGatherMmu } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  RISCV_HUGETLB_UNBALANCED_MAP,
  RISCV64_SV39,
  RISCV64_SV39_IPI,
  riscv,
} from '../src/index.js';

const SZ_64K = 65536;
const PMD_SIZE = 512 * 4096;

function boot(config = RISCV64_SV39, variant?: string) {
  const k = new Kernel({ arch: riscv.create(config, variant) });
  const mm = k.createMm('A');
  return { k, mm, ctx: k.boot, arch: k.arch };
}

describe('__pte_free_tlb() / __tlb_remove_table()', () => {
  it('SBI remote flushes: the destructor runs at once, the page is freed only by the RCU callback', () => {
    const { k, mm, ctx, arch } = boot();
    const pa = runToEnd(arch.pteAllocOne(ctx, mm));
    if (pa === null) throw new Error('out of memory');
    const pfn = pa / 4096;
    const tlb = tlbGatherMmu(mm, true);
    runToEnd(arch.pteFreeTlb(ctx, tlb, pa));
    expect(tlb.tables).toEqual([pa]);
    expect(tlb.pages).toEqual([]);
    expect(k.pages.meta(ctx, pfn, 'test').flags & PG.table).toBe(0); // pagetable_pte_dtor() ran
    runToEnd(tlbFinishMmu(ctx, tlb));
    expect(k.pt.get(pa)?.state).toBe('live'); // still a valid table for gup_fast
    expect(k.pages.allocated().map((m) => m.pfn)).toContain(pfn);
    expect(k.rcu.queue.map((cb) => cb.fnName)).toEqual(['tlb_remove_table_rcu']);
    const cb = k.rcu.take();
    runToEnd(cb.fn(ctx));
    expect(k.pt.get(pa)?.state).toBe('free');
    expect(k.pages.allocated().map((m) => m.pfn)).not.toContain(pfn);
  });

  it('IPI remote flushes (riscv_use_ipi_for_rfence()): freed by tlb_finish_mmu() after the flush, no RCU', () => {
    const { k, mm, ctx, arch } = boot(RISCV64_SV39_IPI);
    const pa = runToEnd(arch.pteAllocOne(ctx, mm));
    if (pa === null) throw new Error('out of memory');
    const tlb = tlbGatherMmu(mm, true);
    runToEnd(arch.pteFreeTlb(ctx, tlb, pa));
    expect(tlb.pages).toEqual([pa]);
    expect(tlb.tables).toEqual([]);
    runToEnd(tlbFinishMmu(ctx, tlb));
    expect(k.pt.get(pa)?.state).toBe('free');
    expect(k.rcu.queue).toEqual([]);
  });
});

describe('huge_pte_alloc() / huge_pte_offset()', () => {
  it('64K: allocates a PTE table and returns the NAPOT-aligned entry, leaving no RCU section open', () => {
    const { k, mm, ctx, arch } = boot();
    const addr = 3 * PMD_SIZE + 0x1_3000; // inside the second 64K block of that pmd
    const ptep = runToEnd(arch.hugePteAlloc(ctx, mm, addr, SZ_64K));
    expect(ptep?.index).toBe(16); // (addr & napot_cont_mask(4)) >> PAGE_SHIFT, within the table
    const pmd = runToEnd(pmdpGet(ctx, pmdOffset(ctx, mm, addr)));
    expect(ptep?.table).toEqual(pmd.table);
    expect(ctx.cpu.rcuNesting).toBe(0);
    expect(k.pt.live().filter((t) => t.kind === 'pte')).toHaveLength(1);
    const again = runToEnd(arch.hugePteOffset(ctx, mm, addr + 0x2000, SZ_64K));
    expect(again).toEqual(ptep);
    expect(ctx.cpu.rcuNesting).toBe(0);
  });

  it('huge_pte_offset(): NULL while the pmd is not present; the pmd itself for PMD_SIZE', () => {
    const { mm, ctx, arch } = boot();
    expect(runToEnd(arch.hugePteOffset(ctx, mm, PMD_SIZE, SZ_64K))).toBeNull();
    expect(runToEnd(arch.hugePteOffset(ctx, mm, PMD_SIZE, PMD_SIZE))).toEqual(
      pmdOffset(ctx, mm, PMD_SIZE),
    );
    expect(() => runToEnd(arch.hugePteOffset(ctx, mm, 0, 2 ** 30))).toThrow(/PUD_SIZE/);
  });

  it(`variant ${RISCV_HUGETLB_UNBALANCED_MAP}: pte_alloc_map() returns with rcu_read_lock() held`, () => {
    const { ctx, mm, arch } = boot(RISCV64_SV39, RISCV_HUGETLB_UNBALANCED_MAP);
    const ptep = runToEnd(arch.hugePteAlloc(ctx, mm, PMD_SIZE, SZ_64K));
    expect(ptep).not.toBeNull();
    expect(ctx.cpu.rcuNesting).toBe(1);
  });

  it('rejects an unknown variant', () => {
    expect(() => riscv.create(RISCV64_SV39, 'no-such-variant')).toThrow(/unknown variant/);
  });
});
