/**
 * The riscv entry encoding against arch/riscv/include/asm/pgtable*.h: bit
 * positions, what counts as none/present/leaf/bad, and round trips through the
 * PFN field at pfns above 2^22 (where a 32-bit `&` would truncate).
 */
import { describe, expect, it } from 'vitest';
import { RISCV_PAGE, RISCV64_SV39, riscv } from '../src/index.js';

const arch = riscv.create(RISCV64_SV39);
const { PRESENT, READ, WRITE, EXEC, LEAF, PROT_NONE, ACCESSED, USER } = RISCV_PAGE;
const BIG_PFN = 2 ** 30 + 5; // the model's folio pfns start at 2^30

describe('riscv64 PTE encoding', () => {
  it('pte_none() is an all-zero entry and nothing else', () => {
    expect(arch.pteEmpty).toBe(0);
    expect(arch.pteNone(0)).toBe(true);
    expect(arch.pteNone(ACCESSED)).toBe(false); // unlike x86's KNL mask, riscv ignores no bit
    expect(arch.pteNone(arch.mkPte(7, { write: false }))).toBe(false);
  });

  it('mk_pte() puts the pfn at _PAGE_PFN_SHIFT 10 with _PAGE_BASE and R (W for shared writable)', () => {
    expect(arch.mkPte(5, { write: false })).toBe((5 << 10) | PRESENT | ACCESSED | USER | READ);
    expect(arch.mkPte(5, { write: true })).toBe(
      (5 << 10) | PRESENT | ACCESSED | USER | READ | WRITE,
    );
    const pte = arch.mkPte(BIG_PFN, { write: true });
    expect(pte).toBe(BIG_PFN * 1024 + (PRESENT | ACCESSED | USER | READ | WRITE));
    expect(arch.ptePfn(pte)).toBe(BIG_PFN);
    expect(arch.ptePresent(pte)).toBe(true);
  });

  it('pte_present() is V or _PAGE_PROT_NONE: a PROT_NONE entry is present, a swap entry is not', () => {
    expect(arch.ptePresent((9 << 10) | PROT_NONE | READ)).toBe(true);
    expect(arch.ptePresent(0x7 << 11)).toBe(false); // __swp_entry(): V, R/W/X and PROT_NONE clear
  });
});

describe('riscv64 pmd encoding', () => {
  it('a pmd pointing at a PTE table is _PAGE_TABLE (V alone, R=W=X=0): present, not a leaf, not bad', () => {
    const pa = 0x5000;
    const pmd = arch.mkPmdTable(pa);
    expect(pmd).toBe((5 << 10) | PRESENT); // pmd_populate(): (pfn << _PAGE_PFN_SHIFT) | _PAGE_TABLE
    expect((pmd % 1024) & LEAF).toBe(0);
    expect(arch.pmdNone(pmd)).toBe(false);
    expect(arch.pmdPresent(pmd)).toBe(true);
    expect(arch.pmdTransHuge(pmd)).toBe(false);
    expect(arch.pmdBad(pmd)).toBe(false);
    expect(arch.pmdTablePa(pmd)).toBe(pa);
    expect(arch.pmdTablePa(arch.mkPmdTable(BIG_PFN * 4096))).toBe(BIG_PFN * 4096);
  });

  it('a huge pmd is a leaf (R/W/X set): pmd_trans_huge(), and pmd_bad() as riscv defines it', () => {
    const pmd = arch.mkPmdHuge(BIG_PFN);
    expect(arch.pmdPresent(pmd)).toBe(true);
    expect(arch.pmdTransHuge(pmd)).toBe(true);
    expect(arch.pmdBad(pmd)).toBe(true); // !pmd_present(pmd) || (pmd_val(pmd) & _PAGE_LEAF)
    expect(arch.ptePfn(pmd)).toBe(BIG_PFN);
  });

  it('pmd_none() is zero; with THP a leaf pmd without V (being split) is still present and huge', () => {
    expect(arch.pmdEmpty).toBe(0);
    expect(arch.pmdNone(0)).toBe(true);
    expect(arch.pmdPresent(0)).toBe(false);
    expect(arch.pmdBad(0)).toBe(true);
    const splitting = (3 << 10) | READ | WRITE; // pmd_mkinvalid(): V and PROT_NONE cleared
    expect(arch.pmdPresent(splitting)).toBe(true);
    expect(arch.pmdTransHuge(splitting)).toBe(true);
    const noThp = riscv.create({ ...RISCV64_SV39, thp: false });
    expect(noThp.pmdPresent(splitting)).toBe(false);
  });

  it('an executable-only huge pmd is a leaf too (any of R/W/X)', () => {
    expect(arch.pmdTransHuge((3 << 10) | PRESENT | EXEC)).toBe(true);
  });
});

describe('riscv64 hugetlb sizes', () => {
  it('maps the 64K NAPOT size at PTE level (NAPOT_CONT64KB_ORDER = 4)', () => {
    expect(arch.hugetlbPteSizes).toEqual([65536]);
    expect(RISCV64_SV39.hugetlbPteLevel).toBe(true);
  });
});
