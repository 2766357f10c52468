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
];

export { PMD_LOCK_NOT_RECHECKED, PTE_OFFSET_MAP_WITHOUT_RCU };
