import {
  type ArchConfig,
  type ArchPort,
  type ArchVariant,
  GenericArch,
  X86_PAGE,
} from '@ptlab/core';
import { X86_CONFIGS } from './x86-configs.js';

/**
 * x86 uses the generic page-table code: one table per 4K page, pgtable_t is a
 * struct page *, the generic pte_free_defer(). What is x86's own: pte_none()
 * ignores the A/D bits a Knights Landing erratum may set on a not-present PTE.
 */
export class X86Arch extends GenericArch {
  /** pte_none() — arch/x86/include/asm/pgtable.h: !(pte & ~_PAGE_KNL_ERRATUM_MASK) */
  override pteNone(pte: number): boolean {
    return pte - (pte & X86_PAGE.KNL_ERRATUM_MASK) === 0;
  }
}

export const X86_VARIANTS: readonly ArchVariant[] = [];

/** The reference ArchPort: start here when porting an arch. */
export const x86: ArchPort = {
  arch: 'x86',
  configs: X86_CONFIGS,
  variants: X86_VARIANTS,
  create(config: ArchConfig, variant?: string) {
    return new X86Arch(config, variant);
  },
};
