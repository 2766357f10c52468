import type { ArchVariant } from '@ptlab/core';

/** sparc64 huge_pte_alloc()/huge_pte_offset() before they used pte_alloc_huge()/pte_offset_huge(). */
export const SPARC_HUGETLB_UNBALANCED_MAP = 'sparc-hugetlb-unbalanced-map';
/** sparc64 get_user_insn() before "sparc: allow pte_offset_map() to fail". */
export const SPARC_MAP_CANNOT_FAIL = 'sparc-map-cannot-fail';

export const SPARC_VARIANTS: readonly ArchVariant[] = [
  {
    id: SPARC_HUGETLB_UNBALANCED_MAP,
    description:
      'sparc64 huge_pte_alloc() uses pte_alloc_map() and huge_pte_offset() uses pte_offset_map() for 64K hugetlb pages, and hugetlb never calls pte_unmap(): once pte_offset_map() takes rcu_read_lock(), every hugetlb walk leaves an RCU read-side section open.',
    seed: 'seeds/004: "[PATCH v2 18/23] sparc/hugetlb: pte_alloc_huge() pte_offset_huge()" ("pte_alloc_map() expects to be followed by pte_unmap(), but hugetlb omits that"), with "[PATCH v3 01/13] mm/pgtable: add rcu_read_lock() and rcu_read_unlock()s"',
    configs: ['sparc64'],
    expect: 'caught',
    checks: ['rcu-unbalanced', 'sleep-in-atomic'],
  },
  {
    id: SPARC_MAP_CANNOT_FAIL,
    description:
      "sparc64 get_user_insn() (do_sparc64_fault() reading the faulting instruction) checks the pmd, then dereferences pte_offset_map()'s result as if it could not fail: when khugepaged's retract_page_tables() (no mmap_lock since v6.6) clears the pmd in between, pte_offset_map() returns NULL and *ptep oopses.",
    seed: 'seeds/004: "[PATCH v2 19/23] sparc: allow pte_offset_map() to fail" (arch/sparc/mm/fault_64.c get_user_insn(): "if (!ptep) goto again;"), made necessary by "[PATCH v3 09/13] mm/khugepaged: retract_page_tables() without mmap or vma lock"',
    configs: ['sparc64'],
    expect: 'caught',
    checks: ['use-after-free'],
  },
];
