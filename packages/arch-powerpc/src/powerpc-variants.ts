/**
 * Historical and alternative powerpc pte_free_defer() designs from the seeds,
 * as PteFreePolicy objects the port switches in by variant id.
 */
import type { ArchVariant, Ctx, KGen } from '@ptlab/core';
import { POWERPC_8XX_HUGETLB_UNBALANCED_MAP } from './powerpc-hugetlb.js';
import {
  MAINLINE_POLICY,
  POWERPC_ALWAYS_RCU,
  POWERPC_FRAG_DESTROY_CLEAR_ACTIVE,
  POWERPC_V1_SHARED_RCU_HEAD,
  POWERPC_V2_REDEFER,
  type PowerpcPgalloc,
  type PteFreePolicy,
} from './powerpc-pgalloc.js';
import { POWERPC_HASH_FLUSH_UNBALANCED_MAP } from './powerpc-pgtable.js';

export {
  POWERPC_8XX_HUGETLB_UNBALANCED_MAP,
  POWERPC_ALWAYS_RCU,
  POWERPC_FRAG_DESTROY_CLEAR_ACTIVE,
  POWERPC_HASH_FLUSH_UNBALANCED_MAP,
  POWERPC_V1_SHARED_RCU_HEAD,
  POWERPC_V2_REDEFER,
};
export type PowerpcVariantId =
  | typeof POWERPC_V1_SHARED_RCU_HEAD
  | typeof POWERPC_V2_REDEFER
  | typeof POWERPC_ALWAYS_RCU
  | typeof POWERPC_FRAG_DESTROY_CLEAR_ACTIVE
  | typeof POWERPC_HASH_FLUSH_UNBALANCED_MAP
  | typeof POWERPC_8XX_HUGETLB_UNBALANCED_MAP;

/**
 * The tail of pte_fragment_free() before the series (v6.5,
 * arch/powerpc/mm/pgtable-frag.c): the last reference frees the page at once
 * (kernel: __free_page(); user: pgtable_pte_page_dtor() + __free_page()).
 */
function* freeNowOnLastReference(
  a: PowerpcPgalloc,
  ctx: Ctx,
  page: { pfn: number },
  kernel: boolean,
): KGen {
  if (kernel) yield* a.pagetableFree(ctx, page.pfn);
  else yield* a.pteFreeNow(ctx, page.pfn);
}

/**
 * v1 — "[PATCH 05/12] powerpc: add pte_free_defer() for pgtables sharing page"
 * (May 2023): pte_free_defer() = call_rcu(&page->rcu_head, pte_free_now) for
 * each table, pte_free_now() → pte_fragment_free(). Two fragments of one page
 * deferred within one grace period queue the page's single rcu_head twice
 * (Matthew Wilcox: "you'll reuse the rcu_head and I cannot imagine things go
 * well from that point").
 */
export const V1_SHARED_RCU_HEAD_POLICY: PteFreePolicy = {
  /** pte_free_defer() (v1) — arch/powerpc/mm/pgtable-frag.c */
  *pteFreeDefer(a, ctx, _mm, pa) {
    // The table's deferral (the page must be alive): its status only.
    yield ctx.step('pte_free_defer() (v1)', ctx.k.pt.statusOf({ pa }));
    const page = a.pageOf(ctx, pa, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, pa);
    // pte_free_now() (v1): container_of() gives only the page; pte_fragment_free() needs no more.
    yield* a.queuePteFreeNow(ctx, page, 'pte_free_now', (c) =>
      c.call('pte_fragment_free', a.pteFragmentFree(c, pa, false)),
    );
  },
  lastReference: freeNowOnLastReference,
  everyFreeDeferred: false,
};

/** PTE_FREE_DEFERRED — "[PATCH v2 05/12]": 0x10000, "beyond any PTE_FRAG_NR". */
export const PTE_FREE_DEFERRED = 0x10000;

/**
 * pte_free_now() (v2) — arch/powerpc/mm/pgtable-frag.c: undo this deferral's
 * heightening; if no other deferral came in meanwhile, drop the fragment's
 * last reference with pte_fragment_free(); otherwise collapse all later
 * deferrals into one more grace period and call_rcu() again.
 */
function* pteFreeNowV2(a: PowerpcPgalloc, ctx: Ctx, pfn: number): KGen {
  // container_of(head, struct page, rcu_head); atomicAddReturn() checks it is still allocated.
  const page = ctx.k.pages.raw(pfn);
  let refcount = yield* a.atomicAddReturn(
    ctx,
    page,
    -(PTE_FREE_DEFERRED - 1),
    'atomic_sub_return(PTE_FREE_DEFERRED - 1)',
  );
  if (refcount < PTE_FREE_DEFERRED) {
    // pte_fragment_free(page_address(page), 0): one reference of the page, whichever table it was.
    yield* ctx.call(
      'pte_fragment_free',
      a.pteFragmentFree(ctx, pfn * ctx.k.config.PAGE_SIZE, false, null),
    );
    return;
  }
  while (refcount >= PTE_FREE_DEFERRED + PTE_FREE_DEFERRED)
    refcount = yield* a.atomicAddReturn(
      ctx,
      page,
      -PTE_FREE_DEFERRED,
      'atomic_sub_return(PTE_FREE_DEFERRED)',
    );
  // Remove that refcount of 1 left for fragment freeing above.
  yield* a.atomicAddReturn(ctx, page, -1, 'atomic_dec');
  yield* a.queuePteFreeNow(ctx, page, 'pte_free_now', (c) => pteFreeNowV2(a, c, pfn));
}

