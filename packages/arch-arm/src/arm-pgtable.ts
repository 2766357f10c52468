/**
 * arm and arm64 entry encodings. Only the bits the model looks at are kept;
 * every flag used lies below bit 12, so a value is `pa + flags` and the
 * helpers below work arithmetically (pfns of the model's data folios do not
 * fit in 32 bits, so `|` and `&` on whole entries would truncate them).
 */
import type { EntryEncoding } from '@ptlab/core';
import type { ArmMmu } from './arm-configs.js';

const PAGE = 4096;
/** The flag bits of an entry (everything below PAGE_SHIFT). */
export const flagsOf = (v: number): number => v % PAGE;
/** The physical address an entry holds (flags stripped). */
export const paOf = (v: number): number => v - (v % PAGE);
/** Is any of `mask` (bits below 12) set in `v`. */
export const hasAny = (v: number, mask: number): boolean => (flagsOf(v) & mask) !== 0;

/** Linux pte bits of the classic MMU — arch/arm/include/asm/pgtable-2level.h (v6.6). */
export const L_PTE_2LEVEL = {
  PRESENT: 1 << 0,
  YOUNG: 1 << 1,
  DIRTY: 1 << 6,
  RDONLY: 1 << 7,
  USER: 1 << 8,
  XN: 1 << 9,
  SHARED: 1 << 10,
  /** L_PTE_MT_MASK = 0x0f << 2 */
  MT_MASK: 0x0f << 2,
  MT_UNCACHED: 0x00 << 2,
  MT_BUFFERABLE: 0x01 << 2,
  MT_WRITEBACK: 0x03 << 2,
} as const;

/** First-level descriptor bits — arch/arm/include/asm/pgtable-2level-hwdef.h, pgalloc.h. */
export const PMD_2LEVEL = {
  TYPE_MASK: 3,
  TYPE_TABLE: 1,
  TYPE_SECT: 2,
  BIT4: 1 << 4,
  /** PMD_DOMAIN(DOMAIN_USER), DOMAIN_USER = 1 (arch/arm/include/asm/domain.h) */
  DOMAIN_USER: 1 << 5,
  /** PTE_HWTABLE_OFF = PTE_HWTABLE_PTRS * sizeof(pte_t) = 512 * 4: the pmd points at the hardware table. */
  HWTABLE_OFF: 512 * 4,
} as const;
/** _PAGE_USER_TABLE = PMD_TYPE_TABLE | PMD_BIT4 | PMD_DOMAIN(DOMAIN_USER) — arch/arm/include/asm/pgalloc.h */
const PAGE_USER_TABLE_2LEVEL = PMD_2LEVEL.TYPE_TABLE | PMD_2LEVEL.BIT4 | PMD_2LEVEL.DOMAIN_USER;

/** LPAE pte bits — arch/arm/include/asm/pgtable-3level.h (v6.6). */
export const L_PTE_3LEVEL = {
  VALID: 1 << 0,
  /** L_PTE_PRESENT = 3 << 0 */
  PRESENT: 3,
  USER: 1 << 6,
  SHARED: 3 << 8,
  YOUNG: 1 << 10,
  /** AttrIndx[2:0]: L_PTE_MT_MASK = 7 << 2 */
  MT_MASK: 7 << 2,
  MT_BUFFERABLE: 1 << 2,
  MT_WRITEALLOC: 7 << 2,
} as const;

/** LPAE / arm64 table-descriptor bits — arch/arm/include/asm/pgtable-3level-hwdef.h, arch/arm64/include/asm/pgtable-hwdef.h. */
export const PMD_LONG = {
  TYPE_MASK: 3,
  /** PMD_TYPE_TABLE = 3 << 0 */
  TYPE_TABLE: 3,
  /** PMD_TYPE_SECT = 1 << 0 (block) */
  TYPE_SECT: 1,
  TABLE_BIT: 1 << 1,
  /** PMD_SECT_USER (AP[1]) */
  SECT_USER: 1 << 6,
  /** PMD_SECT_S: inner shareable */
  SECT_S: 3 << 8,
  /** PMD_SECT_AF */
  SECT_AF: 1 << 10,
} as const;

/** arm64 pte bits — arch/arm64/include/asm/pgtable-hwdef.h, pgtable-prot.h (v6.6). */
export const ARM64_PTE = {
  VALID: 1 << 0,
  TYPE_PAGE: 3,
  USER: 1 << 6,
  RDONLY: 1 << 7,
  SHARED: 3 << 8,
  AF: 1 << 10,
  NG: 1 << 11,
  /** MT_NORMAL = 0 (AttrIndx) */
  ATTRINDX_NORMAL: 0,
} as const;

