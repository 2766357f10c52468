import { Kernel, pmdOffset, pmdpGet, runToEnd } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  INVALID_PTE_TABLE,
  MIPS32_XPA,
  MIPS64,
  mips,
  R4K64,
  XPA,
  xpaHigh,
  xpaLow,
  xpaPte,
} from '../src/index.js';

const mips64 = mips.create(MIPS64);
const xpa = mips.create(MIPS32_XPA);

describe('mips64 pte_none() ignores _PAGE_GLOBAL', () => {
  it('an entry holding only _PAGE_GLOBAL (a kernel buddy entry) is none', () => {
    expect(mips64.pteNone(0)).toBe(true);
    expect(mips64.pteNone(R4K64.GLOBAL)).toBe(true);
    expect(mips64.ptePresent(R4K64.GLOBAL)).toBe(false);
  });

  it('any other bit makes it not none', () => {
    expect(mips64.pteNone(R4K64.GLOBAL + R4K64.VALID)).toBe(false);
    expect(mips64.pteNone(R4K64.PRESENT)).toBe(false);
    expect(mips64.pteNone(2 ** R4K64.PFN_SHIFT)).toBe(false);
  });

  it('pfn_pte()/pte_pfn() round trip above 2^32, present and not none', () => {
    for (const pfn of [1, 2 ** 30 + 5, 2 ** 36 - 1]) {
      const pte = mips64.mkPte(pfn, { write: true });
      expect(mips64.ptePfn(pte)).toBe(pfn);
      expect(mips64.ptePresent(pte)).toBe(true);
      expect(mips64.pteNone(pte)).toBe(false);
      // A global user PTE would still be a PTE.
      expect(mips64.pteNone(pte + R4K64.GLOBAL)).toBe(false);
    }
  });

  it('huge pmds carry _PAGE_HUGE and are neither bad nor tables', () => {
    const huge = mips64.mkPmdHuge(2 ** 30);
    expect(mips64.pmdTransHuge(huge)).toBe(true);
    expect(mips64.pmdPresent(huge)).toBe(true);
    expect(mips64.pmdBad(huge)).toBe(false);
    expect(mips64.ptePfn(huge)).toBe(2 ** 30);
  });
});

describe('mips32 XPA: a 64-bit pte_t as pte_low/pte_high halves', () => {
  it('pte_none() looks at pte_high only, ignoring _PAGE_GLOBAL', () => {
    expect(xpa.pteNone(xpaPte(0, 0))).toBe(true);
    expect(xpa.pteNone(xpaPte(XPA.GLOBAL, 0))).toBe(true);
    // Software bits and PFNX in pte_low do not make an entry non-none.
    expect(xpa.pteNone(xpaPte(XPA.GLOBAL, XPA.PRESENT + 0xff))).toBe(true);
    expect(xpa.pteNone(xpaPte(XPA.VALID, 0))).toBe(false);
    expect(xpa.pteNone(xpaPte(XPA.GLOBAL + 2 ** XPA.PFN_SHIFT, 0))).toBe(false);
  });

  it('pte_present() looks at pte_low only', () => {
    expect(xpa.ptePresent(xpaPte(0, XPA.PRESENT))).toBe(true);
    expect(xpa.ptePresent(xpaPte(0xffffffff, 0))).toBe(false);
  });

  it('pfn_pte(): pfn[23:0] in pte_high above the EntryLo bits, pfn[47:24] (PFNX) in pte_low', () => {
    const pfn = 2 ** 30 + 0x123456;
    const pte = xpa.mkPte(pfn, { write: false });
    expect(xpaHigh(pte)).toBeLessThan(2 ** 32);
    expect(xpaLow(pte) % 2 ** 24).toBe(2 ** 6);
    expect(Math.floor(xpaHigh(pte) / 2 ** XPA.PFN_SHIFT)).toBe(0x123456);
    expect(xpa.ptePfn(pte)).toBe(pfn);
    expect(xpa.pteNone(pte)).toBe(false);
    expect(xpa.ptePresent(pte)).toBe(true);
    // A pfn whose low 24 bits are zero still gives a non-none pte_high (its hardware bits).
    const aligned = xpa.mkPte(2 ** 30, { write: true });
    expect(Math.floor(xpaHigh(aligned) / 2 ** XPA.PFN_SHIFT)).toBe(0);
    expect(xpa.pteNone(aligned)).toBe(false);
    expect(xpa.ptePfn(aligned)).toBe(2 ** 30);
  });

  it('has no huge pmds', () => {
    expect(() => xpa.mkPmdHuge(1)).toThrow(/no huge pmds/);
    expect(xpa.pmdTransHuge(12345 * 4096)).toBe(false);
  });
});

describe('mips pmd_none(): an empty pmd points at invalid_pte_table, not 0', () => {
  for (const config of [MIPS64, MIPS32_XPA]) {
    it(`${config.id}: a new mm's pmds are invalid_pte_table`, () => {
      const k = new Kernel({ arch: mips.create(config) });
      const mm = k.createMm('A');
      const pmd = runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, 0)));
      expect(pmd.raw).toBe(INVALID_PTE_TABLE);
      expect(k.arch.pmdEmpty).toBe(INVALID_PTE_TABLE);
      expect(k.arch.pmdNone(pmd.raw)).toBe(true);
      expect(k.arch.pmdPresent(pmd.raw)).toBe(false);
      expect(k.arch.pmdNone(0)).toBe(false);
      const table = k.arch.mkPmdTable(7 * 4096);
      expect(k.arch.pmdNone(table) || k.arch.pmdBad(table)).toBe(false);
      expect(k.arch.pmdTablePa(table)).toBe(7 * 4096);
    });
  }
});
