/**
 * MIPS entry encodings — arch/mips/include/asm/pgtable-bits.h, pgtable.h,
 * pgtable-32.h, pgtable-64.h (v6.6). Arithmetic, not bit operators: entries are
 * IEEE doubles and JavaScript's bit operators truncate to 32 bits.
 */

/** Is bit `b` (a power of two) set in `v`? */
export function hasBit(v: number, b: number): boolean {
  return Math.floor(v / b) % 2 === 1;
}

/**
 * R4K 64-bit layout with MIPS_HUGE_TLB_SUPPORT, ARCH_HAS_PTE_SPECIAL and
 * CPU_HAS_RIXI ("64-bit, R2 or later: CCC D V G RI XI [S H] M A W P"):
 * software bits first, then the EntryLo bits from _PAGE_GLOBAL up.
 */
export const R4K64 = {
  PRESENT: 2 ** 0,
  WRITE: 2 ** 1,
  ACCESSED: 2 ** 2,
  MODIFIED: 2 ** 3,
  HUGE: 2 ** 4,
  SPECIAL: 2 ** 5,
  NO_EXEC: 2 ** 6,
  NO_READ: 2 ** 7,
  GLOBAL: 2 ** 8,
  VALID: 2 ** 9,
  DIRTY: 2 ** 10,
  CACHE_SHIFT: 11,
  /** PFN_PTE_SHIFT = PAGE_SHIFT - 12 + _CACHE_SHIFT + 3 */
  PFN_SHIFT: 14,
} as const;

/** _CACHE_CACHABLE_NONCOHERENT = 3 << _CACHE_SHIFT */
const R4K64_CACHABLE = 3 * 2 ** R4K64.CACHE_SHIFT;

/**
 * XPA (CONFIG_XPA) layout: pte_high holds the EntryLo bits and pfn[23:0]
 * (from bit 8), pte_low the software bits (from bit 24) and the PFNX bits,
 * pfn[47:24], written to EntryLo's extension with writex_c0_entrylo*().
 */
export const XPA = {
  /** pte_high */
  NO_EXEC: 2 ** 0,
  NO_READ: 2 ** 1,
  GLOBAL: 2 ** 2,
  VALID: 2 ** 3,
  DIRTY: 2 ** 4,
  CACHE_SHIFT: 5,
  /** PFN_PTE_SHIFT = PAGE_SHIFT - 12 + _CACHE_SHIFT + 3 */
  PFN_SHIFT: 8,
  /** pte_low */
  PRESENT: 2 ** 24,
  WRITE: 2 ** 25,
  ACCESSED: 2 ** 26,
  MODIFIED: 2 ** 27,
  /** _PFNX_MASK */
  PFNX_MASK_BITS: 24,
} as const;

/**
 * The model's value of a 64-bit pte_t on MIPS32, packed so that it stays an
 * exact double (< 2^53): pte_high in bits 0..31, pte_low's four software bits
 * (24..27) in bits 32..35, and pte_low's PFNX field from bit 36 — up to 17
 * bits of it, pfn < 2^41, beyond the 40-bit physical addresses of XPA cores.
 * xpaPte()/xpaHigh()/xpaLow() convert between the halves and this value.
 */
const PFNX_MODEL_BITS = 17;
export function xpaPte(high: number, low: number): number {
  const soft = Math.floor(low / 2 ** 24) % 16;
  const pfnx = low % 2 ** 24;
  if (pfnx >= 2 ** PFNX_MODEL_BITS || low >= 2 ** 28)
    throw new Error(`XPA pte_low 0x${low.toString(16)} does not fit the model's packing`);
  return high + soft * 2 ** 32 + pfnx * 2 ** 36;
}
export function xpaHigh(v: number): number {
  return v % 2 ** 32;
}
export function xpaLow(v: number): number {
  return (Math.floor(v / 2 ** 32) % 16) * 2 ** 24 + Math.floor(v / 2 ** 36);
}

