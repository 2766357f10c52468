/**
 * powerpc PTE table allocation and freeing by page fragments —
 * arch/powerpc/mm/pgtable-frag.c (v6.6), include/asm/pgalloc.h and
 * arch/powerpc/mm/book3s64/pgtable.c (pgtable_free_tlb(), __tlb_remove_table()).
 *
 * A page holds PTE_FRAG_NR tables. mm->context.pte_frag caches the next
 * unused fragment of the mm's current page; a fresh page starts with
 * pt_frag_refcount = PTE_FRAG_NR (one reference per fragment it will ever
 * hand out), and each pte_fragment_free() drops one. A freed fragment is never
 * handed out again: the page goes back only when its last reference goes
 * (pte_frag_destroy() drops the references of fragments never handed out).
 * That is why one rcu_head per page is enough for pte_free_defer(): PageActive
 * marks "some fragment was deferred", and the single call_rcu() happens when
 * the page itself is freed.
 *
 * Every fragment is registered as its own table in core's PageTables
 * (constructed at the fragment's address); the split ptlock lives in the
 * page's ptdesc, so all fragments of a page share it.
 */
import {
  type ArchConfig,
  allocPage,
  auxObj,
  bug,
  type Ctx,
  callRcu,
  GenericArch,
  type KGen,
  type Mm,
  type MmuGather,
  mmContextObj,
  type PageMeta,
  PG,
  pageFieldsObj,
  pageLifeObj,
  pageObj,
  pageRcuHead,
  pteTablePageAllocFails,
  rd,
  SpinLock,
  spinLock,
  spinUnlock,
  Tag,
  tlbRemoveTable,
} from '@ptlab/core';
import { type PowerpcConsts, powerpcConsts } from './powerpc-configs.js';

/** Fault injection name (core's): pagetable_alloc() in __alloc_for_ptecache() fails (OOM). */
export { INJECT_PTE_ALLOC_NOMEM } from '@ptlab/core';

/**
 * The upstream fix of the pte_frag_destroy() PG_active finding
 * (docs/kernel-findings.md): "powerpc/pgtable-frag: Fix bad page state in
 * pte_frag_destroy" (Ritesh Harjani, powerpc next fda4d71651f7, 2026; Fixes:
 * 32cc0b7c9d50 "powerpc: add pte_free_defer() for pgtables sharing page")
 * clears PG_active before pagetable_dtor()/pagetable_free(). A variant id of
 * this port (a design that must pass) and a kernel patch id: with
 * `ctx.k.has()` it composes with any other variant or mutant.
 */
export const POWERPC_FRAG_DESTROY_CLEAR_ACTIVE = 'powerpc-frag-destroy-clear-active';

/** The seeds' pte_free_defer() designs (powerpc-variants.ts): their policies replace v6.6's. */
export const POWERPC_V1_SHARED_RCU_HEAD = 'powerpc-v1-shared-rcu-head';
export const POWERPC_V2_REDEFER = 'powerpc-v2-redefer';
export const POWERPC_ALWAYS_RCU = 'powerpc-always-rcu';

/**
 * The variants whose pte_free_defer() is not v6.6's. Their last reference
 * (v1, v2: free now) is v6.6's until a pte_free_defer() has set PG_active,
 * so recording them there covers it (ArchVariant.reachRecorded).
 */
const PTE_FREE_DEFER_DIFFERS = [
  POWERPC_V1_SHARED_RCU_HEAD,
  POWERPC_V2_REDEFER,
  POWERPC_ALWAYS_RCU,
] as const;

/**
 * The dependency object of ptdesc->pt_frag_refcount of `pfn`: an atomic of
 * its own, so a reference dropped on one fragment does not conflict with
 * reads of another fragment's entries (which read the page object). Steps
 * that also change the page (its flags, its tables' lives) write the page
 * object as well.
 */
export const ptFragRefcountObj = (pfn: number): number => auxObj(0x20000000 + pfn);

