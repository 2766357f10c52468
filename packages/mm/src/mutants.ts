import { PMD_LOCK_NOT_RECHECKED, PTE_OFFSET_MAP_WITHOUT_RCU } from '@ptlab/core';

/** A historical version of an mm or core path that the seeds show to be wrong. */
export interface MmMutant {
  readonly id: string;
  readonly description: string;
  /** The seed message (file and subject) that explains it. */
  readonly seed: string;
}

/** Ids the paths test with `ctx.k.has(id)`. */
export const RETRACT_FREES_IMMEDIATELY = 'retract-frees-immediately';
/** collapse_pte_mapped_thp() before a98460494b16: uffd private does not take pml early. */
export const COLLAPSE_BEFORE_UFFD_FIX = 'collapse-before-uffd-fix';
/** The trylock v2 of the uffd fix: nr_ptes reset, so an abort on the recheck pass skips flush_tlb_mm(). */
export const COLLAPSE_UFFD_FIX_V2_TRYLOCK = 'collapse-uffd-fix-v2-trylock';
/** collapse_pte_mapped_thp() clearing with pte_clear() instead of ptep_clear(). */
export const COLLAPSE_PTE_CLEAR = 'collapse-pte-clear';
/** retract_page_tables() v1: no mmu_notifier_invalidate_range_start()/end() around the pmd clear. */
export const RETRACT_WITHOUT_MMU_NOTIFIER = 'retract-without-mmu-notifier';
/** retract_page_tables() v1: no anon_vma/userfaultfd_wp() recheck under the ptl. */
export const RETRACT_WITHOUT_RECHECK = 'retract-without-recheck';

export const MM_MUTANTS: readonly MmMutant[] = [
  {
    id: RETRACT_FREES_IMMEDIATELY,
    description:
      'retract_page_tables() frees the retracted table with pte_free() at once instead of pte_free_defer(): lockless walkers inside rcu_read_lock() still use it.',
    seed: 'seeds/004: "[PATCH v3 09/13] mm/khugepaged: retract_page_tables() without mmap or vma lock" and "[PATCH v3 08/13] mm/pgtable: add pte_free_defer() for pgtable as page"',
  },
  {
    id: PTE_OFFSET_MAP_WITHOUT_RCU,
    description:
      '__pte_offset_map() without rcu_read_lock() (patch 01/13 absent): a table retracted and freed after a grace period can vanish under a pte_offset_map() user.',
    seed: 'seeds/004: "[PATCH v3 01/13] mm/pgtable: add rcu_read_lock() and rcu_read_unlock()s"',
  },
  {
    id: COLLAPSE_BEFORE_UFFD_FIX,
    description:
      'collapse_pte_mapped_thp() as in "[PATCH v3 10/13]" before the uffd fix: the ptl is dropped between clearing the PTEs (step 2) and removing the table (step 4) even on a private uffd-armed VMA, so UFFDIO_COPY can install an anon PTE in the table about to be freed: "BUG: Bad rss-counter state ... type:MM_ANONPAGES val:1".',
    seed: 'seeds/004: Jann Horn, "Re: [BUG] Re: [PATCH v3 10/13] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()"; fixed by "[PATCH mm-unstable] mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd" (a98460494b16)',
  },
  {
    id: COLLAPSE_UFFD_FIX_V2_TRYLOCK,
    description:
      'The trylock v2 of the uffd fix: spin_trylock(pml) with the ptl held; on failure drop and retake the ptl and, for uffd private, go back to clear the table again. nr_ptes was reset to 0 after step 3, so when the recheck pass aborts the abort path skips flush_tlb_mm(): CPUs keep TLB entries for the PTEs the first pass cleared.',
    seed: 'seeds/004: "[PATCH mm-unstable v2] mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd" and Hugh Dickins\' reply of 2023-08-22 ("resetting it to 0 there would likely skip the abort path\'s flush_tlb_mm(mm)")',
  },
  {
    id: COLLAPSE_PTE_CLEAR,
    description:
      'collapse_pte_mapped_thp() clears the PTEs with pte_clear() instead of ptep_clear(): with CONFIG_PAGE_TABLE_CHECK the pages stay counted as mapped, and freeing the THP later BUGs.',
    seed: 'seeds/004: "[PATCH v3 10/13 fix2] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock(): fix2" (reported by Qi Zheng)',
  },
  {
    id: RETRACT_WITHOUT_MMU_NOTIFIER,
    description:
      'retract_page_tables() v1: clears the pmd with pmdp_collapse_flush() but without mmu_notifier_invalidate_range_start()/end(), so an IOMMU consuming the CPU page tables keeps walking through its cached pointer to the retracted (and later freed) table.',
    seed: 'seeds/004: Jann Horn on "[PATCH 09/12] mm/khugepaged: retract_page_tables() without mmap or vma lock" ("probably wrong for IOMMUv2 users"); v2 changelog "bring back mmu_notifier calls for PMD, per JannH and Jason"',
  },
  {
    id: RETRACT_WITHOUT_RECHECK,
    description:
      'retract_page_tables() v1: checks vma->anon_vma and userfaultfd_wp() only before taking the locks, not again under the ptl, so a racing UFFDIO_COPY into a private VMA can put an anon PTE in the table being retracted: the page leaks, "Bad rss-counter state".',
    seed: 'seeds/004: Jann Horn and Peter Xu on "[PATCH 09/12] mm/khugepaged: retract_page_tables() without mmap or vma lock"; v2 changelog "repeat checks under ptl because UFFD, per PeterX and JannH"',
  },
  {
    id: PMD_LOCK_NOT_RECHECKED,
    description:
      '__pte_offset_map_lock() without the pmd_same() recheck after taking the ptl: a caller that mapped a table just before it was retracted takes its lock afterwards and writes a PTE into the detached table.',
    seed: 'seeds/004: "[PATCH v3 13/13] mm/pgtable: notes on pte_offset_map[_lock]()" ("*pmd is rechecked after acquiring the ptlock, and retried internally if it changed: so that a page table can be safely removed or replaced by THP while holding its lock")',
  },
];

export { PMD_LOCK_NOT_RECHECKED, PTE_OFFSET_MAP_WITHOUT_RCU };
