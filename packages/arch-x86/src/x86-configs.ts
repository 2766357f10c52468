import type { ArchConfig } from '@ptlab/core';

/**
 * x86 configs. Sources: arch/x86/Kconfig (ARCH_ENABLE_SPLIT_PMD_PTLOCK,
 * MMU_GATHER_RCU_TABLE_FREE if PARAVIRT, GUP_GET_PXX_LOW_HIGH if X86_PAE),
 * arch/x86/include/asm/pgtable_64_types.h (PTRS_PER_PTE 512, PTRS_PER_PMD 512).
 */
export const X86_64: ArchConfig = {
  id: 'x86-64',
  arch: 'x86',
  description:
    'x86-64, 4-level, native (no PARAVIRT): tables freed after IPI TLB flushes, khugepaged uses the generic pte_free_defer()',
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

export const X86_CONFIGS: readonly ArchConfig[] = [X86_64];