/** mm->context.pte_frag, kept in the model's Mm.context under this key. */
export const PTE_FRAG_KEY = 'pte_frag';

/** The dependency object of mm->context.pte_frag (deps.ts: an arch slot of the mm). */
export const pteFragObj = (mm: Mm): number => mmContextObj(mm.index, 0);

/** The mm's cached next fragment (pte_frag_get()), or null. */
export function pteFragGet(mm: Mm): number | null {
  const v = mm.context[PTE_FRAG_KEY];
  return typeof v === 'number' ? v : null;
}

/**
 * How a design frees PTE fragments. The v6.6 kernel is MAINLINE_POLICY;
 * historical and alternative designs (powerpc-variants.ts) supply their own.
 */
export interface PteFreePolicy {
  /** pte_free_defer(mm, pgtable). */
  pteFreeDefer(a: PowerpcPgalloc, ctx: Ctx, mm: Mm, pa: number): KGen;
  /** What pte_fragment_free() does once pt_frag_refcount reached zero. */
  lastReference(a: PowerpcPgalloc, ctx: Ctx, page: PageMeta, kernel: boolean): KGen;
  /**
   * Every freed fragment stays a valid table until a grace period has passed
   * (Jason's always-RCU design); otherwise a fragment freed without
   * pte_free_defer() ends its life at once.
   */
  readonly everyFreeDeferred: boolean;
}

/**
 * v6.6 — "[PATCH v3 05/13] powerpc: add pte_free_defer() for pgtables sharing
 * page": pte_free_defer() = SetPageActive + pte_fragment_free(); the last
 * reference frees now, or by call_rcu() if TestClearPageActive().
 */
export const MAINLINE_POLICY: PteFreePolicy = {
  /** pte_free_defer() — arch/powerpc/mm/pgtable-frag.c (v6.6). */
  *pteFreeDefer(a, ctx, _mm, pa) {
    const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
    // A page flag and the table's deferral (its status): not the page's other tables, nor the
    // table's entries, which commute with a deferral.
    yield ctx.step(
      () => `SetPageActive(pfn ${pfn})`,
      [pageFieldsObj(pfn), ctx.k.pt.statusOf({ pa })],
    );
    const page = a.pageOf(ctx, pa, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, pa);
    page.setFlag(PG.active);
    yield* a.pteFragmentFree(ctx, pa, false);
  },
  /** The tail of pte_fragment_free() — arch/powerpc/mm/pgtable-frag.c (v6.6). */
  *lastReference(a, ctx, page, kernel) {
    if (kernel) yield* a.pagetableFree(ctx, page.pfn);
    else if (page.testClearFlag(PG.active)) yield* a.queuePteFreeNow(ctx, page, 'pte_free_now');
    else yield* a.pteFreeNow(ctx, page.pfn);
  },
  everyFreeDeferred: false,
};

/** PTE_FRAG_NR tables per page, with the mm's fragment cache. */
export class PowerpcPgalloc extends GenericArch {
  readonly consts: PowerpcConsts;
  readonly policy: PteFreePolicy;

  constructor(config: ArchConfig, variant: string | undefined, policy: PteFreePolicy) {
    super(config, variant);
    this.consts = powerpcConsts(config);
    this.policy = policy;
  }

  get PTE_FRAG_NR(): number {
    return this.consts.PTE_FRAG_NR;
  }
  get PTE_FRAG_SIZE(): number {
    return this.consts.PTE_FRAG_SIZE;
  }

  /** virt_to_ptdesc(): the struct page of a table (touching a freed one is a use after free). */
  pageOf(ctx: Ctx, pa: number, what: string): PageMeta {
    return ctx.k.pages.meta(ctx, Math.floor(pa / this.config.PAGE_SIZE), what);
  }

  /** atomic_read(&ptdesc->pt_frag_refcount): the word it shares with index/pt_mm must hold it. */
  fragRefcount(page: PageMeta): number {
    return page.index.read<number>('pt_frag_refcount') ?? 0;
  }

