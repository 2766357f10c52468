/**
 * GenericArch: the kernel's generic page-table code as an ArchImpl, so a port
 * overrides only what its arch overrides (`#define pte_free_defer
 * pte_free_defer` in the kernel is a method override here). Entry encodings
 * default to x86-64's bit layout.
 *
 * @module
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

/**
 * Fault injection name: pagetable_alloc() of a PTE table fails, so
 * pte_alloc_one() returns NULL and __pte_alloc() -ENOMEM. It applies to every
 * task, not to the boot context (a scenario's set-up builds its tables before
 * the run).
 */
export const INJECT_PTE_ALLOC_NOMEM = 'pte-alloc-nomem';

/**
 * Whether the page for a new PTE table cannot be allocated here: alloc_pages()
 * in pagetable_alloc() — include/linux/mm.h — returning NULL, as injected by
 * `pte-alloc-nomem`. Ports call it where their pte_alloc_one() takes a fresh
 * page. A failed allocation changes nothing another task can see: no step.
 */
export function pteTablePageAllocFails(ctx: Ctx): boolean {
  return ctx !== ctx.k.boot && ctx.k.injected(INJECT_PTE_ALLOC_NOMEM);
}

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

/**
 * The kernel's generic page-table code (include/asm-generic/pgalloc.h,
 * mm/pgtable-generic.c, mm/mmu_gather.c, mm/hugetlb.c) as an ArchImpl: extend
 * it and override what your arch defines itself.
 *
 * What the defaults assume, so what a port must override when its arch differs:
 *
 * - **Encoding**: x86-64's bit layout (flags in the low 12 bits, the PFN from
 *   bit 12, `_PAGE_TABLE` = 0x67 in a table pmd, `_PAGE_PSE` for a huge pmd),
 *   empty entries 0. Override every EntryEncoding member, or install one with
 *   {@link useEncoding}.
 * - **One PTE table per page** (`tablesPerPage` 1): pteAllocOne() takes a
 *   fresh page for each table and pteFree() frees the whole page. Tables that
 *   share a page (fragments, 2K halves) need their own allocator.
 * - **The table's struct page is its ptdesc**, and its `pt_rcu_head` (which
 *   overlays `lru`/`pt_list`/`pmd_huge_pte`, see PageMeta.lru) is free to use
 *   once the table is detached: pteFreeDefer() and, under PT_RECLAIM,
 *   tlbRemoveTableOne() call_rcu() on it, once per table. Where tables share
 *   a page they share that head, and a second call_rcu() on it while the first
 *   is queued is `rcu-head-reused`: override both (see the example).
 * - **pte_free_defer()'s callback (pte_free_now) and, under
 *   MMU_GATHER_RCU_TABLE_FREE, __tlb_remove_table() run in softirq**: the
 *   pteFree() and tlbRemoveTableFree() they call must not sleep.
 * - **Frees are immediate and accounted nowhere else**: no arch cache of free
 *   tables, no per-mm list (`mm.context` unused; initContext() and
 *   destroyContext() do nothing).
 * - **tlb_remove_table_one()** before v6.14 is "semi RCU": an IPI to every CPU,
 *   then an immediate free, which waits for IRQ-disabled walkers only; with
 *   `ptReclaim` it defers the free by RCU.
 * - **hugetlb** is PMD-level (ARCH_WANT_GENERAL_HUGETLB) unless a size is in
 *   `hugetlbPteSizes`, which then goes through pte_alloc_huge() /
 *   pte_offset_huge().
 * - No optional hook (pmdpCollapseFlush, updateMmuCache, updateMmuCachePmd, adjustPte,
 *   assertPteLocked, the pmdp_get_lockless_*() overrides,
 *   beforeHandleMmFault): the generic code runs instead.
 *
 * @example Tables that share a page, under PT_RECLAIM
 * A port whose PTE tables share a page (`tablesPerPage` 2, say) cannot keep GenericArch's tlbRemoveTableOne() under PT_RECLAIM: it would
 * call_rcu() the page's one pt_rcu_head once per table. It queues the head
 * once per page and frees every table of the page from that one callback,
 * as its pte_free_defer() does (a sketch: `pending` is per-instance state,
 * guarded by the page's dependency object in every step that touches it):
 * ```ts
 * class SharedPageArch extends GenericArch {
 *   // Tables of a page whose pt_rcu_head is queued, by pfn.
 *   private readonly pending = new Map<number, number[]>();
 *
 *   override *tlbRemoveTableOne(ctx: Ctx, pa: number): KGen {
 *     if (!this.config.ptReclaim) return yield* super.tlbRemoveTableOne(ctx, pa);
 *     const pfn = Math.floor(pa / this.config.PAGE_SIZE);
 *     yield ctx.step(() => `__tlb_remove_table_one(pfn ${pfn})`, pageObj(pfn));
 *     const queued = this.pending.get(pfn);
 *     if (queued) {
 *       queued.push(pa); // freed by the callback already queued for this page
 *       return;
 *     }
 *     this.pending.set(pfn, [pa]);
 *     const page = ctx.k.pages.meta(ctx, pfn, 'tlb_remove_table_one()');
 *     yield* callRcu(ctx, pageRcuHead(page), '__tlb_remove_table_one_rcu', (c) =>
 *       this.freePending(c, pfn),
 *     );
 *   }
 *
 *   private *freePending(ctx: Ctx, pfn: number): KGen {
 *     yield ctx.step(() => `take the tables of pfn ${pfn}`, pageObj(pfn));
 *     const tables = this.pending.get(pfn) ?? [];
 *     this.pending.delete(pfn);
 *     for (const pa of tables) yield* this.tlbRemoveTableFree(ctx, pa);
 *   }
 * }
 * ```
 * (A real port also frees the page only when its last table goes; arch-s390
 * models the v6.6 kernel's way of doing both for pte_free_defer().)
 */
