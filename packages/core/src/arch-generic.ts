/**
 * GenericArch: the kernel's generic page-table code as an ArchImpl, so a port
 * overrides only what its arch overrides (`#define pte_free_defer
 * pte_free_defer` in the kernel is a method override here). Entry encodings
 * default to x86-64's bit layout.
 */
import type { ArchConfig, ArchImpl, EntryEncoding } from './arch-port.js';
import type { Ctx } from './context.js';
import { pteAllocHuge, pteOffsetHuge } from './hugetlb.js';
import { tlbRemoveTableSyncOne } from './irq.js';
import { SpinLock } from './locks.js';
import { Tag } from './memory.js';
import type { Mm } from './mm.js';
import { type PageMeta, PG } from './page.js';
import { allocPage } from './page-alloc.js';
import { type PmdPtr, type PtePtr, pmdOffset, pmdpGet } from './pgtable.js';
import { callRcu, pageRcuHead } from './rcu.js';
import type { KGen } from './step.js';
import { type MmuGather, tlbRemoveTable } from './tlb.js';

/** x86 _PAGE_* bits (arch/x86/include/asm/pgtable_types.h) used by the default encoding. */
export const X86_PAGE = {
  PRESENT: 0x1,
  RW: 0x2,
  USER: 0x4,
  ACCESSED: 0x20,
  DIRTY: 0x40,
  PSE: 0x80,
  /** _PAGE_KNL_ERRATUM_MASK: A/D bits Knights Landing may set on a not-present PTE. */
  KNL_ERRATUM_MASK: 0x20 | 0x40,
} as const;
/** _PAGE_TABLE = PRESENT|RW|USER|ACCESSED|DIRTY */
const PAGE_TABLE = 0x67;

/**
 * The constants GenericArch's default encoding belongs to: x86-64 native
 * (4K pages, 512 8-byte entries, split ptlocks, THP, IPI TLB flushes, no RCU
 * table free). A base for test and example configs; real ports declare their
 * own with kernel sources.
 */
export const GENERIC_CONFIG: ArchConfig = {
  id: 'generic',
  arch: 'generic',
  description: "the kernel's generic page-table code with x86-64 native constants",
  kernel: 'v6.6',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 512,
  PTRS_PER_PMD: 512,
  pteSize: 8,
  tablesPerPage: 1,
  levels: 4,
  splitPtePtlocks: true,
  splitPmdPtlocks: true,
  thp: true,
  hugetlbPteLevel: false,
  rcuTableFree: false,
  tlbFlushIpi: true,
  pmdLowHigh: false,
  ptReclaim: false,
};

export class GenericArch implements ArchImpl {
  readonly config: ArchConfig;
  /** The historical variant this instance models, if any. */
  readonly variant: string | undefined;
  readonly pteEmpty: number = 0;
  readonly pmdEmpty: number = 0;
  readonly hugetlbPteSizes: readonly number[] = [];

  constructor(config: ArchConfig, variant?: string) {
    this.config = config;
    this.variant = variant;
  }

  // --- entry encoding (x86-64 layout by default) ---
  pteNone(pte: number): boolean {
    return pte === 0;
  }
  ptePresent(pte: number): boolean {
    return pte % 2 === 1;
  }
  ptePfn(pte: number): number {
    return Math.floor(pte / 4096);
  }
  mkPte(pfn: number, prot: { write: boolean }): number {
    return (
      pfn * 4096 +
      X86_PAGE.PRESENT +
      X86_PAGE.USER +
      X86_PAGE.ACCESSED +
      (prot.write ? X86_PAGE.RW : 0)
    );
  }
  pmdNone(pmd: number): boolean {
    return pmd === 0;
  }
  pmdPresent(pmd: number): boolean {
    return pmd % 2 === 1;
  }
  pmdTransHuge(pmd: number): boolean {
    return this.pmdPresent(pmd) && (pmd & X86_PAGE.PSE) !== 0;
  }
  pmdBad(pmd: number): boolean {
    return !this.pmdNone(pmd) && !this.pmdTransHuge(pmd) && pmd % 4096 !== PAGE_TABLE;
  }
  mkPmdTable(pa: number): number {
    return pa + PAGE_TABLE;
  }
  pmdTablePa(pmd: number): number {
    return pmd - (pmd % 4096);
  }
  mkPmdHuge(pfn: number): number {
    return pfn * 4096 + PAGE_TABLE + X86_PAGE.PSE;
  }

