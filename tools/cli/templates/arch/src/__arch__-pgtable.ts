/**
 * The __arch__ entry encoding: what a PTE and a pmd hold, and the predicates
 * on them (asm/pgtable*.h). As generated it is x86-64's layout, the one
 * GenericArch uses by default: replace the bits and the arithmetic with
 * your arch's.
 *
 * Entries are JavaScript numbers (exact up to 2^53): take the flag bits with
 * `%` and the PFN with division, never with the 32-bit `&` on a whole entry.
 */
import type { EntryEncoding } from '@ptlab/core';

/** _PAGE_* bits — asm/pgtable_types.h (x86's, as generated). */
export const PAGE = {
  PRESENT: 0x1,
  RW: 0x2,
  USER: 0x4,
  ACCESSED: 0x20,
  DIRTY: 0x40,
  /** _PAGE_PSE: a huge pmd */
  PSE: 0x80,
} as const;

/** Entries keep their flags in the low 12 bits; the PFN starts at bit 12 (PAGE_SHIFT). */
const PFN_UNIT = 4096;
/** _PAGE_TABLE: what a pmd pointing to a PTE table carries. */
const PAGE_TABLE = PAGE.PRESENT | PAGE.RW | PAGE.USER | PAGE.ACCESSED | PAGE.DIRTY;

const flagsOf = (entry: number): number => entry % PFN_UNIT;

export const __archCamel__Encoding: EntryEncoding = {
  /** What an empty PTE slot holds (s390: _PAGE_INVALID, not zero). */
  pteEmpty: 0,
  pmdEmpty: 0,
  /** pte_none() */
  pteNone: (pte) => pte === 0,
  /** pte_present() */
  ptePresent: (pte) => (flagsOf(pte) & PAGE.PRESENT) !== 0,
  /** pte_pfn() */
  ptePfn: (pte) => Math.floor(pte / PFN_UNIT),
  /** mk_pte()/pfn_pte() with PAGE_SHARED or PAGE_READONLY */
  mkPte: (pfn, prot) =>
    pfn * PFN_UNIT + PAGE.PRESENT + PAGE.USER + PAGE.ACCESSED + (prot.write ? PAGE.RW : 0),
  /** pmd_none() */
  pmdNone: (pmd) => pmd === 0,
  /** pmd_present() */
  pmdPresent: (pmd) => (flagsOf(pmd) & PAGE.PRESENT) !== 0,
  /** pmd_trans_huge() */
  pmdTransHuge: (pmd) => (flagsOf(pmd) & (PAGE.PRESENT | PAGE.PSE)) === (PAGE.PRESENT | PAGE.PSE),
  /** pmd_bad(): neither empty, nor huge, nor a table pointer */
  pmdBad: (pmd) =>
    pmd !== 0 &&
    (flagsOf(pmd) & (PAGE.PRESENT | PAGE.PSE)) !== (PAGE.PRESENT | PAGE.PSE) &&
    flagsOf(pmd) !== PAGE_TABLE,
  /** pmd_populate(): a pmd pointing to the PTE table at physical address `pa` */
  mkPmdTable: (pa) => pa + PAGE_TABLE,
  /** pmd_page_vaddr()/pmd_pgtable(): the table a pmd points to */
  pmdTablePa: (pmd) => pmd - flagsOf(pmd),
  /** pfn_pmd() + pmd_mkhuge() */
  mkPmdHuge: (pfn) => pfn * PFN_UNIT + PAGE_TABLE + PAGE.PSE,
};
