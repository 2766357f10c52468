/**
 * The __arch__ kernel configurations the suite runs on: one ArchConfig per
 * configuration that changes how page tables are allocated, packed or freed.
 * As generated, the one config has the constants of the kernel's generic code
 * on a 4K-page, 64-bit machine (GenericArch's, x86-64 native): replace each
 * with your arch's, and name where it comes from (Kconfig, asm/pgtable*.h).
 */
import type { ArchConfig } from '@ptlab/core';

/** __arch__ with 4K pages. */
export const __archCamel__4k: ArchConfig = {
  id: '__arch__-4k',
  arch: '__arch__',
  description: '__arch__ with 4K pages, one PTE table per page (the generic constants)',
  /** The kernel release whose code the port models. */
  kernel: 'v6.6',
  /** PAGE_SIZE — asm/page.h */
  PAGE_SIZE: 4096,
  /** PTRS_PER_PTE — asm/pgtable*.h */
  PTRS_PER_PTE: 512,
  /** PTRS_PER_PMD — asm/pgtable*.h (the levels above the pmd are folded in the model) */
  PTRS_PER_PMD: 512,
  /** sizeof(pte_t) */
  pteSize: 8,
  /** PTE tables packed in one page (s390 v6.6: 2, powerpc 64K: up to 16, sparc32: 16) */
  tablesPerPage: 1,
  /** CONFIG_PGTABLE_LEVELS */
  levels: 4,
  /** CONFIG_SPLIT_PTE_PTLOCKS: each PTE table has its own ptlock */
  splitPtePtlocks: true,
  /** CONFIG_SPLIT_PMD_PTLOCKS */
  splitPmdPtlocks: true,
  /** CONFIG_TRANSPARENT_HUGEPAGE: khugepaged retracts tables, pte_free_defer() runs */
  thp: true,
  /** hugetlb pages mapped at PTE level (contiguous PTEs, NAPOT): see __arch__-hugetlb.ts */
  hugetlbPteLevel: false,
  /** CONFIG_MMU_GATHER_RCU_TABLE_FREE */
  rcuTableFree: false,
  /** Remote TLB flushes interrupt the other CPUs (IPIs), rather than being broadcast */
  tlbFlushIpi: true,
  /** CONFIG_GUP_GET_PXX_LOW_HIGH: a pmd is read as two 32-bit halves */
  pmdLowHigh: false,
  /** CONFIG_PT_RECLAIM (v6.14): empty PTE tables reclaimed on MADV_DONTNEED */
  ptReclaim: false,
};

/** Every config of the port, in the order reports list them. */
export const __archCamel__Configs: readonly ArchConfig[] = [__archCamel__4k];
