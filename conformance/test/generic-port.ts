/**
 * A port made of the kernel's generic page-table code only (GenericArch, whose
 * entry encoding is x86-64's), with x86-64 native constants. The conformance
 * package tests itself with it so that it does not depend on an arch package
 * (arch packages depend on conformance for their own tests).
 */
import { type ArchConfig, type ArchPort, GenericArch } from '@ptlab/core';

export const GENERIC_64: ArchConfig = {
  id: 'generic-64',
  arch: 'generic',
  description:
    'generic page-table code with x86-64 native constants (4K pages, 512 ptes, IPI TLB flush, no RCU table free)',
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
  pageTableCheck: true,
};

export const generic: ArchPort = {
  arch: 'generic',
  configs: [GENERIC_64],
  variants: [],
  create: (config, variant) => new GenericArch(config, variant),
};