/**
 * v2 — "[PATCH v2 05/12] powerpc: add pte_free_defer() for pgtables sharing
 * page" (June 2023): "account concurrent deferrals with a heightened
 * refcount, only the first making use of the rcu_head, but re-deferring if
 * more deferrals arrived during its grace period". Correct, but superseded by
 * Jason's simpler PageActive design (v3, merged).
 */
export const V2_REDEFER_POLICY: PteFreePolicy = {
  /** pte_free_defer() (v2) — arch/powerpc/mm/pgtable-frag.c */
  *pteFreeDefer(a, ctx, _mm, pa) {
    const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
    // The table's deferral (the page must be alive): its status only.
    yield ctx.step('pte_free_defer() (v2)', ctx.k.pt.statusOf({ pa }));
    const page = a.pageOf(ctx, pa, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, pa);
    // Convert our refcount of 1 to PTE_FREE_DEFERRED; call_rcu() only if the rcu_head is not in use.
    const refcount = yield* a.atomicAddReturn(
      ctx,
      page,
      PTE_FREE_DEFERRED - 1,
      'atomic_add_return(PTE_FREE_DEFERRED - 1)',
    );
    if (refcount < PTE_FREE_DEFERRED + PTE_FREE_DEFERRED)
      yield* a.queuePteFreeNow(ctx, page, 'pte_free_now', (c) => pteFreeNowV2(a, c, pfn));
  },
  lastReference: freeNowOnLastReference,
  everyFreeDeferred: false,
};

/**
 * Jason Gunthorpe's proposal (seeds/002, review of v2 05/12): pte_fragment_free()
 * always frees the page by RCU when its last fragment goes
 * (pgtable_free_cb / pgtable_free_cb_kernel), so pte_free_defer() needs
 * nothing special: it is pte_fragment_free(pgtable, 0).
 */
export const ALWAYS_RCU_POLICY: PteFreePolicy = {
  /** pte_free_defer() — pte_fragment_free(pgtable, 0): the page free is RCU-deferred anyway. */
  *pteFreeDefer(a, ctx, _mm, pa) {
    yield* a.pteFragmentFree(ctx, pa, false);
  },
  /** pte_fragment_free() tail: "Always RCU free pagetable memory". */
  *lastReference(a, ctx, page, kernel) {
    if (kernel)
      yield* a.queuePteFreeNow(ctx, page, 'pgtable_free_cb_kernel', (c) =>
        a.pagetableFree(c, page.pfn),
      );
    else yield* a.queuePteFreeNow(ctx, page, 'pgtable_free_cb', (c) => a.pteFreeNow(c, page.pfn));
  },
  everyFreeDeferred: true,
};

/** Variant id → its policy; a new variant fails type-checking until it has one. */
export const POWERPC_VARIANT_POLICIES: Readonly<Record<PowerpcVariantId, PteFreePolicy>> = {
  [POWERPC_V1_SHARED_RCU_HEAD]: V1_SHARED_RCU_HEAD_POLICY,
  [POWERPC_V2_REDEFER]: V2_REDEFER_POLICY,
  [POWERPC_ALWAYS_RCU]: ALWAYS_RCU_POLICY,
  // v6.6 pte_free_defer(); only pte_frag_destroy() differs (it tests the variant id).
  [POWERPC_FRAG_DESTROY_CLEAR_ACTIVE]: MAINLINE_POLICY,
  // v6.6 pte_free_defer(); flush_hash_table_pmd_range() and huge_pte_alloc() test the variant id.
  [POWERPC_HASH_FLUSH_UNBALANCED_MAP]: MAINLINE_POLICY,
  [POWERPC_8XX_HUGETLB_UNBALANCED_MAP]: MAINLINE_POLICY,
};

/**
 * Every variant records where it can differ from v6.6 (ArchVariant.reachRecorded):
 * pte_free_defer(), pte_fragment_free() (always-RCU), pte_frag_destroy() with PG_active
 * set, hash__pmdp_collapse_flush() and the 8xx huge_pte_alloc().
 */
