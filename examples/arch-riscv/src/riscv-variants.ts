import type { ArchVariant } from '@ptlab/core';
import { RISCV64_SV39 } from './riscv-configs.js';

/**
 * huge_pte_alloc() as riscv had it before "[PATCH v2 14/23] riscv/hugetlb:
 * pte_alloc_huge() pte_offset_huge()": pte_alloc_map() for the NAPOT sizes,
 * and no pte_unmap() anywhere in hugetlb. Harmless while pte_offset_map() was
 * only a kmap (riscv has no HIGHPTE); since "[PATCH v3 01/13] mm/pgtable: add
 * rcu_read_lock() and rcu_read_unlock()s" it leaves the caller inside
 * rcu_read_lock(). Chosen in create() by its id; riscv-hugetlb.ts reads the flag.
 */
export const RISCV_HUGETLB_UNBALANCED_MAP = 'riscv-hugetlb-unbalanced-map';

export const RISCV_VARIANTS: readonly ArchVariant[] = [
  {
    id: RISCV_HUGETLB_UNBALANCED_MAP,
    description:
      'huge_pte_alloc() maps the NAPOT PTE table with pte_alloc_map() (pte_offset_map(), so rcu_read_lock()) and hugetlb never calls pte_unmap(): the caller returns inside an RCU read-side section',
    seed: 'seeds/004: "[PATCH v2 14/23] riscv/hugetlb: pte_alloc_huge() pte_offset_huge()" (pte_alloc_map() expects to be followed by pte_unmap(), but hugetlb omits that)',
    configs: [RISCV64_SV39.id],
    expect: 'caught',
  },
];
