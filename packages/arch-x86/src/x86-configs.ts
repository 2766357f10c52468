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
  // ARCH_WANT_GENERAL_HUGETLB: 2M hugetlb pages are huge pmds (arch/x86/Kconfig).
  hugetlbPmdLevel: true,
  rcuTableFree: false,
  tlbFlushIpi: true,
  pmdLowHigh: false,
  ptReclaim: false,
  // ARCH_SUPPORTS_PAGE_TABLE_CHECK if X86_64; modelled booted with page_table_check=on.
  pageTableCheck: true,
};

/**
 * How ___pte_free_tlb() → paravirt_tlb_remove_table() hands a PTE table to the
 * mmu_gather (arch/x86/mm/pgtable.c, arch/x86/kernel/paravirt.c):
 * `page` — tlb_remove_page(): freed with the data pages after the IPI TLB
 * flush (no PARAVIRT, or PARAVIRT on bare metal: native_tlb_remove_table());
 * `table` — tlb_remove_table(): RCU-freed batch (Xen PV, KVM and Hyper-V set
 * pv_ops.mmu.tlb_remove_table to it because their remote flushes do not IPI;
 * and with CONFIG_PT_RECLAIM, v6.14, "x86: mm: free page table pages by RCU
 * instead of semi RCU").
 */
export type X86TlbRemoveTable = 'page' | 'table';

/** An x86 config: the generic constants plus what only x86 code looks at. */
export interface X86Config extends ArchConfig {
  readonly tlbRemoveTable: X86TlbRemoveTable;
}

/**
 * x86-64 as a paravirtualized guest (CONFIG_PARAVIRT, KVM with PV TLB flush /
 * Hyper-V / Xen PV): MMU_GATHER_RCU_TABLE_FREE (selected if PARAVIRT), remote
 * TLB flush by hypercall (kvm_flush_tlb_multi(): no IPI to running vCPUs), so
 * pv tlb_remove_table is tlb_remove_table(); when no batch page can be had,
 * tlb_remove_table_one() (mm/mmu_gather.c, v6.6) is "semi RCU":
 * tlb_remove_table_sync_one() (an IPI to every CPU) then an immediate free.
 */
export const X86_64_PARAVIRT: X86Config = {
  ...X86_64,
  id: 'x86-64-paravirt',
  description:
    'x86-64 paravirt guest (KVM PV TLB flush / Hyper-V / Xen PV): tables RCU-freed through tlb_remove_table(), remote flushes by hypercall (no IPI), single-table fallback "semi RCU" (IPI + immediate free)',
  kernel: 'v6.6',
  rcuTableFree: true,
  tlbFlushIpi: false,
  tlbRemoveTable: 'table',
};

/**
 * x86-64 v6.14 with CONFIG_PT_RECLAIM (default y; x86 selects
 * ARCH_SUPPORTS_PT_RECLAIM if X86_64; PT_RECLAIM selects
 * MMU_GATHER_RCU_TABLE_FREE): MADV_DONTNEED frees empty PTE tables; native
 * tlb_remove_table() for page tables, and the single-table fallback frees by
 * call_rcu() on pt_rcu_head (__tlb_remove_table_one(), arch/x86/include/asm/tlb.h)
 * — seeds/003. Bare metal: remote flushes by IPI.
 */
export const X86_64_PT_RECLAIM: X86Config = {
  ...X86_64,
  id: 'x86-64-pt-reclaim',
  description:
    'x86-64 v6.14 with CONFIG_PT_RECLAIM: MADV_DONTNEED reclaims empty PTE tables; MMU_GATHER_RCU_TABLE_FREE, single tables freed by RCU on pt_rcu_head; native IPI TLB flushes',
  kernel: 'v6.14',
  rcuTableFree: true,
  ptReclaim: true,
  tlbRemoveTable: 'table',
};

