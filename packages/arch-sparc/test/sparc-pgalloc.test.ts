import { PG, pageRcuHead, tlbGatherMmu } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  SPARC32,
  SPARC64,
  SPARC64_TABLE_IS_PAGE,
  type Sparc32Arch,
  type Sparc64Arch,
  SRMMU_PTE_TABLE_SIZE,
} from '../src/index.js';
import { boot, endGracePeriods, firing, run } from './helpers.js';

describe('sparc32 SRMMU: 16 PTE tables share a nocache page, counted in its _refcount', () => {
  it('pagetable_pte_ctor() on the first table of a page, pagetable_pte_dtor() on the last', () => {
    const { k, mm, ctx } = boot(SPARC32);
    const arch = k.arch as Sparc32Arch;
    const tables: number[] = [];
    for (let i = 0; i < 16; i++) tables.push(run(arch.pteAllocOne(ctx, mm)) as number);
    const pfn = Math.floor((tables[0] as number) / SPARC32.PAGE_SIZE);
    // All 16 in one page, 256 bytes apart.
    expect(tables.map((pa) => Math.floor(pa / SPARC32.PAGE_SIZE))).toEqual(new Array(16).fill(pfn));
    expect(new Set(tables.map((pa) => pa % SPARC32.PAGE_SIZE)).size).toBe(16);
    expect(tables.every((pa) => pa % SRMMU_PTE_TABLE_SIZE === 0)).toBe(true);
    const page = k.pages.raw(pfn);
    // The pool page's own reference, plus one per table.
    expect(page.refcount).toBe(17);
    expect(page.testFlag(PG.table)).toBe(true);
    expect(page.testFlag(PG.reserved)).toBe(true);
    expect(arch.pool.inUse(pfn)).toBe(16);

    // Free all but one (not in allocation order): the page stays a page table.
    for (const pa of [...tables.slice(1).reverse()]) run(arch.pteFree(ctx, mm, pa));
    expect(page.refcount).toBe(2);
    expect(page.testFlag(PG.table)).toBe(true);
    // The last table goes: dtor, and the page stays in the pool (never back to the allocator).
    run(arch.pteFree(ctx, mm, tables[0] as number));
    expect(page.refcount).toBe(1);
    expect(page.testFlag(PG.table)).toBe(false);
    expect(page.allocated).toBe(true);
    expect(arch.pool.inUse(pfn)).toBe(0);
    // A leak check at teardown does not count the pool's reserved pages, only
    // what is really left: here the mm's own pmd table (the mm was never freed).
    const leak = firing(() => k.checkLeaks(ctx));
    expect(leak?.message).toMatch(
      /1 page\(s\) still allocated at teardown: pfn \d+ \(pmd table of mm A\)/,
    );
    expect(leak?.message).not.toMatch(/nocache/);
  });

  it('the first table constructs the page only once: a second table does not', () => {
    const { k, mm, ctx } = boot(SPARC32);
    const arch = k.arch as Sparc32Arch;
    const a = run(arch.pteAllocOne(ctx, mm)) as number;
    const page = k.pages.raw(Math.floor(a / SPARC32.PAGE_SIZE));
    expect(page.refcount).toBe(2);
    expect(page.testFlag(PG.table)).toBe(true);
    // A dtor now (as if the ctor/dtor pair were per table) would clear PageTable under the next table.
    const b = run(arch.pteAllocOne(ctx, mm)) as number;
    run(arch.pteFree(ctx, mm, a));
    expect(page.testFlag(PG.table)).toBe(true);
    run(arch.pteFree(ctx, mm, b));
    expect(page.testFlag(PG.table)).toBe(false);
  });

  it('a 17th table comes from a second pool page; kernel tables do not count in _refcount', () => {
    const { k, mm, ctx } = boot(SPARC32);
    const arch = k.arch as Sparc32Arch;
    const user: number[] = [];
    for (let i = 0; i < 16; i++) user.push(run(arch.pteAllocOne(ctx, mm)) as number);
    const kern = run(arch.pteAllocOneKernel(ctx, mm)) as number;
    expect(arch.pool.pfns.length).toBe(2);
    const kpage = k.pages.raw(Math.floor(kern / SPARC32.PAGE_SIZE));
    expect(kpage.refcount).toBe(1);
    expect(kpage.testFlag(PG.table)).toBe(false);
    run(arch.pteFreeKernel(ctx, mm, kern));
    expect(arch.pool.inUse(kpage.pfn)).toBe(0);
    // Freed slots are reused first fit.
    run(arch.pteFree(ctx, mm, user[5] as number));
    expect(run(arch.pteAllocOne(ctx, mm))).toBe(user[5]);
  });

  it('freeing a table twice is a double free; freeing each once is not', () => {
    const { k, mm, ctx } = boot(SPARC32);
    const arch = k.arch as Sparc32Arch;
    const a = run(arch.pteAllocOne(ctx, mm)) as number;
    expect(firing(() => run(arch.pteFree(ctx, mm, a)))).toBeNull();
    expect(firing(() => run(arch.pteFree(ctx, mm, a)))?.check).toBe('double-free');
  });

  it('__pte_free_tlb() is pte_free() at once (no MMU_GATHER_TABLE_FREE)', () => {
    const { k, mm, ctx } = boot(SPARC32);
    const arch = k.arch as Sparc32Arch;
    const a = run(arch.pteAllocOne(ctx, mm)) as number;
    const tlb = tlbGatherMmu(mm, true);
    run(arch.pteFreeTlb(ctx, tlb, a));
    expect(tlb.tables).toEqual([]);
    expect(tlb.pages).toEqual([]);
    expect(k.pt.get(a)?.state).toBe('free');
  });

  it('has no pte_free_defer() (no THP) and no huge pmds', () => {
    const { k, mm, ctx } = boot(SPARC32);
    const a = run(k.arch.pteAllocOne(ctx, mm)) as number;
    expect(() => run(k.arch.pteFreeDefer(ctx, mm, a))).toThrow(/no pte_free_defer/);
    expect(() => k.arch.mkPmdHuge(1)).toThrow(/no huge pmds/);
  });

  it('SRMMU encoding: PTDs point at 256-byte tables, PTEs carry pfn << 8', () => {
    const { k } = boot(SPARC32);
    const a = k.arch;
    const pa = 5 * 4096 + 3 * 256;
    const pmd = a.mkPmdTable(pa);
    expect(a.pmdPresent(pmd) && !a.pmdBad(pmd) && !a.pmdNone(pmd)).toBe(true);
    expect(a.pmdTablePa(pmd)).toBe(pa);
    const pte = a.mkPte(1234, { write: true });
    expect(a.ptePresent(pte)).toBe(true);
    expect(a.pteNone(pte)).toBe(false);
    expect(a.ptePfn(pte)).toBe(1234);
    expect(a.pteNone(0) && !a.ptePresent(0)).toBe(true);
  });
});

