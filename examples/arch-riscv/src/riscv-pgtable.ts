/**
 * riscv PTE/PMD bit layout — arch/riscv/include/asm/pgtable-bits.h and
 * pgtable-64.h:
 *
 *   | 63 | 62 61 | 60 54 | 53 .. 10 | 9 8 | 7 | 6 | 5 | 4 | 3 | 2 | 1 | 0 |
 *     N     MT     RSV      PFN        SW    D   A   G   U   X   W   R   V
 *
 * One format for every level: an entry with any of R/W/X set is a leaf (a
 * huge pmd is just a leaf at pmd level), with all three clear and V set it
 * points to the next table (_PAGE_TABLE is _PAGE_PRESENT alone).
 *
 * Entries are JavaScript numbers (exact up to 2^53), so bits are taken with
 * arithmetic, never with the 32-bit `&` on a whole entry: the PFN field
 * starts at bit 10 and the model's folio pfns are ~2^30.
 */
export const RISCV_PAGE = {
  PRESENT: 1 << 0,
  READ: 1 << 1,
  WRITE: 1 << 2,
  EXEC: 1 << 3,
  USER: 1 << 4,
  GLOBAL: 1 << 5,
  ACCESSED: 1 << 6,
  DIRTY: 1 << 7,
  SOFT: 1 << 8,
  /** _PAGE_PROT_NONE = _PAGE_GLOBAL: set on PROT_NONE entries, which are not V but still present. */
  PROT_NONE: 1 << 5,
  /** _PAGE_TABLE = _PAGE_PRESENT: a non-leaf entry pointing to the next level. */
  TABLE: 1 << 0,
  /** _PAGE_LEAF = R|W|X */
  LEAF: (1 << 1) | (1 << 2) | (1 << 3),
  /** _PAGE_PFN_SHIFT */
  PFN_SHIFT: 10,
} as const;

const PFN_UNIT = 2 ** RISCV_PAGE.PFN_SHIFT;

/** _PAGE_BASE = PRESENT|ACCESSED|USER — arch/riscv/include/asm/pgtable.h */
export const PAGE_BASE = RISCV_PAGE.PRESENT | RISCV_PAGE.ACCESSED | RISCV_PAGE.USER;
/** PAGE_READ = _PAGE_BASE|_PAGE_READ (PAGE_COPY: private mappings) */
export const PAGE_READ = PAGE_BASE | RISCV_PAGE.READ;
/** PAGE_WRITE = _PAGE_BASE|_PAGE_READ|_PAGE_WRITE (PAGE_SHARED: shared writable mappings) */
export const PAGE_WRITE = PAGE_BASE | RISCV_PAGE.READ | RISCV_PAGE.WRITE;

/** The flag bits 0-9 of an entry (below the PFN field). */
export function flagsOf(val: number): number {
  return val % PFN_UNIT;
}

/** __page_val_to_pfn() — arch/riscv/include/asm/pgtable.h: (val & _PAGE_PFN_MASK) >> _PAGE_PFN_SHIFT */
export function pageValToPfn(val: number): number {
  return Math.floor(val / PFN_UNIT);
}

/** pfn_pte()/pfn_pmd() — arch/riscv/include/asm/pgtable.h, pgtable-64.h: (pfn << _PAGE_PFN_SHIFT) | prot */
export function pfnEntry(pfn: number, prot: number): number {
  return pfn * PFN_UNIT + prot;
}