/**
 * x86-32 with PAE (arch/x86/include/asm/pgtable-3level{,_types}.h): 3 levels,
 * PTRS_PER_PTE = PTRS_PER_PMD = 512, 8-byte entries read as pmd_low/pmd_high
 * (GUP_GET_PXX_LOW_HIGH if X86_PAE): pmdp_get_lockless() is the generic
 * low/high/low loop, __pte_offset_map() wraps it in local_irq_save()
 * ("[PATCH v3 02/13]"), retract_page_tables() calls pmdp_get_lockless_sync() =
 * tlb_remove_table_sync_one(). Split PTE and PMD ptlocks
 * (ARCH_ENABLE_SPLIT_PMD_PTLOCK if X86_PAE), THP. Modelled with CONFIG_PARAVIRT
 * on bare metal, as distribution 686-pae kernels build it: that selects
 * MMU_GATHER_RCU_TABLE_FREE, so tlb_remove_table_sync_one() really IPIs
 * (without PARAVIRT it is an empty stub, see docs/arch/x86.md), while page
 * tables still go through native tlb_remove_page() and remote flushes IPI.
 * CONFIG_HIGHPTE puts PTE tables anywhere in the 36-bit physical space: the
 * allocator hands out pfns 2^20 apart (pfnStride), above 4 GB, so every
 * table's pmd has the same pmd_low and a different pmd_high.
 */
export const X86_32_PAE: X86Config = {
  id: 'x86-32-pae',
  arch: 'x86',
  description:
    'x86-32 PAE (PARAVIRT on bare metal, HIGHPTE): 3 levels, 8-byte entries, the pmd read as two 32-bit halves with interrupts off, pmdp_get_lockless_sync() IPIs, THP, split ptlocks, page tables above 4 GB',
  kernel: 'v6.6',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 512,
  PTRS_PER_PMD: 512,
  pteSize: 8,
  tablesPerPage: 1,
  levels: 3,
  splitPtePtlocks: true,
  splitPmdPtlocks: true,
  thp: true,
  hugetlbPteLevel: false,
  // PAE: HPAGE_SHIFT = PMD_SHIFT (21), 2M hugetlb pages are huge pmds (arch/x86/include/asm/page_types.h).
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: true,
  pmdLowHigh: true,
  ptReclaim: false,
  pfnBase: 2 ** 20,
  pfnStride: 2 ** 20,
  tlbRemoveTable: 'page',
};

/**
 * x86-64 SMP built with NR_CPUS=2 (v6.6 mm/Kconfig: SPLIT_PTE_PTLOCKS depends
 * on NR_CPUS >= 4): no split PTE or PMD ptlocks, so every ptl is
 * mm->page_table_lock, the pmd lock too; THP, native IPI TLB flushes.
 */
export const X86_64_NR2: ArchConfig = {
  ...X86_64,
  id: 'x86-64-nr2',
  description:
    'x86-64 SMP with NR_CPUS=2: no split PTE/PMD ptlocks (SPLIT_PTE_PTLOCKS needs NR_CPUS >= 4), so the ptl is mm->page_table_lock, also the pmd lock; THP, IPI TLB flushes',
  splitPtePtlocks: false,
  splitPmdPtlocks: false,
};

/**
 * x86-64 v6.14 with CONFIG_PT_RECLAIM, SMP built with NR_CPUS=2 (mm/Kconfig:
 * SPLIT_PTE_PTLOCKS needs NR_CPUS >= 4; PT_RECLAIM needs only
 * ARCH_SUPPORTS_PT_RECLAIM, MMU and SMP): MADV_DONTNEED reclaims empty PTE
 * tables while every ptl is mm->page_table_lock, also the pmd lock. Where the
 * collapse-one-lock-no-recheck kernel finding shows (docs/kernel-findings.md).
 */
export const X86_64_PT_RECLAIM_NR2: X86Config = {
  ...X86_64_PT_RECLAIM,
  id: 'x86-64-pt-reclaim-nr2',
  description:
    'x86-64 v6.14 with CONFIG_PT_RECLAIM and NR_CPUS=2: PT_RECLAIM without split PTE/PMD ptlocks (the ptl is mm->page_table_lock, also the pmd lock); tables freed by RCU on pt_rcu_head; IPI TLB flushes',
  splitPtePtlocks: false,
  splitPmdPtlocks: false,
};

export const X86_CONFIGS: readonly ArchConfig[] = [
  X86_64,
  X86_64_NR2,
  X86_64_PARAVIRT,
  X86_64_PT_RECLAIM,
  X86_64_PT_RECLAIM_NR2,
  X86_32_PAE,
];

/** How a config frees page tables through the mmu_gather (X86_64 itself: no PARAVIRT, tlb_remove_page()). */
export function x86TlbRemoveTable(config: ArchConfig): X86TlbRemoveTable {
  const own = (config as Partial<X86Config>).tlbRemoveTable;
  const known = X86_CONFIGS.find((c) => c.id === config.id) as Partial<X86Config> | undefined;
  return own ?? known?.tlbRemoveTable ?? 'page';
}