export const POWERPC_VARIANTS: readonly (ArchVariant & { readonly id: PowerpcVariantId })[] = [
  {
    id: POWERPC_V1_SHARED_RCU_HEAD,
    description:
      "v1 pte_free_defer(): call_rcu() on the page's one rcu_head for every table, though up to PTE_FRAG_NR tables share the page: two tables of one page retracted within a grace period queue the same rcu_head twice.",
    seed: 'seeds/004: "[PATCH 05/12] powerpc: add pte_free_defer() for pgtables sharing page" (v1) and Matthew Wilcox\'s reply quoted in "Re: [PATCH 05/12] powerpc: add pte_free_defer() for pgtables sharing page" (2023-06-05)',
    configs: ['ppc64-hash-64k', 'ppc64-radix-64k'],
    expect: 'caught',
    checks: ['rcu-head-reused'],
    reachRecorded: true,
  },
  {
    id: POWERPC_V2_REDEFER,
    description:
      'v2 pte_free_defer(): concurrent deferrals counted in pt_frag_refcount by PTE_FREE_DEFERRED (0x10000), one call_rcu() at a time, pte_free_now() re-deferring once if more arrived during the grace period. Correct (replaced by the simpler PageActive design).',
    seed: 'seeds/004: "[PATCH v2 05/12] powerpc: add pte_free_defer() for pgtables sharing page" (2023-06-20) and its review ("Not very good reasons: good enough, or can you supply a better patch?")',
    configs: ['ppc64-hash-64k', 'ppc64-radix-64k', 'ppc64-radix-4k'],
    expect: 'pass',
    checks: [],
    reachRecorded: true,
  },
  {
    id: POWERPC_ALWAYS_RCU,
    description:
      "Jason Gunthorpe's design: pte_fragment_free() always frees the page by call_rcu() once its last fragment goes, so pte_free_defer() is just pte_fragment_free(). Correct (costs a grace period on every page-table page free).",
    seed: 'seeds/002: "[PATCH v2 05/12] powerpc: add pte_free_defer() for pgtables sharing page" (Jason Gunthorpe, 2023-06-21: "make pte_fragment_free() unconditionally do the RCU")',
    configs: ['ppc64-hash-64k', 'ppc64-radix-64k', 'ppc64-radix-4k', 'ppc32-8xx'],
    expect: 'pass',
    checks: [],
    reachRecorded: true,
  },
  {
    id: POWERPC_FRAG_DESTROY_CLEAR_ACTIVE,
    description:
      'v6.6 with the fix of the pte_frag_destroy() finding: folio_clear_active() before the page of the mm\'s fragment cache is freed at __mmdrop(), so a page one of whose fragments was pte_free_defer()ed is not freed with PG_active set ("BUG: Bad page state"). The proposed fix of a kernel finding; must pass.',
    seed: 'upstream "powerpc/pgtable-frag: Fix bad page state in pte_frag_destroy" (Ritesh Harjani, linuxppc-dev 2026, powerpc next fda4d71651f7; Fixes: 32cc0b7c9d50 "powerpc: add pte_free_defer() for pgtables sharing page"); docs/kernel-findings.md (powerpc-frag-destroy-active)',
    configs: ['ppc64-hash-64k', 'ppc64-radix-64k'],
    expect: 'pass',
    checks: [],
    reachRecorded: true,
  },
  {
    id: POWERPC_HASH_FLUSH_UNBALANCED_MAP,
    description:
      'flush_hash_table_pmd_range() as in v6.4: hash__pmdp_collapse_flush() passes it a copy of the old pmd, and it walks the detached table with start_pte = pte_offset_map(pmd, addr) but never pte_unmap()s it (nor checks for NULL): once pte_offset_map() takes rcu_read_lock(), every retract or collapse on the hash MMU returns inside an RCU read-side section.',
    seed: 'upstream "powerpc: allow pte_offset_map[_lock]() to fail" (Hugh Dickins, v6.5; seeds/004 "[PATCH v2 12/23]": "Balance successful pte_offset_map() with pte_unmap() where omitted"), arch/powerpc/mm/book3s64/hash_tlb.c; with "[PATCH v3 01/13] mm/pgtable: add rcu_read_lock() and rcu_read_unlock()s"',
    configs: ['ppc64-hash-64k'],
    expect: 'caught',
    checks: ['rcu-unbalanced', 'sleep-in-atomic'],
    reachRecorded: true,
  },
  {
    id: POWERPC_8XX_HUGETLB_UNBALANCED_MAP,
    description:
      'huge_pte_alloc() on the 8xx as in v6.4: 16K and 512K hugetlb pages take their PTE table with pte_alloc_map() (pte_alloc() then pte_offset_map()), and hugetlb never pte_unmap()s: every hugetlb fault leaves an RCU read-side section held.',
    seed: 'upstream "powerpc/hugetlb: pte_alloc_huge()" (Hugh Dickins, v6.5; seeds/004 "[PATCH v2 13/23]": "pte_alloc_map() expects to be followed by pte_unmap(), but hugetlb omits that"), arch/powerpc/mm/hugetlbpage.c',
    configs: ['ppc32-8xx'],
    expect: 'caught',
    checks: ['rcu-unbalanced', 'sleep-in-atomic'],
    reachRecorded: true,
  },
];
