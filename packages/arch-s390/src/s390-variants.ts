import type { ArchVariant } from '@ptlab/core';
import type { S390PgallocDesign } from './s390-pgalloc.js';

/** Variant ids (ArchVariant.id), for create(config, variant). */
export const S390_V1_SHARED_RCU_HEAD = 's390-v1-shared-rcu-head';
export const S390_LIST_IN_TABLE = 's390-list-in-table';
export const S390_V1_MMDROP_IN_CALLBACK = 's390-v1-mmdrop-in-callback';
export const S390_REUSE_BEFORE_GRACE_PERIOD = 's390-reuse-before-grace-period';

/**
 * The historical s390 designs of seeds/000-001, each a way pte_free_defer()
 * was (or was proposed to be) put together with v6.6's 2K allocator. The
 * suite must catch every one of them; the kernel's v6.6 design must pass.
 */
export const S390_VARIANTS: readonly ArchVariant[] = [
  {
    id: S390_V1_SHARED_RCU_HEAD,
    description:
      "Hugh's first s390 pte_free_defer(): mmgrab(), then call_rcu(&page->rcu_head, pte_free_now) for each 2K half, pte_free_now() doing page_table_free(mm, table) and mmdrop_async(). Both halves of a page share the one rcu_head (a second call_rcu() while the first is queued), and the rcu_head overlays page->lru, which threads the page on pgtable_list (list pointers clobbered).",
    seed: 'seeds/000: "[07/12] s390: add pte_free_defer(), with use of mmdrop_async()" (Willy: two 2K tables share one rcu_head; Gerald Schaefer: "page->rcu_head would overlay with page->lru")',
    configs: ['s390-2k'],
    expect: 'caught',
    checks: ['rcu-head-reused', 'union-clobbered'],
  },
  {
    id: S390_LIST_IN_TABLE,
    description:
      'The "grossest patch": pgtable_list threaded through the first two longs of each free 2K half instead of page->lru, with pte_free_defer() doing page_table_free()\'s list handling at once (marking the half pending) and only the release deferred by RCU. The retracted half is linked onto the free list, i.e. list pointers are written into a table that lockless walkers can still see before the grace period ends.',
    seed: 'seeds/000: Hugh Dickins "one of the grossest patches I\'ve ever posted", Jason Gunthorpe "It is not RCU anymore if it writes to the page table itself before the grace period", Gerald Schaefer "the to-be-freed pagetables would still be accessible, but not really valid, if we added them back to the list, with list_heads inside them"; seeds/001',
    configs: ['s390-2k'],
    expect: 'caught',
    checks: ['pte-not-a-pte'],
  },
  {
    id: S390_V1_MMDROP_IN_CALLBACK,
    description:
      "v1's pte_free_defer() (mmgrab(), call_rcu on the page's rcu_head, page_table_free(mm, table) in the callback; free list off page->lru as in the grossest patch) dropping the mm with mmdrop() instead of mmdrop_async(): when the mm exited before the callback ran, the RCU callback holds the last reference and __mmdrop() sleeps in softirq.",
    seed: 'seeds/000: "[07/12] s390: add pte_free_defer(), with use of mmdrop_async()" ("mmgrab() in pte_free_defer() and mmdrop() in pte_free_now(). No, that is not a good context to call mmdrop() from, so make mmdrop_async() public and use that")',
    configs: ['s390-2k'],
    expect: 'caught',
    checks: ['sleep-in-atomic'],
  },
  {
    id: S390_REUSE_BEFORE_GRACE_PERIOD,
    description:
      "v6.6's pte_free_defer() (SetPageActive + page_table_free()) without the v3 rule that keeps an Active page off pgtable_list: a deferred half whose sibling is still in use goes back on the free list at once and page_table_alloc() hands it out again before its grace period ends.",
    seed: 'seeds/001: Gerald Schaefer "Such a fragment would not necessarily need to be on the list, because while it is on its way ... it cannot be re-used anyway"; seeds/000: "they could also be re-used, once they are back on the list, which will probably not go well"; seeds/004: "[PATCH v3 07/13]" ("a page is never on the free list if pte_free_defer() was used on either half")',
    configs: ['s390-2k'],
    expect: 'caught',
    checks: ['use-after-free'],
  },
];

/** The allocator design each variant runs. */
export const S390_VARIANT_DESIGNS: Readonly<Record<string, S390PgallocDesign>> = {
  [S390_V1_SHARED_RCU_HEAD]: {
    freeList: 'pt_list',
    deferral: 'v1',
    v1Mmdrop: 'async',
    activeBlocksReuse: true,
  },
  [S390_LIST_IN_TABLE]: {
    freeList: 'in-table',
    deferral: 'pending',
    v1Mmdrop: 'async',
    activeBlocksReuse: true,
  },
  [S390_V1_MMDROP_IN_CALLBACK]: {
    freeList: 'in-table',
    deferral: 'v1',
    v1Mmdrop: 'sync',
    activeBlocksReuse: true,
  },
  [S390_REUSE_BEFORE_GRACE_PERIOD]: {
    freeList: 'pt_list',
    deferral: 'active',
    v1Mmdrop: 'async',
    activeBlocksReuse: false,
  },
};