/** An arm entry format: the EntryEncoding predicates plus the memory type do_adjust_pte() rewrites. */
export interface ArmFormat extends Omit<EntryEncoding, 'pteEmpty' | 'pmdEmpty'> {
  /** pte_val(entry) & L_PTE_MT_MASK (32-bit arm only). */
  pteMemoryType(pte: number): number;
  /** pte_val(entry) &= ~L_PTE_MT_MASK; pte_val(entry) |= mt */
  pteWithMemoryType(pte: number, mt: number): number;
  /** shared_pte_mask = L_PTE_MT_BUFFERABLE — arch/arm/mm/fault-armv.c */
  readonly sharedPteMask: number;
}

/** arch/arm/include/asm/pgtable{,-2level}.h, pgalloc.h (v6.6): the classic MMU. */
export const CLASSIC_FORMAT: ArmFormat = {
  /** pte_none(pte) — (!pte_val(pte)) */
  pteNone: (pte) => pte === 0,
  /** pte_present(pte) — pte_isset(pte, L_PTE_PRESENT) */
  ptePresent: (pte) => hasAny(pte, L_PTE_2LEVEL.PRESENT),
  ptePfn: (pte) => paOf(pte) / PAGE,
  /** pfn_pte(pfn, PAGE_SHARED / PAGE_SHARED_EXEC-like user protection), young, write-back */
  mkPte: (pfn, prot) =>
    pfn * PAGE +
    L_PTE_2LEVEL.PRESENT +
    L_PTE_2LEVEL.YOUNG +
    L_PTE_2LEVEL.USER +
    L_PTE_2LEVEL.MT_WRITEBACK +
    (prot.write ? L_PTE_2LEVEL.DIRTY : L_PTE_2LEVEL.RDONLY),
  /** pmd_none(pmd) — (!pmd_val(pmd)) */
  pmdNone: (pmd) => pmd === 0,
  /** pmd_present(pmd) — (pmd_val(pmd)) */
  pmdPresent: (pmd) => pmd !== 0,
  /** No THP on the classic MMU. */
  pmdTransHuge: () => false,
  /** pmd_bad(pmd) — (pmd_val(pmd) & 2): a section where a table was expected */
  pmdBad: (pmd) => hasAny(pmd, PMD_2LEVEL.TYPE_SECT),
  /** __pmd_populate(pmdp, page_to_phys(ptep), _PAGE_USER_TABLE): points at the hardware half */
  mkPmdTable: (pa) => pa + PMD_2LEVEL.HWTABLE_OFF + PAGE_USER_TABLE_2LEVEL,
  /** pmd_page_vaddr(pmd) — pmd_val(pmd) & PHYS_MASK & (s32)PAGE_MASK: the Linux ptes at the page start */
  pmdTablePa: (pmd) => paOf(pmd),
  mkPmdHuge: () => {
    throw new Error('arm classic MMU: no huge pmds (no THP, no hugetlb)');
  },
  pteMemoryType: (pte) => flagsOf(pte) & L_PTE_2LEVEL.MT_MASK,
  pteWithMemoryType: (pte, mt) => pte - (flagsOf(pte) & L_PTE_2LEVEL.MT_MASK) + mt,
  sharedPteMask: L_PTE_2LEVEL.MT_BUFFERABLE,
};

