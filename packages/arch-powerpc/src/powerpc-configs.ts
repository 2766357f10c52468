import { type ArchConfig, ModelError } from '@ptlab/core';

/**
 * powerpc configs (v6.6). Sources:
 * - arch/powerpc/include/asm/book3s/64/hash-64k.h: H_PTE_INDEX_SIZE 8 (256 ptes),
 *   H_PMD_INDEX_SIZE 10, H_PTE_FRAG_SIZE_SHIFT = H_PTE_INDEX_SIZE + 3 + 1 = 12 (a 4K fragment:
 *   2K of ptes + 2K of hash-slot info), H_PTE_FRAG_NR = PAGE_SIZE >> 12 = 16.
 * - arch/powerpc/include/asm/book3s/64/radix-64k.h: RADIX_PTE_INDEX_SIZE 5 (32 ptes),
 *   RADIX_PMD_INDEX_SIZE 9; radix-4k.h: RADIX_PTE_INDEX_SIZE 9, RADIX_PMD_INDEX_SIZE 9;
 *   RADIX_PTE_FRAG_SIZE_SHIFT = RADIX_PTE_INDEX_SIZE + 3, RADIX_PTE_FRAG_NR = PAGE_SIZE >> shift
 *   (64K: 256 fragments of 256 bytes; 4K: 1).
 * - arch/powerpc/include/asm/nohash/32/pgtable.h + mmu-8xx.h: 4K pages, PTE_INDEX_SIZE =
 *   PAGE_SHIFT - 2 (1024 4-byte ptes), 1024 pgd entries; no PTE_FRAG_NR (asm/pgtable.h defaults
 *   it to 1: no fragment cache).
 * - arch/powerpc/Kconfig: PPC selects MMU_GATHER_RCU_TABLE_FREE unconditionally;
 *   platforms/Kconfig.cputype: PPC_BOOK3S_64 selects ARCH_ENABLE_SPLIT_PMD_PTLOCK and
 *   HAVE_ARCH_TRANSPARENT_HUGEPAGE; 8xx is never SMP, so never split PT locks ("powerpc/8xx:
 *   document and enforce that split PT locks are not used", v6.12).
 * - TLB invalidation on book3s64 is tlbie (broadcast, no IPI), hash and radix alike; only hash's
 *   pmdp_collapse_flush() sends an IPI (serialize_against_pte_lookup()).
 */
export const PPC64_HASH_64K: ArchConfig = {
  id: 'ppc64-hash-64k',
  arch: 'powerpc',
  description:
    'book3s64 hash MMU, 64K pages: 16 PTE fragments of 4K per page (2K ptes + 2K hash-slot info), PageActive-deferred page free, hash pmdp_collapse_flush() IPI',
  kernel: 'v6.6',
  PAGE_SIZE: 65536,
  PTRS_PER_PTE: 256,
  PTRS_PER_PMD: 1024,
  pteSize: 8,
  tablesPerPage: 16,
  levels: 4,
  splitPtePtlocks: true,
  splitPmdPtlocks: true,
  thp: true,
  hugetlbPteLevel: false,
  // 16M (pshift == PMD_SHIFT) hugetlb pages are leaf pmds: arch/powerpc/mm/hugetlbpage.c huge_pte_alloc() returns the pmd.
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
};

export const PPC64_RADIX_64K: ArchConfig = {
  id: 'ppc64-radix-64k',
  arch: 'powerpc',
  description:
    'book3s64 radix MMU, 64K pages: 256 PTE fragments of 256 bytes (32 ptes) per page, broadcast tlbie',
  kernel: 'v6.6',
  PAGE_SIZE: 65536,
  PTRS_PER_PTE: 32,
  PTRS_PER_PMD: 512,
  pteSize: 8,
  tablesPerPage: 256,
  levels: 4,
  splitPtePtlocks: true,
  splitPmdPtlocks: true,
  thp: true,
  hugetlbPteLevel: false,
  // 2M (pshift == PMD_SHIFT) hugetlb pages are leaf pmds: arch/powerpc/mm/hugetlbpage.c huge_pte_alloc() returns the pmd.
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
};

