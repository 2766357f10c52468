import {
  type Ctx,
  localIrqRestore,
  localIrqSave,
  pmdLock,
  pmdOffset,
  pmdpCollapseFlush,
  pmdpGet,
  pteAlloc,
  setPmdHuge,
  spinLock,
  spinUnlock,
  Vma,
} from '@ptlab/core';
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  BOOK3S64,
  Book3s64Encoding,
  Nohash8xxEncoding,
  PPC32_8XX,
  PPC64_HASH_64K,
  PPC64_RADIX_4K,
  PPC64_RADIX_64K,
  PTE_8XX,
  powerpc,
  powerpcConsts,
} from '../src/index.js';
import { boot, finding, run, step, until } from './helpers.js';

const hash = new Book3s64Encoding(powerpcConsts(PPC64_HASH_64K), PPC64_HASH_64K.PAGE_SIZE);
const radix = new Book3s64Encoding(powerpcConsts(PPC64_RADIX_64K), PPC64_RADIX_64K.PAGE_SIZE);
const radix4k = new Book3s64Encoding(powerpcConsts(PPC64_RADIX_4K), PPC64_RADIX_4K.PAGE_SIZE);
const m8xx = new Nohash8xxEncoding(PPC32_8XX.PAGE_SIZE);

describe('entry encodings', () => {
  it('hash pte_none() ignores _PAGE_HPTEFLAGS (H_PTE_NONE_MASK); radix and 8xx do not', () => {
    const hpte = BOOK3S64.H_PAGE_HASHPTE + BOOK3S64.H_PAGE_BUSY + BOOK3S64.H_PAGE_COMBO;
    expect(hash.pteNone(0)).toBe(true);
    expect(hash.pteNone(hpte)).toBe(true);
    expect(radix.pteNone(hpte)).toBe(false);
    expect(hash.pteNone(hpte + BOOK3S64.READ)).toBe(false);
  });

  it('radix pte_none() ignores a late R/C writeback (RADIX_PTE_NONE_MASK); hash does not', () => {
    const rc = BOOK3S64.DIRTY + BOOK3S64.ACCESSED;
    expect(radix.pteNone(rc)).toBe(true);
    expect(hash.pteNone(rc)).toBe(false);
    expect(m8xx.pteNone(PTE_8XX.ACCESSED)).toBe(false);
    expect(m8xx.pteNone(0)).toBe(true);
  });

  it.each([
    ['hash', hash, 65536],
    ['radix', radix, 65536],
    ['radix 4K', radix4k, 4096],
    ['8xx', m8xx, 4096],
  ] as const)('%s ptes round-trip their pfn and are present, not none', (_n, e, pageSize) => {
    const pfn = 2 ** 30 + 5;
    for (const write of [true, false]) {
      const pte = e.mkPte(pfn, { write });
      expect(e.ptePfn(pte)).toBe(pfn);
      expect(e.ptePresent(pte)).toBe(true);
      expect(e.pteNone(pte)).toBe(false);
      expect(Number.isSafeInteger(pte)).toBe(true);
    }
    void pageSize;
  });

  it('pmds point at fragments: 4K-aligned on hash, 256-byte-aligned on radix 64K', () => {
    const pa = 7 * 65536 + 3 * 4096;
    expect(hash.pmdTablePa(hash.mkPmdTable(pa))).toBe(pa);
    expect(hash.pmdBad(hash.mkPmdTable(pa))).toBe(false);
    const rpa = 7 * 65536 + 5 * 256;
    const rpmd = radix.mkPmdTable(rpa);
    expect(radix.pmdTablePa(rpmd)).toBe(rpa);
    expect(rpmd % 256).toBe(5); // RADIX_PTE_INDEX_SIZE in the next-level-size field
    expect(radix.pmdBad(rpmd)).toBe(false);
    expect(radix.pmdBad(rpmd + 8)).toBe(true);
    expect(hash.pmdBad(hash.mkPmdTable(pa) + 0x100)).toBe(true);
    expect(m8xx.pmdTablePa(m8xx.mkPmdTable(9 * 4096))).toBe(9 * 4096);
    expect(m8xx.pmdBad(m8xx.mkPmdTable(9 * 4096))).toBe(false);
    expect(m8xx.pmdBad(m8xx.mkPmdTable(9 * 4096) + 0x10)).toBe(true);
  });

  it('a huge pmd is trans-huge (hash needs H_PAGE_THP_HUGE), a table pmd is not', () => {
    expect(hash.pmdTransHuge(hash.mkPmdHuge(2 ** 30))).toBe(true);
    expect(hash.pmdTransHuge(hash.mkPmdHuge(2 ** 30) - BOOK3S64.H_PAGE_THP_HUGE)).toBe(false);
    expect(radix.pmdTransHuge(radix.mkPmdHuge(2 ** 30))).toBe(true);
    expect(radix.pmdTransHuge(radix.mkPmdTable(65536))).toBe(false);
    expect(radix.pmdTransHuge(0)).toBe(false);
    expect(m8xx.pmdTransHuge(m8xx.mkPmdTable(4096))).toBe(false);
    expect(() => m8xx.mkPmdHuge(1)).toThrow(/no transparent huge pmds/);
  });

  it('the port uses the encoding of its config', () => {
    const a = powerpc.create(PPC64_HASH_64K);
    expect(a.pteNone(BOOK3S64.H_PAGE_HASHPTE)).toBe(true);
    const r = powerpc.create(PPC64_RADIX_64K);
    expect(r.pteNone(BOOK3S64.H_PAGE_HASHPTE)).toBe(false);
    expect(() => powerpc.create(PPC64_HASH_64K, 'no-such-variant')).toThrow(/unknown variant/);
    expect(() => powerpc.create({ ...PPC64_HASH_64K, id: 'ppc64-other' })).toThrow(
      /unknown config/,
    );
  });
});

