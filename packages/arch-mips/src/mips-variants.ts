import type { ArchVariant } from '@ptlab/core';

/** __update_tlb() before "mips: add pte_unmap() to balance pte_offset_map()". */
export const MIPS_UPDATE_TLB_UNBALANCED = 'mips-update-tlb-unbalanced';

export const MIPS_VARIANTS: readonly ArchVariant[] = [
  {
    id: MIPS_UPDATE_TLB_UNBALANCED,
    description:
      'update_mmu_cache() calls __update_tlb(), which walks the tables again and maps the PTE pair with its own pte_offset_map() but never pte_unmap()s it: harmless while pte_offset_map() was pte_offset_kernel(), it leaves an rcu_read_lock() open after every fault once pte_offset_map() takes it.',
    seed: 'seeds/004: "[PATCH v2 07/23] mips: update_mmu_cache() can replace __update_tlb()" (its v2 form broke MIPS, Nathan Chancellor\'s report) and the merged "[PATCH v2 07/23 replacement] mips: add pte_unmap() to balance pte_offset_map()" ("To keep balance in future, __update_tlb() remember to pte_unmap() after pte_offset_map()")',
    configs: ['mips64', 'mips32-xpa'],
    expect: 'caught',
    checks: ['rcu-unbalanced', 'sleep-in-atomic'],
  },
];
