/**
 * Entry encodings: sparc64 sun4v TTEs (arch/sparc/include/asm/pgtable_64.h)
 * and sparc32 SRMMU PTEs/PTDs (arch/sparc/include/asm/pgtsrmmu.h). Arithmetic,
 * not bit operators: entries are IEEE doubles and JavaScript's bit operators
 * truncate to 32 bits.
 */

/** Is bit `b` (a power of two) set in `v`? */
export function hasBit(v: number, b: number): boolean {
  return Math.floor(v / b) % 2 === 1;
}

// --- sparc64, sun4v TTE -------------------------------------------------

/**
 * sun4v TTE bits 63..56 (_PAGE_VALID_4V .. _PAGE_PMD_HUGE) are kept 12 bits
 * lower in the model (51..44): a double holds integers exactly only below
 * 2^53, and paddr[43:13] stays in place below them. Bits 12..0 are exact.
 */
const HI = 2 ** -12;
export const SUN4V = {
  VALID: 2 ** 63 * HI,
  MODIFIED: 2 ** 61 * HI,
  ACCESSED: 2 ** 60 * HI,
  READ: 2 ** 59 * HI,
  WRITE: 2 ** 58 * HI,
  SPECIAL: 2 ** 57 * HI,
  /** _PAGE_PMD_HUGE */
  PMD_HUGE: 2 ** 56 * HI,
  CP: 0x400,
  CV: 0x200,
  P: 0x100,
  EXEC: 0x80,
  W: 0x40,
  PRESENT: 0x10,
  SZ64K: 0x1,
  SZ4MB: 0x3,
} as const;
/** The model's paddr field ends below the relocated high bits. */
const SPARC64_PADDR_LIMIT = SUN4V.PMD_HUGE;
export const SPARC64_PAGE_SIZE = 8192;

/** pte_pfn() / pmd_pfn() — paddr[43:13] >> PAGE_SHIFT */
export function sparc64Pfn(v: number): number {
  return Math.floor((v % SPARC64_PADDR_LIMIT) / SPARC64_PAGE_SIZE);
}

/** mk_pte(page, PAGE_SHARED/PAGE_READONLY) on sun4v (young, cacheable). */
export function sparc64MkPte(pfn: number, write: boolean): number {
  return (
    pfn * SPARC64_PAGE_SIZE +
    SUN4V.VALID +
    SUN4V.READ +
    SUN4V.ACCESSED +
    SUN4V.CP +
    SUN4V.CV +
    SUN4V.PRESENT +
    (write ? SUN4V.WRITE + SUN4V.W : 0)
  );
}

/** pmd_mkhuge(mk_pmd()) for a THP: one 8M HPAGE as two 4M TTEs (_PAGE_SZHUGE_4V). */
export function sparc64MkPmdHuge(pfn: number): number {
  return sparc64MkPte(pfn, false) + SUN4V.PMD_HUGE + SUN4V.SZ4MB;
}

// --- sparc32, SRMMU -------------------------------------------------------

/** pgtsrmmu.h */
export const SRMMU = {
  ET_MASK: 0x3,
  ET_PTD: 0x1,
  ET_PTE: 0x2,
  CACHE: 0x80,
  DIRTY: 0x40,
  REF: 0x20,
  EXEC: 0x08,
  WRITE: 0x04,
  VALID: 0x02,
} as const;

/** SRMMU PTEs hold the physical address >> 4: pfn << (PAGE_SHIFT - 4). */
export function srmmuMkPte(pfn: number, write: boolean): number {
  return pfn * 256 + SRMMU.VALID + SRMMU.CACHE + SRMMU.REF + SRMMU.EXEC + (write ? SRMMU.WRITE : 0);
}

/** pte_pfn(): (pte & SRMMU_PTE_PMASK) >> (PAGE_SHIFT - 4) */
export function srmmuPtePfn(v: number): number {
  return Math.floor(v / 256);
}

/** pte_present(): entry type SRMMU_ET_PTE */
export function srmmuPtePresent(v: number): boolean {
  return v % 4 === SRMMU.ET_PTE;
}

/** pmd_set(): SRMMU_ET_PTD | (__nocache_pa(ptep) >> 4) */
export function srmmuMkPtd(pa: number): number {
  return pa / 16 + SRMMU.ET_PTD;
}

/** pmd_page_vaddr(): (pmd & SRMMU_PTD_PMASK) << 4 */
export function srmmuPtdPa(v: number): number {
  return (v - (v % 16)) * 16;
}