  // --- mm context ---
  initContext(_ctx: Ctx, _mm: Mm): void {}
  *destroyContext(_ctx: Ctx, _mm: Mm): KGen {}

  // --- PTE table allocation ---
  /** pagetable_pte_ctor() — include/linux/mm.h: ptlock_init(), PageTable, and (here) register the table. */
  protected pagetablePteCtor(
    ctx: Ctx,
    page: PageMeta,
    mm: Mm | null,
    pa: number,
    entries: number,
  ): number {
    const t = ctx.k.pt.constructed(ctx, pa, 'pte', entries, mm);
    page.setFlag(PG.table);
    if (!page.ptl)
      page.ptl = new SpinLock(`ptl of pfn ${page.pfn}`, 'ptlock', { pfn: page.pfn, gen: page.gen });
    ctx.k.mem.fill(pa, entries, this.pteEmpty, this.pteEmpty === 0 ? Tag.zero : Tag.pte);
    ctx.k.note(() => `${t.label} allocated at pfn ${page.pfn}`);
    return pa;
  }

  /** pagetable_pte_dtor() — include/linux/mm.h: ptlock_free(), clear PageTable. */
  protected pagetablePteDtor(_ctx: Ctx, page: PageMeta): void {
    page.flags &= ~PG.table;
  }

