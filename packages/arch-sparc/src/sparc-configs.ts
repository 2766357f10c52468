import type { ArchConfig } from '@ptlab/core';

/**
 * sparc64 (sun4u/sun4v), 8K pages. Sources: arch/sparc/include/asm/page_64.h
 * (PAGE_SHIFT 13), pgtable_64.h (PTRS_PER_PTE = 1 << (PAGE_SHIFT - 3) = 1024,
 * PMD_BITS = PAGE_SHIFT - 3: PTRS_PER_PMD 1024, PMD_SIZE 8M), arch/sparc/Kconfig
 * (PGTABLE_LEVELS 4, HAVE_ARCH_TRANSPARENT_HUGEPAGE, MMU_GATHER_RCU_TABLE_FREE if
 * SMP, no ARCH_ENABLE_SPLIT_PMD_PTLOCK), tlb_64.h (tlb_needs_table_invalidate()
 * false), tlbflush_64.h (flush_tlb_range() is empty: flushes are batched per
 * PTE and sent as cross-call mondo vectors, which interrupt-disabling does not
 * hold off), hugetlbpage.c (64K hugetlb pages at PTE level).
 */
export const SPARC64: ArchConfig = {
  id: 'sparc64',
  arch: 'sparc',
  description:
    'sparc64 SMP, 8K pages, one 1024-entry PTE table per page, pgtable_t is pte_t *, THP, RCU-freed mmu_gather tables, 64K hugetlb pages at PTE level',
  kernel: 'v6.6',
  PAGE_SIZE: 8192,
  PTRS_PER_PTE: 1024,
  PTRS_PER_PMD: 1024,
  pteSize: 8,
  tablesPerPage: 1,
  levels: 4,
  splitPtePtlocks: true,
  splitPmdPtlocks: false,
  thp: true,
  hugetlbPteLevel: true,
  // HPAGE_SHIFT 23 = PMD_SHIFT (8M): huge_pte_alloc() returns the pmd for sz >= PMD_SIZE (arch/sparc/mm/hugetlbpage.c).
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
};

/**
 * sparc32 with the SRMMU (sun4m/sun4d/LEON), 4K pages. Sources:
 * arch/sparc/include/asm/pgtable_32.h and pgtsrmmu.h (v5.8+ layout, Will
 * Deacon's "sparc32: mm: Reduce allocation size for PMD and PTE tables":
 * PTRS_PER_PTE 64, PTRS_PER_PMD 64, 4-byte entries, SRMMU_PTE_TABLE_SIZE 256,
 * so 16 PTE tables share a 4K page of the nocache pool), arch/sparc/mm/srmmu.c
 * (pte_alloc_one()/pte_free() count tables in the page's _refcount),
 * mm/Kconfig (SPLIT_PTLOCK_CPUS 999999 for SPARC32: no split ptlocks), no THP,
 * no MMU_GATHER_TABLE_FREE (__pte_free_tlb() is pte_free()). Cross-calls are
 * level-15 interrupts, which local_irq_save() (PIL 15) does not mask.
 */
export const SPARC32: ArchConfig = {
  id: 'sparc32',
  arch: 'sparc',
  description:
    'sparc32 SRMMU, 4K pages, 16 PTE tables of 64 entries per page of the nocache pool (page refcount counts tables), no THP, no split ptlocks, no RCU table free',
  kernel: 'v6.6',
  // arch/sparc/Kconfig selects HAVE_FAST_GUP only for SPARC64.
  gupFast: false,
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 64,
  PTRS_PER_PMD: 64,
  pteSize: 4,
  tablesPerPage: 16,
  levels: 3,
  splitPtePtlocks: false,
  splitPmdPtlocks: false,
  thp: false,
  hugetlbPteLevel: false,
  rcuTableFree: false,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
};

export const SPARC_CONFIGS: readonly ArchConfig[] = [SPARC64, SPARC32];
