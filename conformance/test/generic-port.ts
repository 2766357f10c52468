/**
 * A port made of the kernel's generic page-table code only (GenericArch, whose
 * entry encoding is x86-64's), with x86-64 native constants. The conformance
 * package tests itself with it so that it does not depend on an arch package
 * (arch packages depend on conformance for their own tests).
 */
import { type ArchConfig, type ArchPort, GENERIC_CONFIG, GenericArch } from '@ptlab/core';

export const GENERIC_64: ArchConfig = {
  ...GENERIC_CONFIG,
  id: 'generic-64',
  arch: 'generic',
  description:
    'generic page-table code with x86-64 native constants (4K pages, 512 ptes, IPI TLB flush, no RCU table free)',
  pageTableCheck: true,
};

export const generic: ArchPort = {
  arch: 'generic',
  configs: [GENERIC_64],
  variants: [],
  create: (config, variant) => new GenericArch(config, variant),
};