/** arch/arm/include/asm/pgtable{,-3level}.h (v6.6): LPAE. */
export const LPAE_FORMAT: ArmFormat = {
  pteNone: (pte) => pte === 0,
  /** pte_present(pte) — pte_isset(pte, L_PTE_PRESENT), L_PTE_PRESENT = 3 */
  ptePresent: (pte) => hasAny(pte, L_PTE_3LEVEL.PRESENT),
  ptePfn: (pte) => paOf(pte) / PAGE,
  mkPte: (pfn, _prot) =>
    pfn * PAGE +
    L_PTE_3LEVEL.PRESENT +
    L_PTE_3LEVEL.USER +
    L_PTE_3LEVEL.SHARED +
    L_PTE_3LEVEL.YOUNG +
    L_PTE_3LEVEL.MT_WRITEALLOC,
  pmdNone: (pmd) => pmd === 0,
  /** pmd_present(pmd) — pmd_isset(pmd, L_PMD_SECT_VALID) */
  pmdPresent: (pmd) => hasAny(pmd, 1),
  /** pmd_trans_huge(pmd) — (pmd_val(pmd) && !pmd_table(pmd)) */
  pmdTransHuge: (pmd) => pmd !== 0 && (flagsOf(pmd) & PMD_LONG.TYPE_MASK) !== PMD_LONG.TYPE_TABLE,
  /** pmd_bad(pmd) — (!(pmd_val(pmd) & 2)) */
  pmdBad: (pmd) => !hasAny(pmd, PMD_LONG.TABLE_BIT),
  /** __pmd_populate(): PTE_HWTABLE_OFF is 0 and _PAGE_USER_TABLE is PMD_TYPE_TABLE with LPAE */
  mkPmdTable: (pa) => pa + PMD_LONG.TYPE_TABLE,
  pmdTablePa: (pmd) => paOf(pmd),
  /** pfn_pmd() | PMD_TYPE_SECT | PMD_SECT_AF | PMD_SECT_USER (mk_pmd() of a THP) */
  mkPmdHuge: (pfn) =>
    pfn * PAGE + PMD_LONG.TYPE_SECT + PMD_LONG.SECT_USER + PMD_LONG.SECT_S + PMD_LONG.SECT_AF,
  pteMemoryType: (pte) => flagsOf(pte) & L_PTE_3LEVEL.MT_MASK,
  pteWithMemoryType: (pte, mt) => pte - (flagsOf(pte) & L_PTE_3LEVEL.MT_MASK) + mt,
  sharedPteMask: L_PTE_3LEVEL.MT_BUFFERABLE,
};

/** arch/arm64/include/asm/pgtable.h (v6.6). PMD_TABLE_PXN (bit 59) and PTE_PXN/UXN are not modelled. */
export const ARM64_FORMAT: ArmFormat = {
  /** pte_none(pte) — (!pte_val(pte)) */
  pteNone: (pte) => pte === 0,
  /** pte_present(pte) — pte_valid(pte) || pte_present_invalid(pte) (PROT_NONE not modelled) */
  ptePresent: (pte) => hasAny(pte, ARM64_PTE.VALID),
  ptePfn: (pte) => paOf(pte) / PAGE,
  mkPte: (pfn, prot) =>
    pfn * PAGE +
    ARM64_PTE.TYPE_PAGE +
    ARM64_PTE.USER +
    ARM64_PTE.SHARED +
    ARM64_PTE.AF +
    ARM64_PTE.NG +
    (prot.write ? 0 : ARM64_PTE.RDONLY),
  pmdNone: (pmd) => pmd === 0,
  /** pmd_present(pmd) — pte_present(pmd_pte(pmd)) */
  pmdPresent: (pmd) => hasAny(pmd, ARM64_PTE.VALID),
  /** pmd_trans_huge(pmd) — pmd_val(pmd) && pmd_present(pmd) && !(pmd_val(pmd) & PMD_TABLE_BIT) */
  pmdTransHuge: (pmd) => pmd !== 0 && hasAny(pmd, 1) && !hasAny(pmd, PMD_LONG.TABLE_BIT),
  /** pmd_bad(pmd) — (!pmd_table(pmd)) */
  pmdBad: (pmd) => (flagsOf(pmd) & PMD_LONG.TYPE_MASK) !== PMD_LONG.TYPE_TABLE,
  /** pmd_populate() → __pmd_populate(pmdp, page_to_phys(ptep), PMD_TYPE_TABLE | PMD_TABLE_PXN) */
  mkPmdTable: (pa) => pa + PMD_LONG.TYPE_TABLE,
  /** pmd_page_paddr() — __pmd_to_phys(pmd) */
  pmdTablePa: (pmd) => paOf(pmd),
  /** pfn_pmd(pfn, prot) of a THP: PMD_TYPE_SECT | PMD_SECT_AF | user | shareable */
  mkPmdHuge: (pfn) =>
    pfn * PAGE + PMD_LONG.TYPE_SECT + PMD_LONG.SECT_USER + PMD_LONG.SECT_S + PMD_LONG.SECT_AF,
  pteMemoryType: (pte) => flagsOf(pte) & (7 << 2),
  pteWithMemoryType: (pte, mt) => pte - (flagsOf(pte) & (7 << 2)) + mt,
  sharedPteMask: ARM64_PTE.ATTRINDX_NORMAL,
};

export function formatOf(mmu: ArmMmu): ArmFormat {
  return mmu === 'classic' ? CLASSIC_FORMAT : mmu === 'lpae' ? LPAE_FORMAT : ARM64_FORMAT;
}
