/**
 * The pte_offset_map() contract (src/pgtable.ts, "[PATCH v3 13/13]
 * mm/pgtable: notes on pte_offset_map[_lock]()"): map under RCU, NULL when
 * there is no table, pte_offset_map_lock() rechecks the pmd and retries.
 */
import { describe, expect, it } from 'vitest';
import {
  type Kernel,
  type Mm,
  type PmdPtr,
  PTE_OFFSET_MAP_WITHOUT_RCU,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pteAlloc,
  pteOffsetMap,
  pteOffsetMapLock,
  pteOffsetMapNolock,
  pteUnmap,
  pteUnmapUnlock,
  type SpinLock,
  setPmdHuge,
  spinUnlock,
} from '../src/index.js';
import {
  mapPage,
  newKernel,
  pmdAddr,
  populate,
  retractTable,
  Sim,
  TEST_CONFIG,
} from './helpers.js';

const ADDR = pmdAddr(1) + 5 * TEST_CONFIG.PAGE_SIZE;

function world(over = {}, variants: string[] = []) {
  const k = newKernel(over, { variants });
  const mm = k.createMm('A');
  const { pmdp, pa } = populate(k, mm, ADDR);
  mapPage(k, mm, ADDR, 0x4000);
  return { k, mm, pmdp, pa };
}

function ptlOf(k: Kernel, pa: number): SpinLock | null {
  return k.pages.raw(pa / TEST_CONFIG.PAGE_SIZE).ptl;
}

/** A fault path: pte_offset_map_lock(), then report which table and lock it got. */
function lockedMap(k: Kernel, mm: Mm, pmdp: PmdPtr) {
  return k.spawn(
    'fault',
    function* (ctx) {
      const r = yield* pteOffsetMapLock(ctx, mm, pmdp, ADDR);
      if (!r) return null;
      yield* pteUnmapUnlock(ctx, r.pte, r.ptl);
      return { pa: r.pte.table.pa, index: r.pte.index, ptl: r.ptl };
    },
    { mm },
  );
}

describe('pte_offset_map_lock()', () => {
  it('maps and locks the table the pmd points to', () => {
    const { k, mm, pmdp, pa } = world();
    const fault = lockedMap(k, mm, pmdp);
    expect(new Sim(k).drain()).toBeNull();
    expect(fault.result).toEqual({ pa, index: 5, ptl: ptlOf(k, pa) });
  });

  it('retries when the pmd changed under it, and locks the new table', () => {
    const { k, mm, pmdp, pa } = world();
    const fault = lockedMap(k, mm, pmdp);
    let newPa = -1;
    k.spawn(
      'replace',
      function* (ctx) {
        yield* retractTable(ctx, mm, pmdp, pa, 'defer');
        expect(yield* pteAlloc(ctx, mm, pmdp)).toBe(0);
        newPa = (yield* pmdpGet(ctx, pmdp)).table?.pa ?? -1;
      },
      { mm },
    );
    const sim = new Sim(k);
    sim.until('fault', 'spin_lock(ptl of pfn'); // mapped the old table
    sim.finish('replace');
    sim.until('fault', 'pmdp_get_lockless'); // locked the old table's ptl, about to recheck
    sim.step('fault');
    expect(k.notes.join()).toContain('pmd changed under ptl of pfn');
    expect(sim.drain()).toBeNull();
    expect(newPa).not.toBe(pa);
    expect(fault.result).toEqual({ pa: newPa, index: 5, ptl: ptlOf(k, newPa) });
    expect(k.pt.get(pa)?.state).toBe('free'); // the old one went after the grace period
  });

  it('returns NULL when the table was removed under it', () => {
    const { k, mm, pmdp, pa } = world();
    const fault = lockedMap(k, mm, pmdp);
    k.spawn('retract', (ctx) => retractTable(ctx, mm, pmdp, pa, 'defer'), { mm });
    const sim = new Sim(k);
    sim.until('fault', 'spin_lock(ptl of pfn');
    sim.finish('retract');
    expect(sim.drain()).toBeNull();
    expect(fault.result).toBeNull();
    expect(fault.ctx.cpu.rcuNesting).toBe(0);
    expect(fault.ctx.cpu.held).toEqual([]);
  });

  it('waits for the ptl while the table is being retracted', () => {
    const { k, mm, pmdp, pa } = world();
    const fault = lockedMap(k, mm, pmdp);
    k.spawn('retract', (ctx) => retractTable(ctx, mm, pmdp, pa, 'defer'), { mm });
    const sim = new Sim(k);
    sim.until('retract', 'pmdp_huge_get_and_clear'); // holds pml and the nested ptl
    sim.until('fault', 'spin_lock(ptl of pfn');
    expect(sim.blocked('fault')).toBe(true);
    expect(sim.drain()).toBeNull();
    expect(fault.result).toBeNull();
  });
});

