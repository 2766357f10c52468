import type { ArchConfig } from '@ptlab/core';

/**
 * riscv64 with the Sv39 MMU: 4K pages, 512 8-byte entries per table, three
 * levels in use (pgd, pmd, pte: CONFIG_PGTABLE_LEVELS is 5 on 64BIT, and p4d
 * and pud are folded at boot when satp mode is Sv39, pgtable_l4/l5_enabled
 * false).
 *
 * Sources: arch/riscv/Kconfig (ARCH_ENABLE_SPLIT_PMD_PTLOCK if
 * PGTABLE_LEVELS > 2; HAVE_ARCH_TRANSPARENT_HUGEPAGE if 64BIT && MMU;
 * MMU_GATHER_RCU_TABLE_FREE if SMP && MMU and HAVE_FAST_GUP if MMU, both
 * merged for v6.9 by "riscv: support fast gup"; RISCV_ISA_SVNAPOT),
 * arch/riscv/include/asm/pgtable.h (PTRS_PER_PTE = PAGE_SIZE / sizeof(pte_t)),
 * pgtable-64.h (PTRS_PER_PMD, PMD_SHIFT 21, NAPOT_CONT64KB_ORDER).
 *
 * Why v6.9 and not v6.6: before v6.9 riscv had neither gup_fast nor RCU table
 * freeing, so the lockless walker every scenario races against did not exist
 * there. v6.10 renamed riscv_use_ipi_for_rfence() to !riscv_use_sbi_for_rfence()
 * and v6.14 moved the destructor into __tlb_remove_table(); the rest was
 * checked against the v6.9 patches only.
 *
 * The remote TLB flush is the SBI one (sbi_remote_sfence_vma_asid(): the
 * firmware shoots the other harts down without interrupting the kernel on
 * them), so an IRQ-disabled walker does not hold it off: that is why riscv
 * frees page tables by RCU (riscv_use_ipi_for_rfence() false ->
 * tlb_remove_ptdesc(), arch/riscv/include/asm/pgalloc.h).
 */
export const RISCV64_SV39: ArchConfig = {
  id: 'riscv64-sv39',
  arch: 'riscv',
  description:
    'riscv64 Sv39, SMP, remote TLB flushes by SBI (no IPI): tables freed by RCU (MMU_GATHER_RCU_TABLE_FREE), khugepaged uses the generic pte_free_defer(), 64K NAPOT hugetlb pages at PTE level',
  kernel: 'v6.9',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 512,
  PTRS_PER_PMD: 512,
  pteSize: 8,
  tablesPerPage: 1,
  levels: 3,
  splitPtePtlocks: true,
  splitPmdPtlocks: true,
  thp: true,
  hugetlbPteLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
  // ARCH_SUPPORTS_PAGE_TABLE_CHECK (riscv, v6.0: set_pte_at() calls page_table_check_pte_set());
  // modelled booted with page_table_check=on.
  pageTableCheck: true,
};

/**
 * The same kernel on a platform whose interrupt controller provides IPIs
 * (the AIA IMSIC: riscv_ipi_set_virq_range(..., true) turns on
 * riscv_use_ipi_for_rfence()): flush_tlb_range() IPIs the other harts
 * (arch/riscv/mm/tlbflush.c), so it waits for IRQ-disabled walkers, and
 * __pte_free_tlb() frees after the flush with tlb_remove_page_ptdesc().
 */
export const RISCV64_SV39_IPI: ArchConfig = {
  ...RISCV64_SV39,
  id: 'riscv64-sv39-ipi',
  description:
    'riscv64 Sv39, SMP, remote TLB flushes by IPI (riscv_use_ipi_for_rfence()): tables freed after the flush IPIs, khugepaged uses the generic pte_free_defer(), 64K NAPOT hugetlb pages at PTE level',
  tlbFlushIpi: true,
};

export const RISCV_CONFIGS: readonly ArchConfig[] = [RISCV64_SV39, RISCV64_SV39_IPI];
