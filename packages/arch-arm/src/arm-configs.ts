import type { ArchConfig } from '@ptlab/core';

/** The three MMU formats the port models. */
export type ArmMmu = 'classic' | 'lpae' | 'arm64';

/** An arm config: the generic constants plus what only arm code looks at. */
export interface ArmConfig extends ArchConfig {
  readonly mmu: ArmMmu;
  /**
   * cache_is_vivt() — arch/arm/include/asm/cachetype.h: ARMv5 and older have
   * VIVT D-caches, so update_mmu_cache() runs make_coherent() → adjust_pte()
   * on the other shared writable mappings of a page (arch/arm/mm/fault-armv.c,
   * compiled only for __LINUX_ARM_ARCH__ < 6).
   */
  readonly cacheVivt: boolean;
}

/**
 * ARM classic MMU (arch/arm/include/asm/pgtable-2level.h): PTRS_PER_PTE 512,
 * PTRS_PER_PMD 1 (folded), PTRS_PER_PGD 2048 — a Linux pgd/pmd entry is a pair
 * of 1 MB L1 descriptors, and one 4K PTE page holds 512 Linux ptes followed by
 * the two 256-entry hardware tables (PTE_HWTABLE_OFF = 512 * sizeof(pte_t)).
 * ARMv5 VIVT caches: SPLIT_PTLOCK_CPUS = 999999 for ARM && !CPU_CACHE_VIPT
 * (mm/Kconfig), so ptl == mm->page_table_lock; no THP (HAVE_ARCH_TRANSPARENT_
 * HUGEPAGE if ARM_LPAE), no MMU_GATHER_RCU_TABLE_FREE (if SMP && ARM_LPAE), so
 * tlb_remove_table() is tlb_remove_page() (arch/arm/include/asm/tlb.h).
 * Remote TLB flushes by IPI (flush_tlb_range(): tlb_ops_need_broadcast()).
 */
export const ARM_CLASSIC: ArmConfig = {
  id: 'arm-classic',
  arch: 'arm',
  description:
    'ARM 32-bit classic 2-level MMU, ARMv5 VIVT cache: a PTE page holds 512 Linux ptes and 512 hardware ptes, 4-byte ptes, no THP, no RCU table free, no split ptlocks (ptl == mm->page_table_lock); update_mmu_cache() runs make_coherent()/adjust_pte()',
  kernel: 'v6.6',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 512,
  /** PTRS_PER_PGD: the pmd level is folded into the pgd (2048 entries of two L1 words). */
  PTRS_PER_PMD: 2048,
  pteSize: 4,
  tablesPerPage: 1,
  levels: 2,
  splitPtePtlocks: false,
  splitPmdPtlocks: false,
  thp: false,
  hugetlbPteLevel: false,
  rcuTableFree: false,
  tlbFlushIpi: true,
  pmdLowHigh: false,
  ptReclaim: false,
  mmu: 'classic',
  cacheVivt: true,
};

/**
 * ARM LPAE (arch/arm/include/asm/pgtable-3level.h): PTRS_PER_PTE 512,
 * PTRS_PER_PMD 512, PTRS_PER_PGD 4, 8-byte entries read with ldrd (no
 * GUP_GET_PXX_LOW_HIGH: "[PATCH v3 02/13]" — READ_ONCE() is enough on arm).
 * ARMv7 (CPU_32v7), VIPT caches, so split PTE ptlocks (NR_CPUS >= 4); arm does
 * not select ARCH_ENABLE_SPLIT_PMD_PTLOCK. THP (HAVE_ARCH_TRANSPARENT_HUGEPAGE
 * if ARM_LPAE), MMU_GATHER_RCU_TABLE_FREE if SMP && ARM_LPAE; TLB maintenance
 * broadcast in hardware (ARMv7 multiprocessing extensions), no IPI.
 */
export const ARM_LPAE: ArmConfig = {
  id: 'arm-lpae',
  arch: 'arm',
  description:
    'ARM 32-bit LPAE 3-level MMU (ARMv7, SMP): 8-byte ptes, 512 per table, THP, RCU table free, split PTE ptlocks, broadcast TLB maintenance',
  kernel: 'v6.6',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 512,
  PTRS_PER_PMD: 512,
  pteSize: 8,
  tablesPerPage: 1,
  levels: 3,
  splitPtePtlocks: true,
  splitPmdPtlocks: false,
  thp: true,
  hugetlbPteLevel: false,
  // ARCH_SUPPORTS_HUGETLBFS if ARM_LPAE, ARCH_WANT_GENERAL_HUGETLB: HPAGE_SHIFT = PMD_SHIFT (2M, arch/arm/include/asm/pgtable-3level.h).
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
  mmu: 'lpae',
  cacheVivt: false,
};

/**
 * arm64 with the 4K granule, 48-bit VA (arch/arm64/include/asm/pgtable-hwdef.h):
 * 4 levels, PTRS_PER_PTE = PTRS_PER_PMD = 512. arch/arm64/Kconfig selects
 * MMU_GATHER_RCU_TABLE_FREE unconditionally (TLBI is broadcast: no IPIs) and
 * ARCH_ENABLE_SPLIT_PMD_PTLOCK if PGTABLE_LEVELS > 2; THP; hugetlb
 * contiguous-PTE pages (CONT_PTE_SIZE = 16 * 4K = 64K) live at PTE level
 * (arch/arm64/mm/hugetlbpage.c, "[PATCH v2 03/23] arm64/hugetlb:
 * pte_alloc_huge() pte_offset_huge()"). PT_RECLAIM: only proposed (2025).
 */
export const ARM64_4K: ArmConfig = {
  id: 'arm64-4k',
  arch: 'arm',
  description:
    'arm64, 4K granule, 4 levels: THP, RCU table free always (broadcast TLBI, no IPIs), split ptlocks, hugetlb contiguous-PTE 64K pages in PTE tables',
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
  hugetlbPteLevel: true,
  // PMD_SIZE (2M) hugetlb pages: huge_pte_alloc() returns the pmd (arch/arm64/mm/hugetlbpage.c).
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
  // ARCH_SUPPORTS_PAGE_TABLE_CHECK (arm64, v6.0); modelled booted with page_table_check=on.
  pageTableCheck: true,
  mmu: 'arm64',
  cacheVivt: false,
};

export const ARM_CONFIGS: readonly ArmConfig[] = [ARM_CLASSIC, ARM_LPAE, ARM64_4K];

/** The arm-specific half of a config handed to create() (looked up by id, so plain ArchConfigs work too). */
export function armConfigOf(config: ArchConfig): ArmConfig | undefined {
  const own = ARM_CONFIGS.find((c) => c.id === config.id);
  if (own) return { ...own, ...config };
  const c = config as Partial<ArmConfig>;
  if (c.mmu && c.cacheVivt !== undefined) return config as ArmConfig;
  return undefined;
}