export class GenericArch implements ArchImpl {
  readonly config: ArchConfig;
  /** The historical variant this instance models, if any (`ArchPort.create(config, variant)`). */
  readonly variant: string | undefined;
  /** An empty PTE slot holds 0. */
  readonly pteEmpty: number = 0;
  /** An empty pmd slot holds 0. */
  readonly pmdEmpty: number = 0;
  /** No hugetlb size at PTE level: hugetlb is PMD-level. */
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
  /** init_new_context(): nothing (no per-mm page-table state). */
  initContext(_ctx: Ctx, _mm: Mm): void {}
  /** Arch teardown at __mmdrop(): nothing. */
  *destroyContext(_ctx: Ctx, _mm: Mm): KGen {}

  // --- PTE table allocation ---
  /**
   * pagetable_pte_ctor() — include/linux/mm.h: ptlock_init(), PageTable, and
   * (here) register the table with `ctx.k.pt.constructed()` and fill it with
   * `pteEmpty`. Call it for every table a port's own allocator hands out (a
   * fragment is a table of its own: pass its `pa` and entries). No step: call
   * it inside the step that allocated the page.
   */
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

  /** pte_alloc_one() → __pte_alloc_one() — include/asm-generic/pgalloc.h: a fresh page per table. */
  *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    if (pteTablePageAllocFails(ctx)) return null;
    const page = yield* allocPage(ctx, 'pte table');
    return this.pagetablePteCtor(
      ctx,
      page,
      mm,
      page.pfn * this.config.PAGE_SIZE,
      this.config.PTRS_PER_PTE,
    );
  }

  /**
   * pte_free() — include/asm-generic/pgalloc.h: dtor and free the page now
   * (the table released to the model, the page poisoned). Also what
   * pte_free_now runs in softirq after pteFreeDefer()'s grace period.
   */
  *pteFree(ctx: Ctx, _mm: Mm | null, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `pte_free(pfn ${pfn})`, ctx.k.pages.freeFootprint(ctx, pfn));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free()');
    this.pagetablePteDtor(ctx, page);
    ctx.k.pt.released(ctx, pa);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /**
   * pte_free_defer() — mm/pgtable-generic.c: call_rcu(&page->rcu_head,
   * pte_free_now), on the table page's pt_rcu_head; pte_free_now calls
   * pteFree() in softirq. Right for one table per page only.
   */
  *pteFreeDefer(ctx: Ctx, mm: Mm, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    // The table's deferral (the page must be alive): its status only; call_rcu() is a step
    // of its own.
    yield ctx.step(() => `pte_free_defer(pfn ${pfn})`, ctx.k.pt.statusOf({ pa }));
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

  /**
   * __tlb_remove_table() — e.g. arch/x86/include/asm/tlb.h:
   * free_page_and_swap_cache(), here pteFree(). In softirq under
   * MMU_GATHER_RCU_TABLE_FREE.
   */
  *tlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
    yield* this.pteFree(ctx, null, pa);
  }

  /**
   * tlb_remove_table_one() — mm/mmu_gather.c. Before v6.14 ("semi RCU"): IPI
   * everyone, then free at once; enough for IRQ-disabled walkers only. With
   * CONFIG_PT_RECLAIM: call_rcu() on the table's pt_rcu_head, one per table,
   * so wrong where tables share a page (see the class example).
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
 * classic/LPAE/arm64), or kept in a module of its own (the `ptlab init-arch`
 * scaffold), instead of overriding each member to delegate. Call it in the
 * constructor. `pteEmpty`/`pmdEmpty` stay 0 unless `enc` gives them.
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