/**
 * The address of invalid_pte_table (arch/mips/mm/init.c): MIPS pmds (and the
 * folded pgd entries of mips32) hold the kernel address of the table they
 * point to, and an empty pmd points at invalid_pte_table, not 0 (pmd_none(),
 * pmd_clear(), pmd_init()). The model's pmd values are the tables' physical
 * addresses; this one lies above any page the model's allocator hands out.
 */
export const INVALID_PTE_TABLE = 0xff000 * 4096;

/** An encoding for one MIPS config. */
export interface MipsEncoding {
  pteNone(pte: number): boolean;
  ptePresent(pte: number): boolean;
  ptePfn(pte: number): number;
  mkPte(pfn: number, write: boolean): number;
  /** Huge pmds exist (MIPS_HUGE_TLB_SUPPORT). */
  readonly hugePmds: boolean;
  pmdTransHuge(pmd: number): boolean;
  mkPmdHuge(pfn: number): number;
}

/** 64-bit R4K: pte_none() = !(pte_val(pte) & ~_PAGE_GLOBAL). */
export const R4K64_ENCODING: MipsEncoding = {
  pteNone: (pte) => (hasBit(pte, R4K64.GLOBAL) ? pte - R4K64.GLOBAL : pte) === 0,
  ptePresent: (pte) => hasBit(pte, R4K64.PRESENT),
  ptePfn: (pte) => Math.floor(pte / 2 ** R4K64.PFN_SHIFT),
  // pfn_pte(pfn, PAGE_SHARED/PAGE_READONLY) made young: _PAGE_VALID is _PAGE_SILENT_READ.
  mkPte: (pfn, write) =>
    pfn * 2 ** R4K64.PFN_SHIFT +
    R4K64.PRESENT +
    R4K64.ACCESSED +
    R4K64.VALID +
    R4K64_CACHABLE +
    (write ? R4K64.WRITE : 0),
  hugePmds: true,
  // pmd_trans_huge() — !!(pmd_val(pmd) & _PAGE_HUGE)
  pmdTransHuge: (pmd) => hasBit(pmd, R4K64.HUGE),
  // pmd_mkhuge(pfn_pmd(pfn, prot))
  mkPmdHuge: (pfn) =>
    pfn * 2 ** R4K64.PFN_SHIFT +
    R4K64.PRESENT +
    R4K64.ACCESSED +
    R4K64.VALID +
    R4K64_CACHABLE +
    R4K64.HUGE,
};

/**
 * XPA: pte_none() = !(pte.pte_high & ~_PAGE_GLOBAL), pte_present() =
 * pte.pte_low & _PAGE_PRESENT; pfn_pte(): pte_low = pfn >> 24 | soft bits,
 * pte_high = pfn << 8 | hardware bits; pte_pfn() puts them back together.
 */
export const XPA_ENCODING: MipsEncoding = {
  pteNone: (pte) => {
    const high = xpaHigh(pte);
    return (hasBit(high, XPA.GLOBAL) ? high - XPA.GLOBAL : high) === 0;
  },
  ptePresent: (pte) => hasBit(xpaLow(pte), XPA.PRESENT),
  ptePfn: (pte) =>
    Math.floor(xpaHigh(pte) / 2 ** XPA.PFN_SHIFT) +
    (xpaLow(pte) % 2 ** XPA.PFNX_MASK_BITS) * 2 ** 24,
  mkPte: (pfn, write) =>
    xpaPte(
      (pfn % 2 ** 24) * 2 ** XPA.PFN_SHIFT + XPA.VALID + 3 * 2 ** XPA.CACHE_SHIFT,
      Math.floor(pfn / 2 ** 24) + XPA.PRESENT + XPA.ACCESSED + (write ? XPA.WRITE : 0),
    ),
  hugePmds: false,
  pmdTransHuge: () => false,
  mkPmdHuge: () => {
    throw new Error('mips32 XPA has no huge pmds (no THP, no hugetlb)');
  },
};