export const PPC64_RADIX_4K: ArchConfig = {
  id: 'ppc64-radix-4k',
  arch: 'powerpc',
  description:
    'book3s64 radix MMU, 4K pages: one 512-entry table per page (PTE_FRAG_NR 1, no fragment cache)',
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
  // 2M (pshift == PMD_SHIFT) hugetlb pages are leaf pmds: arch/powerpc/mm/hugetlbpage.c huge_pte_alloc() returns the pmd.
  hugetlbPmdLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
};

export const PPC32_8XX: ArchConfig = {
  id: 'ppc32-8xx',
  arch: 'powerpc',
  description:
    'PowerPC 8xx (32-bit, uniprocessor), 4K pages: 1024 4-byte ptes per table, no THP, no split ptlocks; 16K and 512K hugetlb pages at PTE level via pte_alloc_huge()',
  kernel: 'v6.6',
  PAGE_SIZE: 4096,
  PTRS_PER_PTE: 1024,
  PTRS_PER_PMD: 1024,
  pteSize: 4,
  tablesPerPage: 1,
  levels: 2,
  splitPtePtlocks: false,
  splitPmdPtlocks: false,
  thp: false,
  hugetlbPteLevel: true,
  rcuTableFree: true,
  tlbFlushIpi: false,
  pmdLowHigh: false,
  ptReclaim: false,
};

export const POWERPC_CONFIGS: readonly ArchConfig[] = [
  PPC64_HASH_64K,
  PPC64_RADIX_64K,
  PPC64_RADIX_4K,
  PPC32_8XX,
];

/** Which MMU family a config models: it picks the entry encoding and pmdp_collapse_flush(). */
export type PowerpcMmu = 'hash' | 'radix' | '8xx';

/** Per-config constants beyond ArchConfig, with the kernel symbols they stand for. */
export interface PowerpcConsts {
  readonly mmu: PowerpcMmu;
  /** PTE_FRAG_NR (book3s64: __pte_frag_nr, set by hash__/radix__early_init_mmu()). */
  readonly PTE_FRAG_NR: number;
  /** PTE_FRAG_SIZE = 1 << PTE_FRAG_SIZE_SHIFT, in bytes. */
  readonly PTE_FRAG_SIZE: number;
  /** The pmd "next level size" field: RADIX_PTE_INDEX_SIZE for radix, none for hash/8xx. */
  readonly pmdNls: number;
}

const CONSTS: Readonly<Record<string, PowerpcConsts>> = {
  'ppc64-hash-64k': { mmu: 'hash', PTE_FRAG_NR: 16, PTE_FRAG_SIZE: 1 << 12, pmdNls: 0 },
  'ppc64-radix-64k': { mmu: 'radix', PTE_FRAG_NR: 256, PTE_FRAG_SIZE: 1 << 8, pmdNls: 5 },
  'ppc64-radix-4k': { mmu: 'radix', PTE_FRAG_NR: 1, PTE_FRAG_SIZE: 1 << 12, pmdNls: 9 },
  'ppc32-8xx': { mmu: '8xx', PTE_FRAG_NR: 1, PTE_FRAG_SIZE: 1 << 12, pmdNls: 0 },
};

/** The powerpc constants of one of POWERPC_CONFIGS (a user config must reuse one of their ids). */
export function powerpcConsts(config: ArchConfig): PowerpcConsts {
  const c = CONSTS[config.id];
  if (!c) throw new ModelError('arch-powerpc', `unknown config ${config.id}`);
  if (
    c.PTE_FRAG_NR * c.PTE_FRAG_SIZE !== config.PAGE_SIZE ||
    c.PTE_FRAG_NR !== config.tablesPerPage
  )
    throw new ModelError(
      'arch-powerpc',
      `${config.id}: PTE_FRAG_NR x PTE_FRAG_SIZE must be PAGE_SIZE and PTE_FRAG_NR tablesPerPage`,
    );
  return c;
}
