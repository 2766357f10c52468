/**
 * __pte_offset_map() on a pmd_bad() value: pmd_clear_bad() (mm/pgtable-generic.c)
 * prints pmd_ERROR() of the live entry and clears it, then the map fails.
 */
import { describe, expect, it } from 'vitest';
import {
  type Kernel,
  type Mm,
  pmdOffset,
  pmdpGet,
  pteOffsetMap,
  pteOffsetMapLock,
  pteUnmap,
  runToEnd,
  Tag,
} from '../src/index.js';
import { catchBug, newKernel, pmdAddr, populate } from './helpers.js';

const ADDR = pmdAddr(1);

/** mm A with a PTE table under pmd 1. */
function world(): { k: Kernel; mm: Mm; tablePa: number } {
  const k = newKernel();
  const mm = k.createMm('A');
  return { k, mm, tablePa: populate(k, mm, ADDR).pa };
}

/** Corrupt pmd 1 of `mm` with `raw` (no correct path writes such a value). */
function corrupt(k: Kernel, mm: Mm, raw: number): void {
  const pmdp = pmdOffset(k.boot, mm, ADDR);
  k.mem.write(pmdp.table.pa + pmdp.index * k.mem.wordSize, raw, Tag.pmd);
}

const livePmd = (k: Kernel, mm: Mm): number =>
  runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, ADDR))).raw;

describe('check bad-pmd', () => {
  it('fires', () => {
    // A table pointer whose low flag bits are not _PAGE_TABLE: pmd_bad() on x86.
    const { k, mm, tablePa } = world();
    const bad = tablePa + 0x3;
    corrupt(k, mm, bad);
    expect(k.arch.pmdBad(bad)).toBe(true);
    const b = catchBug(() => {
      runToEnd(pteOffsetMap(k.boot, pmdOffset(k.boot, mm, ADDR), ADDR));
    });
    expect(b?.check).toBe('bad-pmd');
    expect(b?.message).toContain(`bad pmd pt#1[1](0x${bad.toString(16)})`);
    // pmd_clear() ran on the live entry before pmd_ERROR's report reached us.
    expect(k.arch.pmdNone(livePmd(k, mm))).toBe(true);
  });

  it('stays silent', () => {
    const { k, mm } = world();
    const ctx = k.boot;
    const b = catchBug(() => {
      const pte = runToEnd(pteOffsetMap(ctx, pmdOffset(ctx, mm, ADDR), ADDR));
      expect(pte).not.toBeNull();
      if (pte) runToEnd(pteUnmap(ctx, pte));
      // A none pmd: no table, no complaint.
      expect(runToEnd(pteOffsetMap(ctx, pmdOffset(ctx, mm, pmdAddr(2)), pmdAddr(2)))).toBeNull();
    });
    expect(b).toBeNull();
    expect(k.arch.pmdBad(livePmd(k, mm))).toBe(false);
  });

  it('fires: through pte_offset_map_lock(), which maps with __pte_offset_map()', () => {
    const { k, mm, tablePa } = world();
    corrupt(k, mm, tablePa + 0x1);
    const b = catchBug(() => {
      runToEnd(pteOffsetMapLock(k.boot, mm, pmdOffset(k.boot, mm, ADDR), ADDR));
    });
    expect(b?.check).toBe('bad-pmd');
  });

  it('fires: on a pmd value copied to the stack (gup_fast), only the copy is cleared', () => {
    const { k, mm, tablePa } = world();
    const bad = tablePa + 0x5;
    const b = catchBug(() => {
      runToEnd(pteOffsetMap(k.boot, { raw: bad, table: null }, ADDR));
    });
    expect(b?.check).toBe('bad-pmd');
    expect(b?.message).toContain('stack copy');
    // The live pmd still points at the table.
    expect(livePmd(k, mm)).toBe(k.arch.mkPmdTable(tablePa));
  });
});