  /** atomic_set(&ptdesc->pt_frag_refcount, v). */
  setFragRefcount(ctx: Ctx, page: PageMeta, v: number): void {
    page.index.write(
      'pt_frag_refcount',
      v,
      ctx.here(() => `pt_frag_refcount of pfn ${page.pfn} = ${v}`),
    );
  }

  /** atomic_add_return(delta, &ptdesc->pt_frag_refcount) (atomic_sub_return with delta < 0). */
  *atomicAddReturn(ctx: Ctx, page: PageMeta, delta: number, what: string): KGen<number> {
    // While references remain only the count changes (whatever follows is a step of its
    // own): the page's life is read (it must be alive), the atomic written, so the step
    // commutes with everything else in the page. The last reference writes the page: its
    // callers clear flags and free it in the same effect.
    yield ctx.stepDynamic(
      () => `${what} (pt_frag_refcount of pfn ${page.pfn})`,
      () =>
        this.fragRefcount(page) + delta > 0
          ? [rd(pageLifeObj(page.pfn)), ptFragRefcountObj(page.pfn)]
          : [pageObj(page.pfn), ptFragRefcountObj(page.pfn)],
    );
    this.pageOf(ctx, page.pfn * this.config.PAGE_SIZE, what);
    const v = this.fragRefcount(page) + delta;
    this.setFragRefcount(ctx, page, v);
    return v;
  }

  // --- allocation ---

  /** pte_fragment_alloc() — arch/powerpc/mm/pgtable-frag.c */
  *pteFragmentAlloc(ctx: Ctx, mm: Mm, kernel: boolean): KGen<number | null> {
    const pa = yield* ctx.call('get_pte_from_cache', this.getPteFromCache(ctx, mm));
    if (pa !== null) {
      yield* this.handOut(ctx, pa, kernel ? null : mm);
      return pa;
    }
    return yield* ctx.call('__alloc_for_ptecache', this.allocForPtecache(ctx, mm, kernel));
  }

  /**
   * get_pte_from_cache() — arch/powerpc/mm/pgtable-frag.c: under
   * mm->page_table_lock take the cached fragment and advance the cache by
   * PTE_FRAG_SIZE, NULL once the page is used up; no cache when PTE_FRAG_NR == 1.
   */
  *getPteFromCache(ctx: Ctx, mm: Mm): KGen<number | null> {
    if (this.PTE_FRAG_NR === 1) return null;
    yield* spinLock(ctx, mm.pageTableLock);
    yield ctx.step('pte_frag_get(&mm->context)', pteFragObj(mm));
    const ret = pteFragGet(mm);
    if (ret !== null) {
      const next = ret + this.PTE_FRAG_SIZE;
      mm.context[PTE_FRAG_KEY] = next % this.config.PAGE_SIZE === 0 ? null : next;
    }
    yield* spinUnlock(ctx, mm.pageTableLock);
    return ret;
  }

  /**
   * __alloc_for_ptecache() — arch/powerpc/mm/pgtable-frag.c (v6.6): a fresh
   * page with one reference; if the mm has no cached page, this page becomes
   * the cache (pt_frag_refcount = PTE_FRAG_NR) and its first fragment is returned.
   */
  *allocForPtecache(ctx: Ctx, mm: Mm, kernel: boolean): KGen<number | null> {
    if (pteTablePageAllocFails(ctx)) return null;
    const page = yield* allocPage(ctx, kernel ? 'kernel pte fragments' : 'pte fragments');
    // v6.6: only user tables get pagetable_pte_ctor() (kernel tables have no ptlock).
    if (!kernel) this.pagetablePteCtorPage(page);
    this.setFragRefcount(ctx, page, 1);
    const ret = page.pfn * this.config.PAGE_SIZE;
    this.tagArchSideData(ctx, ret);
    if (this.PTE_FRAG_NR !== 1) {
      yield* spinLock(ctx, mm.pageTableLock);
      // pte_frag_set() and atomic_set(pt_frag_refcount): the mm's cache and the page's refcount.
      yield ctx.step('pte_frag_get(&mm->context)', [
        pteFragObj(mm),
        page.obj,
        ptFragRefcountObj(page.pfn),
      ]);
      if (pteFragGet(mm) === null) {
        this.setFragRefcount(ctx, page, this.PTE_FRAG_NR);
        mm.context[PTE_FRAG_KEY] = ret + this.PTE_FRAG_SIZE;
      }
      yield* spinUnlock(ctx, mm.pageTableLock);
    }
    yield* this.handOut(ctx, ret, kernel ? null : mm);
    return ret;
  }

