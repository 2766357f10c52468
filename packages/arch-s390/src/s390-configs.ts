import type { ArchConfig } from '@ptlab/core';

/**
 * s390 (z/Architecture) configs. Sources: arch/s390/include/asm/pgtable.h
 * (_PAGE_ENTRIES 256 = PTRS_PER_PTE, _CRST_ENTRIES 2048 = PTRS_PER_PMD,
 * _SEGMENT_SHIFT 20: a pmd maps 1M), arch/s390/Kconfig (PGTABLE_LEVELS 5,
 * folded at run time; MMU_GATHER_RCU_TABLE_FREE, MMU_GATHER_NO_GATHER,
 * ARCH_ENABLE_SPLIT_PMD_PTLOCK if PGTABLE_LEVELS > 2, HAVE_ARCH_TRANSPARENT_HUGEPAGE),
 * arch/s390/mm/pgalloc.c (v6.6: two 2K tables per 4K page; v6.7+, commit
 * d08d4e7cd6bf "s390/mm: use full 4KB page for 2KB PTE": one per page).
 * TLB flushes are IPTE/IDTE broadcasts: nobody is interrupted, so gup_fast
 * relies on RCU table freeing, not on IPIs.
 */
const S390_COMMON = {
  arch: 's390',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 256,
  PTRS_PER_PMD: 2048,
  pteSize: 8,
  levels: 5,
  splitPtePtlocks: true,
  splitPmdPtlocks: true,
  thp: true,
  hugetlbPteLevel: false,
  // 1M hugetlb pages are large segment entries (arch/s390/mm/hugetlbpage.c huge_pte_alloc(): sz == PMD_SIZE → pmd_alloc()).
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
} as const;

/** v6.6: two 2K PTE tables per 4K page, AA/PP bits in _refcount, mm->context.pgtable_list. */
export const S390_2K: ArchConfig = {
  ...S390_COMMON,
  id: 's390-2k',
  description:
    's390 v6.6: two 2K PTE tables share a 4K page (AA/PP bits in the page _refcount, free halves on mm->context.pgtable_list); pte_free_defer() = SetPageActive + page_table_free(), one call_rcu when the last half goes',
  kernel: 'v6.6',
  tablesPerPage: 2,
};

/** v6.7+ (d08d4e7cd6bf): one PTE table per 4K page, the upper 2K unused; pte_free_defer() = call_rcu(pt_rcu_head). */
export const S390_4K: ArchConfig = {
  ...S390_COMMON,
  id: 's390-4k',
  description:
    's390 v6.7+: one 2K PTE table per 4K page (upper half zero), pte_free_defer() = call_rcu(&ptdesc->pt_rcu_head, pte_free_now)',
  kernel: 'v6.7',
  tablesPerPage: 1,
};

/** v6.6 KVM guest mm (mm_alloc_pgste): every table a full 4K page, 2K PTEs + 2K PGSTEs, AA=3. */
export const S390_PGSTE: ArchConfig = {
  ...S390_COMMON,
  id: 's390-pgste',
  description:
    's390 v6.6 KVM host mm with PGSTEs (mm_alloc_pgste): each 4K table page holds 256 PTEs and 256 PGSTEs (AA=3, never on pgtable_list); pte_free_defer() WARNs and frees via RCU',
  kernel: 'v6.6',
  tablesPerPage: 1,
};

export const S390_CONFIGS: readonly ArchConfig[] = [S390_2K, S390_4K, S390_PGSTE];
