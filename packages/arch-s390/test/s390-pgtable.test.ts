/**
 * s390 entry encodings (arch/s390/include/asm/pgtable.h) and the port's
 * create(): pte_none() is 0x400, not zero; pmd_none() is _SEGMENT_ENTRY_EMPTY.
 */
import { describe, expect, it } from 'vitest';
import {
  S390_2K,
  S390_4K,
  S390_CONFIGS,
  S390_PAGE,
  S390_PGSTE,
  S390_SEGMENT,
  S390_VARIANTS,
  S390FragmentArch,
  S390FullPageArch,
  s390,
} from '../src/index.js';

const a = s390.create(S390_2K);

describe('PTE encoding', () => {
  it('pte_none() is exactly _PAGE_INVALID (0x400); zero is not an empty s390 pte', () => {
    expect(a.pteEmpty).toBe(0x400);
    expect(a.pteNone(S390_PAGE.INVALID)).toBe(true);
    expect(a.pteNone(0)).toBe(false);
    expect(a.pteNone(S390_PAGE.INVALID | S390_PAGE.PROTECT)).toBe(false);
  });

  it('mk_pte(): present, young (INVALID cleared), clean (PROTECT), pfn above bit 12, also for pfns beyond 32 bits', () => {
    const pfn = 2 ** 30 + 5;
    const ro = a.mkPte(pfn, { write: false });
    const rw = a.mkPte(pfn, { write: true });
    for (const pte of [ro, rw]) {
      expect(a.ptePresent(pte)).toBe(true);
      expect(a.pteNone(pte)).toBe(false);
      expect(a.ptePfn(pte)).toBe(pfn);
      expect((pte % 4096) & S390_PAGE.INVALID).toBe(0);
      expect((pte % 4096) & S390_PAGE.PROTECT).toBe(S390_PAGE.PROTECT);
    }
    expect((rw % 4096) & S390_PAGE.WRITE).toBe(S390_PAGE.WRITE);
    expect((ro % 4096) & S390_PAGE.WRITE).toBe(0);
    expect(a.ptePresent(S390_PAGE.INVALID)).toBe(false);
  });
});

describe('segment (pmd) encoding', () => {
  it('pmd_none()/pmd_present() compare with _SEGMENT_ENTRY_EMPTY (0x20)', () => {
    expect(a.pmdEmpty).toBe(S390_SEGMENT.EMPTY);
    expect(a.pmdNone(0x20)).toBe(true);
    expect(a.pmdPresent(0x20)).toBe(false);
    expect(a.pmdNone(0)).toBe(false);
  });

  it('pmd_populate() holds the 2K-aligned table origin: the upper half of a page round-trips', () => {
    const pa = 0x7000 + 2048;
    const pmd = a.mkPmdTable(pa);
    expect(a.pmdTablePa(pmd)).toBe(pa);
    expect(a.pmdNone(pmd) || a.pmdTransHuge(pmd) || a.pmdBad(pmd)).toBe(false);
    expect(a.pmdPresent(pmd)).toBe(true);
  });

  it('a huge segment entry has _SEGMENT_ENTRY_LARGE (0x400): pmd_trans_huge(), and pmd_bad() for a table walker', () => {
    const pfn = 2 ** 30;
    const pmd = a.mkPmdHuge(pfn);
    expect(a.pmdTransHuge(pmd)).toBe(true);
    expect(a.pmdBad(pmd)).toBe(true);
    expect(a.ptePfn(pmd)).toBe(pfn);
    expect(a.pmdPresent(pmd)).toBe(true);
  });

  it('pmd_bad(): bits outside _SEGMENT_ENTRY_BITS or a table type', () => {
    expect(a.pmdBad(0x8000 | 0x04)).toBe(true);
    expect(a.pmdBad(0x8000 | 0x40)).toBe(true);
    expect(a.pmdBad(0x8000 | S390_SEGMENT.PROTECT)).toBe(false);
  });
});

describe('configs and create()', () => {
  it('constants: 256 ptes of 8 bytes (2K), 2048 segment entries, 1M per pmd, 4K pages; RCU table free, no IPI flush', () => {
    for (const c of S390_CONFIGS) {
      expect([c.PAGE_SIZE, c.PTRS_PER_PTE, c.PTRS_PER_PMD, c.pteSize]).toEqual([
        4096, 256, 2048, 8,
      ]);
      expect(c.PTRS_PER_PTE * c.PAGE_SIZE).toBe(1 << 20);
      expect([c.rcuTableFree, c.tlbFlushIpi, c.thp, c.splitPtePtlocks]).toEqual([
        true,
        false,
        true,
        true,
      ]);
    }
    expect(S390_2K.tablesPerPage).toBe(2);
    expect([S390_4K.tablesPerPage, S390_PGSTE.tablesPerPage]).toEqual([1, 1]);
  });

  it('creates the allocator of each kernel version', () => {
    expect(s390.create(S390_2K)).toBeInstanceOf(S390FragmentArch);
    expect(s390.create(S390_PGSTE)).toBeInstanceOf(S390FragmentArch);
    expect(s390.create(S390_4K)).toBeInstanceOf(S390FullPageArch);
    expect(s390.create(S390_2K).config).toBe(S390_2K);
  });

  it('every variant applies to s390-2k; unknown variants and configs are refused by name', () => {
    for (const v of S390_VARIANTS) {
      expect(v.configs).toEqual(['s390-2k']);
      expect(v.expect).toBe('caught');
      expect(s390.create(S390_2K, v.id)).toBeInstanceOf(S390FragmentArch);
      expect(() => s390.create(S390_4K, v.id)).toThrow(/applies to s390-2k/);
    }
    expect(() => s390.create(S390_2K, 'nope')).toThrow(/unknown s390 variant "nope"/);
    expect(() => s390.create({ ...S390_2K, id: 's390-9k' })).toThrow(/unknown s390 config/);
  });
});