  /** pagetable_pte_ctor() — include/linux/mm.h: ptlock_init() and the PageTable type, once per page. */
  protected pagetablePteCtorPage(page: PageMeta): void {
    page.setFlag(PG.table);
    page.ptl = new SpinLock(`ptl of pfn ${page.pfn}`, 'ptlock', { pfn: page.pfn, gen: page.gen });
  }

  /**
   * hash 64K: the second 2K of each 4K fragment holds the HPTE slot array
   * (real_pte_t hidx, __real_pte() in hash-64k.h), zero when allocated.
   */
  private tagArchSideData(ctx: Ctx, pagePa: number): void {
    if (this.consts.mmu !== 'hash') return;
    const words = this.config.PTRS_PER_PTE;
    for (let i = 0; i < this.PTE_FRAG_NR; i++)
      ctx.k.mem.fill(
        pagePa + i * this.PTE_FRAG_SIZE + words * this.config.pteSize,
        words,
        0,
        Tag.aux,
      );
  }

  /** A fragment starts its life as a table (the page was zeroed by PGALLOC_GFP's __GFP_ZERO). */
  private *handOut(ctx: Ctx, pa: number, mm: Mm | null): KGen {
    yield ctx.step(
      () => `fragment at pa 0x${pa.toString(16)} becomes a table`,
      ctx.k.pt.tableOf({ pa }),
    );
    const t = ctx.k.pt.constructed(ctx, pa, 'pte', this.config.PTRS_PER_PTE, mm);
    const frag = (pa % this.config.PAGE_SIZE) / this.PTE_FRAG_SIZE;
    ctx.k.note(
      () => `${t.label} is fragment ${frag} of pfn ${Math.floor(pa / this.config.PAGE_SIZE)}`,
    );
  }

  // --- freeing ---

  /**
   * pte_fragment_free() — arch/powerpc/mm/pgtable-frag.c: drop the table's
   * reference; the last one frees the page as the policy says. `table` is the
   * fragment whose life ends here (null when the caller, like v2's
   * pte_free_now(), only knows the page).
   */
  *pteFragmentFree(ctx: Ctx, pa: number, kernel: boolean, table: number | null = pa): KGen {
    // Always-RCU defers every freed fragment and every last reference.
    ctx.k.reach(POWERPC_ALWAYS_RCU);
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    // While other references remain, the drop changes the count and at most its own table's
    // registry state (its life ends here unless it was deferred): the table's object is
    // read (pte_free_defer()'s drop: its state decides) or written, with the atomic. The
    // page's last reference writes the page (flags, free).
    yield ctx.stepDynamic(
      () => `atomic_dec_and_test(pt_frag_refcount of pfn ${pfn})`,
      () => {
        const t = table === null ? undefined : ctx.k.pt.get(table);
        const p = ctx.k.pages.raw(pfn);
        if (!p.allocated || this.fragRefcount(p) <= 1)
          return [pageObj(pfn), ptFragRefcountObj(pfn)];
        // v2's pte_free_now() drops a reference of the page, whichever table it was.
        if (table === null) return [rd(pageLifeObj(pfn)), ptFragRefcountObj(pfn)];
        return t?.state === 'deferred'
          ? [rd(ctx.k.pt.statusOf({ pa: table })), ptFragRefcountObj(pfn)]
          : [ctx.k.pt.tableOf({ pa: table }), ptFragRefcountObj(pfn)];
      },
    );
    const page = this.pageOf(ctx, pa, 'pte_fragment_free()');
    // PageReserved (bootmem) tables are not modelled.
    const refs = this.fragRefcount(page);
    if (refs <= 0)
      bug(
        'double-free',
        `${ctx.cpu.name} ${ctx.fn}: pte_fragment_free(pa 0x${pa.toString(16)}): BUG_ON(pt_frag_refcount <= 0): pfn ${pfn} has no fragment references left`,
      );
    const left = refs - 1;
    this.setFragRefcount(ctx, page, left);
    if (table !== null) this.fragmentFreed(ctx, table);
    if (left === 0) yield* this.policy.lastReference(this, ctx, page, kernel);
  }