  /** pte_alloc_one() → __pte_alloc_one() — include/asm-generic/pgalloc.h */
  *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    const page = yield* allocPage(ctx, 'pte table');
    return this.pagetablePteCtor(
      ctx,
      page,
      mm,
      page.pfn * this.config.PAGE_SIZE,
      this.config.PTRS_PER_PTE,
    );
  }

  /** pte_free() — include/asm-generic/pgalloc.h: dtor and free the page now. */
  *pteFree(ctx: Ctx, _mm: Mm | null, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `pte_free(pfn ${pfn})`, ctx.k.pages.freeFootprint(ctx, pfn));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free()');
    this.pagetablePteDtor(ctx, page);
    ctx.k.pt.released(ctx, pa);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /** pte_free_defer() — mm/pgtable-generic.c: call_rcu(&page->rcu_head, pte_free_now). */
  *pteFreeDefer(ctx: Ctx, mm: Mm, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `pte_free_defer(pfn ${pfn})`, ctx.k.pt.pageOf({ pa }));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, pa);
    yield* callRcu(ctx, pageRcuHead(page), 'pte_free_now', (c) => this.pteFree(c, null, pa));
    void mm;
  }

  /** pte_alloc_one_kernel() — include/asm-generic/pgalloc.h: no ptlock, not accounted. */
  *pteAllocOneKernel(ctx: Ctx, mm: Mm): KGen<number | null> {
    const page = yield* allocPage(ctx, 'kernel pte table');
    const pa = page.pfn * this.config.PAGE_SIZE;
    ctx.k.pt.constructed(ctx, pa, 'pte', this.config.PTRS_PER_PTE, null);
    ctx.k.mem.fill(
      pa,
      this.config.PTRS_PER_PTE,
      this.pteEmpty,
      this.pteEmpty === 0 ? Tag.zero : Tag.pte,
    );
    void mm;
    return pa;
  }

  /** pte_free_kernel() — include/asm-generic/pgalloc.h */
  *pteFreeKernel(ctx: Ctx, _mm: Mm, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `pte_free_kernel(pfn ${pfn})`, ctx.k.pages.freeFootprint(ctx, pfn));
    ctx.k.pt.released(ctx, pa);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /** __pte_free_tlb() → tlb_remove_ptdesc()/tlb_remove_table() — include/asm-generic/tlb.h */
  *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    yield* tlbRemoveTable(ctx, tlb, pa);
  }

  /** __tlb_remove_table() — e.g. arch/x86/include/asm/tlb.h: free_page_and_swap_cache(). */
  *tlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
    yield* this.pteFree(ctx, null, pa);
  }

  /**
   * tlb_remove_table_one() — mm/mmu_gather.c. Before v6.14 ("semi RCU"): IPI
   * everyone, then free at once; enough for IRQ-disabled walkers only. With
   * CONFIG_PT_RECLAIM: call_rcu() on the table's pt_rcu_head.
   */
  *tlbRemoveTableOne(ctx: Ctx, pa: number): KGen {
    if (this.config.ptReclaim) {
      const pfn = Math.floor(pa / this.config.PAGE_SIZE);
      yield ctx.step(() => `__tlb_remove_table_one(pfn ${pfn})`, ctx.k.pt.pageOf({ pa }), 'r');
      const page = ctx.k.pages.meta(ctx, pfn, 'tlb_remove_table_one()');
      yield* callRcu(ctx, pageRcuHead(page), '__tlb_remove_table_one_rcu', (c) =>
        this.tlbRemoveTableFree(c, pa),
      );
      return;
    }
    yield* tlbRemoveTableSyncOne(ctx);
    yield* this.tlbRemoveTableFree(ctx, pa);
  }

  // --- hugetlb ---
  /** huge_pte_alloc() — mm/hugetlb.c (ARCH_WANT_GENERAL_HUGETLB): PMD-level, returns (pte_t *)pmd. */
  *hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    const pmdp = pmdOffset(ctx, mm, addr);
    if (this.hugetlbPteSizes.includes(size))
      return yield* ctx.call('pte_alloc_huge', pteAllocHuge(ctx, mm, pmdp, addr));
    return pmdp;
  }

  /** huge_pte_offset() — mm/hugetlb.c: PMD-level unless the size lives at PTE level. */
  *hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    const pmdp: PmdPtr = pmdOffset(ctx, mm, addr);
    if (this.hugetlbPteSizes.includes(size)) {
      const pmdval = yield* pmdpGet(ctx, pmdp);
      if (this.pmdNone(pmdval.raw)) return null;
      return yield* ctx.call('pte_offset_huge', pteOffsetHuge(ctx, pmdp, addr));
    }
    return pmdp;
  }
}

/** The entry-encoding functions of an ArchImpl, in EntryEncoding order. */
const ENCODING_FUNCTIONS = [
  'pteNone',
  'ptePresent',
  'ptePfn',
  'mkPte',
  'pmdNone',
  'pmdPresent',
  'pmdTransHuge',
  'pmdBad',
  'mkPmdTable',
  'pmdTablePa',
  'mkPmdHuge',
] as const satisfies readonly (keyof EntryEncoding)[];

/**
 * Make `arch` use `enc` for every entry encoding, predicate and empty value:
 * for ports whose encoding is chosen per config (powerpc hash/radix/8xx, arm
 * classic/LPAE/arm64), instead of overriding each member to delegate.
 */
export function useEncoding(
  arch: GenericArch,
  enc: Omit<EntryEncoding, 'pteEmpty' | 'pmdEmpty'> &
    Partial<Pick<EntryEncoding, 'pteEmpty' | 'pmdEmpty'>>,
): void {
  for (const name of ENCODING_FUNCTIONS) {
    const fn = enc[name] as (...args: never[]) => unknown;
    Object.defineProperty(arch, name, { value: fn.bind(enc), writable: true, configurable: true });
  }
  if (enc.pteEmpty !== undefined)
    Object.defineProperty(arch, 'pteEmpty', { value: enc.pteEmpty, configurable: true });
  if (enc.pmdEmpty !== undefined)
    Object.defineProperty(arch, 'pmdEmpty', { value: enc.pmdEmpty, configurable: true });
}