describe('pte_offset_map()', () => {
  it('takes rcu_read_lock() until pte_unmap()', () => {
    const { k, mm, pmdp } = world();
    const nesting: number[] = [];
    k.spawn(
      'walker',
      function* (ctx) {
        const ptep = yield* pteOffsetMap(ctx, pmdp, ADDR);
        nesting.push(ctx.cpu.rcuNesting);
        if (ptep) yield* pteUnmap(ctx, ptep);
        nesting.push(ctx.cpu.rcuNesting);
      },
      { mm },
    );
    expect(new Sim(k).drain()).toBeNull();
    expect(nesting).toEqual([1, 0]);
  });

  it('without patch 01/13 (the variant) takes no rcu_read_lock()', () => {
    const { k, mm, pmdp } = world({}, [PTE_OFFSET_MAP_WITHOUT_RCU]);
    const nesting: number[] = [];
    k.spawn(
      'walker',
      function* (ctx) {
        const ptep = yield* pteOffsetMap(ctx, pmdp, ADDR);
        nesting.push(ctx.cpu.rcuNesting);
        if (ptep) yield* pteUnmap(ctx, ptep);
      },
      { mm },
    );
    expect(new Sim(k).drain()).toBeNull();
    expect(nesting).toEqual([0]);
  });

  it('returns NULL (and leaves the RCU section) for a none or huge pmd', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    const none = pmdOffset(k.boot, mm, pmdAddr(3));
    const huge = pmdOffset(k.boot, mm, pmdAddr(4));
    const got: unknown[] = [];
    k.spawn(
      'walker',
      function* (ctx) {
        const pml = yield* pmdLock(ctx, mm, huge);
        yield* setPmdHuge(ctx, mm, huge, 0x8000);
        yield* spinUnlock(ctx, pml);
        got.push(yield* pteOffsetMap(ctx, none, pmdAddr(3)));
        got.push(yield* pteOffsetMap(ctx, huge, pmdAddr(4)));
        got.push(yield* pteOffsetMapNolock(ctx, mm, huge, pmdAddr(4)));
        got.push(yield* pteOffsetMapLock(ctx, mm, huge, pmdAddr(4)));
        got.push(ctx.cpu.rcuNesting);
      },
      { mm },
    );
    expect(new Sim(k).drain()).toBeNull();
    expect(got).toEqual([null, null, null, null, 0]);
  });

  it("pte_offset_map_nolock() names the lock of exactly the table it mapped (or mm's page_table_lock)", () => {
    for (const split of [true, false]) {
      const { k, mm, pmdp, pa } = world({ splitPtePtlocks: split });
      const w = k.spawn(
        'walker',
        function* (ctx) {
          const r = yield* pteOffsetMapNolock(ctx, mm, pmdp, ADDR);
          if (r) yield* pteUnmap(ctx, r.pte);
          return r?.ptl;
        },
        { mm },
      );
      expect(new Sim(k).drain()).toBeNull();
      expect(w.result).toBe(split ? ptlOf(k, pa) : mm.pageTableLock);
    }
  });
});

describe('pte_alloc()', () => {
  it('two racing faults install one table; the loser frees its own', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    const pmdp = pmdOffset(k.boot, mm, ADDR);
    for (const name of ['f1', 'f2']) k.spawn(name, (ctx) => pteAlloc(ctx, mm, pmdp), { mm });
    const sim = new Sim(k);
    sim.until('f1', 'spin_lock'); // allocated, not yet installed
    sim.until('f2', 'spin_lock');
    expect(k.pages.allocatedCount).toBe(3); // pmd table + two PTE tables
    expect(sim.drain()).toBeNull();
    expect(k.pages.allocatedCount).toBe(2);
    expect(mm.pgtablesBytes).toBe(TEST_CONFIG.PTRS_PER_PTE * TEST_CONFIG.pteSize);
    expect(
      k.pt
        .live()
        .filter((t) => t.kind === 'pte')
        .map((t) => t.linkedFrom),
    ).toEqual(['pt#1[1]']);
  });
});