  /** The registry's view of a freed fragment: never reused, so only its table's life ends. */
  private fragmentFreed(ctx: Ctx, pa: number): void {
    const t = ctx.k.pt.get(pa);
    if (t?.state === 'deferred') return;
    if (this.policy.everyFreeDeferred && t?.state === 'live') ctx.k.pt.deferred(ctx, pa);
    else ctx.k.pt.released(ctx, pa);
  }

  /** call_rcu(&ptdesc->pt_rcu_head, fn): the page's one rcu_head. */
  *queuePteFreeNow(
    ctx: Ctx,
    page: PageMeta,
    fnName: string,
    fn: (c: Ctx) => KGen = (c) => this.pteFreeNow(c, page.pfn),
  ): KGen {
    yield* callRcu(ctx, pageRcuHead(page), fnName, fn);
  }

  /** pte_free_now() — arch/powerpc/mm/pgtable-frag.c: pagetable_pte_dtor() + pagetable_free(). */
  *pteFreeNow(ctx: Ctx, pfn: number): KGen {
    yield* ctx.call('pte_free_now', this.freePage(ctx, pfn, true));
  }

  /** pagetable_free() without the dtor (kernel tables, v6.6). */
  *pagetableFree(ctx: Ctx, pfn: number): KGen {
    yield* ctx.call('pagetable_free', this.freePage(ctx, pfn, false));
  }

