import type { ArchConfig } from '@ptlab/core';

/**
 * mips64 (R4K-style MMU, MIPS64r2+ with RI/XI), 4K pages. Sources:
 * arch/mips/include/asm/pgtable-64.h (PTE/PMD_TABLE_ORDER 0: PTRS_PER_PTE =
 * PTRS_PER_PMD = PAGE_SIZE / 8 = 512; 3 levels without MIPS_VA_BITS_48),
 * arch/mips/Kconfig (HAVE_ARCH_TRANSPARENT_HUGEPAGE if CPU_SUPPORTS_HUGEPAGES,
 * no MMU_GATHER_RCU_TABLE_FREE, no ARCH_ENABLE_SPLIT_PMD_PTLOCK),
 * arch/mips/include/asm/pgalloc.h (generic pte_alloc_one()/pte_free();
 * __pte_free_tlb() is pagetable_pte_dtor() + tlb_remove_page_ptdesc(): the
 * table is freed with the data pages after the TLB flush), kernel/smp.c
 * flush_tlb_range() (IPIs, smp_on_other_tlbs(), on CPUs without MMID/GINVT).
 */
export const MIPS64: ArchConfig = {
  id: 'mips64',
  arch: 'mips',
  description:
    'mips64, 4K pages, 512 8-byte PTEs per table, THP, generic pte_free_defer(), tables freed with the data pages after the IPI TLB flush (no RCU table free)',
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
  // HPAGE_SHIFT = PAGE_SHIFT + PAGE_SHIFT - 3 = PMD_SHIFT (2M): arch/mips/mm/hugetlbpage.c huge_pte_alloc() returns pmd_alloc().
  hugetlbPmdLevel: true,
  rcuTableFree: false,
  tlbFlushIpi: true,
  pmdLowHigh: false,
  ptReclaim: false,
};

/**
 * mips32 with XPA (MIPS32r5, CONFIG_XPA: PHYS_ADDR_T_64BIT && CPU_MIPS32), 4K
 * pages. Sources: arch/mips/include/asm/pgtable-32.h (64-bit pte_t
 * {pte_low, pte_high}: PTRS_PER_PTE = 4096 / 8 = 512; two levels, the pmd
 * folded into the 2048-entry pgd, PTRS_PER_PGD = USER_PTRS_PER_PGD * 2),
 * arch/mips/Kconfig (GUP_GET_PXX_LOW_HIGH if CPU_MIPS32 && PHYS_ADDR_T_64BIT;
 * CPU_SUPPORTS_HUGEPAGES depends on !(32BIT && PHYS_ADDR_T_64BIT): no THP, no
 * hugetlb). With two levels pmdp_get_lockless_sync() is the empty inline, but
 * __pte_offset_map() still reads the pmd with interrupts off
 * (pmdp_get_lockless_start()/end()).
 */
export const MIPS32_XPA: ArchConfig = {
  id: 'mips32-xpa',
  arch: 'mips',
  description:
    'mips32 XPA, 4K pages, 64-bit PTEs as pte_low/pte_high halves, GUP_GET_PXX_LOW_HIGH on a 2-level table (pmdp_get_lockless_sync() empty), no THP',
  kernel: 'v6.6',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 512,
  PTRS_PER_PMD: 2048,
  pteSize: 8,
  tablesPerPage: 1,
  levels: 2,
  splitPtePtlocks: true,
  splitPmdPtlocks: false,
  thp: false,
  hugetlbPteLevel: false,
  rcuTableFree: false,
  tlbFlushIpi: true,
  pmdLowHigh: true,
  ptReclaim: false,
};

export const MIPS_CONFIGS: readonly ArchConfig[] = [MIPS64, MIPS32_XPA];