/** A pmd slot with a table (boot context). */
function populated(config = PPC64_RADIX_64K) {
  const b = boot(config);
  const addr = 1 * config.PTRS_PER_PTE * config.PAGE_SIZE;
  const pmdp = pmdOffset(b.ctx, b.mm, addr);
  expect(run(pteAlloc(b.ctx, b.mm, pmdp))).toBe(0);
  const pmd = run(pmdpGet(b.ctx, pmdp));
  return { ...b, addr, pmdp, pmd };
}

describe('assert_pte_locked() (v3 04/13 with its fix)', () => {
  it('fires when the ptl of the table is not held', () => {
    const p = populated();
    const f = finding(() => run(p.a.assertPteLocked(p.ctx, p.mm, p.addr)));
    expect(f?.check).toBe('pte-write-without-ptl');
    expect(f?.message).toContain('assert_spin_locked');
  });

  it('stays silent under the ptl and leaves RCU balanced', () => {
    const p = populated();
    const ptl = p.k.pages.raw(Math.floor((p.pmd.table?.pa ?? 0) / 65536)).ptl;
    if (!ptl) throw new Error('no ptl');
    run(spinLock(p.ctx, ptl));
    expect(finding(() => run(p.a.assertPteLocked(p.ctx, p.mm, p.addr)))).toBeNull();
    expect(p.ctx.cpu.rcuNesting).toBe(0);
    run(spinUnlock(p.ctx, ptl));
  });

  it('returns on a none pmd (khugepaged cleared it before clearing ptes)', () => {
    const p = populated();
    const other = 3 * PPC64_RADIX_64K.PTRS_PER_PTE * PPC64_RADIX_64K.PAGE_SIZE;
    expect(finding(() => run(p.a.assertPteLocked(p.ctx, p.mm, other)))).toBeNull();
    expect(p.ctx.cpu.rcuNesting).toBe(0);
  });

  it('BUG_ON(!pte) when pte_offset_map_nolock() fails on a huge pmd', () => {
    const b = boot(PPC64_RADIX_64K);
    const addr = 2 * PPC64_RADIX_64K.PTRS_PER_PTE * PPC64_RADIX_64K.PAGE_SIZE;
    const pmdp = pmdOffset(b.ctx, b.mm, addr);
    const pml = run(pmdLock(b.ctx, b.mm, pmdp));
    run(setPmdHuge(b.ctx, b.mm, pmdp, 2 ** 30));
    run(spinUnlock(b.ctx, pml));
    const f = finding(() => run(b.a.assertPteLocked(b.ctx, b.mm, addr)));
    expect(f?.message).toContain('BUG_ON(!pte)');
  });
});

describe('pmdp_collapse_flush() overrides', () => {
  /** A CPU of the mm with interrupts off (a lockless walker), and a CPU collapsing the pmd. */
  function race(config: typeof PPC64_HASH_64K) {
    const p = populated(config);
    const vma = new Vma(
      p.mm,
      p.addr,
      p.addr + config.PTRS_PER_PTE * config.PAGE_SIZE,
      { shared: true, uffdMissing: false, uffdWp: false },
      null,
      0,
    );
    const walker = p.k.spawn(
      'walker',
      function* (ctx: Ctx) {
        yield* localIrqSave(ctx);
        yield ctx.step('walk the tables with interrupts off', testObj('walk'), 'r');
        yield* localIrqRestore(ctx);
      },
      { mm: p.mm },
    );
    const collapse = p.k.spawn('collapse', function* (ctx: Ctx) {
      const pml = yield* pmdLock(ctx, p.mm, p.pmdp);
      yield* pmdpCollapseFlush(ctx, vma, p.addr, p.pmdp);
      yield* spinUnlock(ctx, pml);
    });
    walker.start();
    collapse.start();
    step(p.k, walker); // interrupts now off
    return { ...p, walker, collapse };
  }

  it('hash waits for every CPU of the mm to take the serialize_against_pte_lookup() IPI', () => {
    const r = race(PPC64_HASH_64K);
    until(r.k, r.collapse, 'wait for IPI do_serialize');
    expect(r.collapse.runnable).toBe(false);
    step(r.k, r.walker, 2); // walk, then local_irq_restore(): the IPI is taken
    expect(r.collapse.runnable).toBe(true);
    while (!r.collapse.done) step(r.k, r.collapse);
    expect(r.a.pmdNone(run(pmdpGet(r.ctx, r.pmdp)).raw)).toBe(true);
  });

  it('radix clears the pmd and flushes by broadcast tlbie, interrupting nobody', () => {
    const r = race(PPC64_RADIX_64K);
    while (!r.collapse.done) step(r.k, r.collapse);
    expect(r.walker.ctx.cpu.irqOff).toBe(1);
    expect(r.a.pmdNone(run(pmdpGet(r.ctx, r.pmdp)).raw)).toBe(true);
  });

  it('the 8xx has no override (no THP)', () => {
    expect(powerpc.create(PPC32_8XX).pmdpCollapseFlush).toBeUndefined();
    expect(powerpc.create(PPC64_RADIX_4K).pmdpCollapseFlush).toBeDefined();
  });
});