  private *freePage(ctx: Ctx, pfn: number, dtor: boolean): KGen {
    yield ctx.step(() => `free page-table page pfn ${pfn}`, ctx.k.pages.freeFootprint(ctx, pfn));
    const page = ctx.k.pages.meta(ctx, pfn, 'pagetable_free()');
    if (dtor) this.pagetablePteDtor(ctx, page);
    if (page.testFlag(PG.active)) ctx.k.note(() => `pfn ${pfn} freed with PageActive still set`);
    this.releaseFragments(ctx, pfn);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /** Every table of the page that is not already gone ends with it. */
  private releaseFragments(ctx: Ctx, pfn: number): void {
    const base = pfn * this.config.PAGE_SIZE;
    for (let i = 0; i < this.PTE_FRAG_NR; i++) {
      const pa = base + i * this.PTE_FRAG_SIZE;
      const t = ctx.k.pt.get(pa);
      if (t && t.pfn === pfn && t.state !== 'free') ctx.k.pt.released(ctx, pa);
    }
  }

  /**
   * pte_frag_destroy() — arch/powerpc/mm/pgtable-frag.c, from destroy_context()
   * at __mmdrop(): drop the references of the fragments never handed out; free
   * the page now if that was the last. PageActive is neither consulted (nobody
   * can walk a dead mm's tables) nor cleared: a page one of whose fragments
   * was pte_free_defer()ed is freed with PG_active set, "BUG: Bad page state"
   * under CONFIG_DEBUG_VM (the kernel finding in docs/kernel-findings.md).
   */
  *pteFragDestroy(ctx: Ctx, frag: number): KGen {
    const page = this.pageOf(ctx, frag, 'pte_frag_destroy()');
    const count = (frag % this.config.PAGE_SIZE) / this.PTE_FRAG_SIZE;
    const left = yield* this.atomicAddReturn(
      ctx,
      page,
      -(this.PTE_FRAG_NR - count),
      'atomic_sub_and_test(PTE_FRAG_NR - count)',
    );
    if (left < 0)
      bug(
        'double-free',
        `${ctx.cpu.name} ${ctx.fn}: pte_frag_destroy(): pt_frag_refcount of pfn ${page.pfn} went below zero (${left})`,
      );
    if (left === 0) {
      // Not in v6.6..v7.0: the fix folio_clear_active(ptdesc_folio(ptdesc)), as variant or patch.
      // Asked only with PG_active set: clearing a clear flag changes nothing (mutant reach).
      if (
        page.testFlag(PG.active) &&
        (ctx.k.has(POWERPC_FRAG_DESTROY_CLEAR_ACTIVE) ||
          this.variant === POWERPC_FRAG_DESTROY_CLEAR_ACTIVE)
      )
        page.testClearFlag(PG.active);
      yield* this.freePage(ctx, page.pfn, true);
    }
  }

  // --- ArchImpl ---

  /** init_new_context() — arch/powerpc/mm/book3s64/mmu_context.c: pte_frag_set(&mm->context, NULL). */
  override initContext(_ctx: Ctx, mm: Mm): void {
    mm.context[PTE_FRAG_KEY] = null;
  }

  /** destroy_context() → destroy_pagetable_cache() — arch/powerpc/mm/book3s64/mmu_context.c. */
  override *destroyContext(ctx: Ctx, mm: Mm): KGen {
    yield ctx.step('destroy_pagetable_cache()', pteFragObj(mm));
    const frag = pteFragGet(mm);
    mm.context[PTE_FRAG_KEY] = null;
    if (frag !== null) yield* ctx.call('pte_frag_destroy', this.pteFragDestroy(ctx, frag));
  }

  /** pte_alloc_one() — arch/powerpc/include/asm/pgalloc.h: pte_fragment_alloc(mm, 0). */
  override *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    return yield* ctx.call('pte_fragment_alloc', this.pteFragmentAlloc(ctx, mm, false));
  }

  /** pte_alloc_one_kernel() — asm/pgalloc.h: pte_fragment_alloc(mm, 1). */
  override *pteAllocOneKernel(ctx: Ctx, mm: Mm): KGen<number | null> {
    return yield* ctx.call('pte_fragment_alloc', this.pteFragmentAlloc(ctx, mm, true));
  }

  /** pte_free() — asm/pgalloc.h: pte_fragment_free(ptepage, 0). */
  override *pteFree(ctx: Ctx, _mm: Mm | null, pa: number): KGen {
    yield* ctx.call('pte_fragment_free', this.pteFragmentFree(ctx, pa, false));
  }

  /** pte_free_kernel() — asm/pgalloc.h: pte_fragment_free(pte, 1). */
  override *pteFreeKernel(ctx: Ctx, _mm: Mm, pa: number): KGen {
    yield* ctx.call('pte_fragment_free', this.pteFragmentFree(ctx, pa, true));
  }

  /** pte_free_defer() — as the policy says (v6.6: arch/powerpc/mm/pgtable-frag.c). */
  override *pteFreeDefer(ctx: Ctx, mm: Mm, pa: number): KGen {
    for (const id of PTE_FREE_DEFER_DIFFERS) ctx.k.reach(id);
    yield* this.policy.pteFreeDefer(this, ctx, mm, pa);
  }

  /** __pte_free_tlb() → pgtable_free_tlb(tlb, table, PTE_INDEX) → tlb_remove_table(tlb, table | index). */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    yield* ctx.call('pgtable_free_tlb', tlbRemoveTable(ctx, tlb, pa));
  }

  /** __tlb_remove_table() → pgtable_free(table, PTE_INDEX) → pte_fragment_free(table, 0). */
  override *tlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
    yield* ctx.call('pgtable_free', this.pteFragmentFree(ctx, pa, false));
  }
}