describe('sparc64: pgtable_t is a pte_t *, converted to and from its page', () => {
  it('pte_alloc_one() returns the page address of a constructed, page-sized table', () => {
    const { k, mm, ctx } = boot(SPARC64);
    const pa = run(k.arch.pteAllocOne(ctx, mm)) as number;
    expect(pa % SPARC64.PAGE_SIZE).toBe(0);
    const page = k.pages.raw(pa / SPARC64.PAGE_SIZE);
    expect(page.testFlag(PG.table)).toBe(true);
    expect(page.ptl).not.toBeNull();
    expect(k.pt.get(pa)?.entries).toBe(1024);
  });

  it('pte_free_defer(): call_rcu on virt_to_page(pgtable)->rcu_head; pte_free_now() frees page_address(page)', () => {
    const { k, mm, ctx } = boot(SPARC64);
    const pa = run(k.arch.pteAllocOne(ctx, mm)) as number;
    const pfn = pa / SPARC64.PAGE_SIZE;
    run(k.arch.pteFreeDefer(ctx, mm, pa));
    expect(k.rcu.isQueued(pageRcuHead(k.pages.raw(pfn)))).toBe(true);
    expect(k.pages.raw(pfn).lru.holder).toBe('pt_rcu_head');
    // Deferred, not freed: a reader inside rcu_read_lock() may still walk it.
    expect(k.pt.get(pa)?.state).toBe('deferred');
    expect(k.pages.raw(pfn).allocated).toBe(true);
    expect(endGracePeriods(k)).toBe(1);
    expect(k.pt.get(pa)?.state).toBe('free');
    expect(k.pages.raw(pfn).allocated).toBe(false);
    expect(k.pages.raw(pfn).testFlag(PG.table)).toBe(false);
  });

  it('two retracted tables use two pages, two rcu_heads: no head is reused', () => {
    const { k, mm, ctx } = boot(SPARC64);
    const a = run(k.arch.pteAllocOne(ctx, mm)) as number;
    const b = run(k.arch.pteAllocOne(ctx, mm)) as number;
    expect(firing(() => run(k.arch.pteFreeDefer(ctx, mm, a)))).toBeNull();
    expect(firing(() => run(k.arch.pteFreeDefer(ctx, mm, b)))).toBeNull();
    // Deferring the same table twice would queue one rcu_head twice.
    expect(firing(() => run(k.arch.pteFreeDefer(ctx, mm, a)))?.check).toBe('rcu-head-reused');
  });

  it('pgtable_free_tlb(): the gathered pointer carries bit 0 (is_page), __tlb_remove_table() strips it', () => {
    const { k, mm, ctx } = boot(SPARC64);
    const arch = k.arch as Sparc64Arch;
    const pa = run(arch.pteAllocOne(ctx, mm)) as number;
    const tlb = tlbGatherMmu(mm, true);
    run(arch.pteFreeTlb(ctx, tlb, pa));
    // SMP: RCU-batched (MMU_GATHER_RCU_TABLE_FREE), not freed yet.
    expect(tlb.tables).toEqual([pa + SPARC64_TABLE_IS_PAGE]);
    expect(k.pt.get(pa)?.state).toBe('live');
    run(arch.tlbRemoveTableFree(ctx, pa + SPARC64_TABLE_IS_PAGE));
    expect(k.pt.get(pa)?.state).toBe('free');
  });

  it('sun4v TTEs: pte_none() is zero, pmds hold the table physical address, huge pmds _PAGE_PMD_HUGE', () => {
    const { k } = boot(SPARC64);
    const a = k.arch;
    const pfn = 2 ** 30 + 7;
    const pte = a.mkPte(pfn, { write: true });
    expect(a.pteNone(pte) || !a.ptePresent(pte)).toBe(false);
    expect(a.ptePfn(pte)).toBe(pfn);
    const pmd = a.mkPmdTable(3 * 8192);
    expect(a.pmdNone(pmd) || a.pmdBad(pmd) || a.pmdTransHuge(pmd)).toBe(false);
    expect(a.pmdTablePa(pmd)).toBe(3 * 8192);
    const huge = a.mkPmdHuge(pfn);
    expect(a.pmdTransHuge(huge) && a.pmdPresent(huge)).toBe(true);
    expect(a.ptePfn(huge)).toBe(pfn);
    // pmd_bad() "is only called on non-trans-huge PMDs": a huge pmd's low bits make it bad.
    expect(a.pmdBad(huge)).toBe(true);
    expect(a.pmdNone(0)).toBe(true);
  });
});
