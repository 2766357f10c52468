/**
 * A PTE read-modify-written under the lock of another table: "[PATCH v3
 * 03/13] arm: adjust_pte() use pte_offset_map_nolock()" — pte_lockptr(mm,
 * pmd) "dereferences the pmd pointer again", pte_offset_map_nolock() names the
 * lock of exactly the table it mapped. ptepGetUnderPtl() is the read half of
 * such a read-modify-write (do_adjust_pte()); it fires whether or not the
 * caller goes on to write.
 */
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  type KGen,
  type Mm,
  type PmdPtr,
  pmdpGet,
  pteAlloc,
  pteLockptr,
  pteOffsetMap,
  pteOffsetMapNolock,
  ptepGetUnderPtl,
  pteUnmap,
  SINGLE_DEPTH_NESTING,
  spinLock,
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
const DATA_PFN = 0x4000;

function world() {
  const k = newKernel();
  const mm = k.createMm('A');
  const { pmdp, pa } = populate(k, mm, ADDR);
  mapPage(k, mm, ADDR, DATA_PFN);
  return { k, mm, pmdp, pa };
}

/** adjust_pte() as v6.6 has it: pte_offset_map_nolock(), lock exactly that ptl, read under it. */
function* nolockUser(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<number | null> {
  const m = yield* pteOffsetMapNolock(ctx, mm, pmdp, ADDR);
  if (!m) return null;
  yield* spinLock(ctx, m.ptl, SINGLE_DEPTH_NESTING);
  const pte = yield* ptepGetUnderPtl(ctx, m.pte, m.ptl, 'do_adjust_pte(): entry = *ptep');
  yield* spinUnlock(ctx, m.ptl);
  yield* pteUnmap(ctx, m.pte);
  return pte;
}

/** adjust_pte() as v6.5 had it: pte_offset_map(), then pte_lockptr(mm, pmd) — *pmd read again. */
function* lockptrUser(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<number | null> {
  const pte = yield* pteOffsetMap(ctx, pmdp, ADDR);
  if (!pte) return null;
  const now = yield* pmdpGet(ctx, pmdp);
  const ptl = pteLockptr(ctx, mm, now);
  yield* spinLock(ctx, ptl, SINGLE_DEPTH_NESTING);
  const v = yield* ptepGetUnderPtl(ctx, pte, ptl, 'do_adjust_pte(): entry = *ptep');
  yield* spinUnlock(ctx, ptl);
  yield* pteUnmap(ctx, pte);
  return v;
}

/** retract_page_tables(), then a fault's __pte_alloc() putting a fresh table in the pmd. */
function* retractAndRefill(ctx: Ctx, mm: Mm, pmdp: PmdPtr, pa: number): KGen {
  yield* retractTable(ctx, mm, pmdp, pa, 'defer');
  yield* pteAlloc(ctx, mm, pmdp);
}

function build(user: typeof nolockUser) {
  const { k, mm, pmdp, pa } = world();
  const walker = k.spawn('walker', (ctx) => user(ctx, mm, pmdp), { mm });
  k.spawn('writer', (ctx) => retractAndRefill(ctx, mm, pmdp, pa), { mm });
  const sim = new Sim(k);
  // The walker maps the old table, then the writer retracts it and installs another.
  sim.until('walker', /^(read pmd|spin_lock)/);
  sim.finish('writer');
  return { sim, walker };
}

describe('check wrong-ptl', () => {
  it('fires', () => {
    const { sim } = build(lockptrUser);
    const f = sim.drain();
    expect(f?.check).toBe('wrong-ptl');
    expect(f?.message).toMatch(
      /do_adjust_pte\(\): entry = \*ptep in pt#\d+ under ptl of pfn \d+, but the lock of pt#\d+ is ptl of pfn \d+$/,
    );
    expect(f?.related[0]?.what).toMatch(/^pte_free_defer\(pt#\d+\)$/);
  });

  it('stays silent', () => {
    const { sim, walker } = build(nolockUser);
    expect(sim.drain()).toBeNull();
    // It read the retracted table's pte under that table's own lock: still the old PTE.
    expect(walker.result).toBe(sim.k.arch.mkPte(DATA_PFN, { write: true }));
  });

  it('fires: the ptl is not held at all', () => {
    const { k, mm, pmdp } = world();
    k.spawn(
      'walker',
      function* (ctx) {
        const m = yield* pteOffsetMapNolock(ctx, mm, pmdp, ADDR);
        if (!m) return;
        yield* ptepGetUnderPtl(ctx, m.pte, m.ptl);
        yield* pteUnmap(ctx, m.pte);
      },
      { mm },
    );
    const f = new Sim(k).drain();
    expect(f?.check).toBe('wrong-ptl');
    expect(f?.message).toMatch(/read pte under ptl in pt#\d+ without holding ptl of pfn \d+$/);
  });

  it('stays silent: without split ptlocks every table shares mm->page_table_lock', () => {
    const k = newKernel({ splitPtePtlocks: false, splitPmdPtlocks: false });
    const mm = k.createMm('A');
    const { pmdp } = populate(k, mm, ADDR);
    k.spawn(
      'walker',
      function* (ctx) {
        yield* spinLock(ctx, mm.pageTableLock);
        const v = yield* lockptrUser2(ctx, mm, pmdp);
        yield* spinUnlock(ctx, mm.pageTableLock);
        return v;
      },
      { mm },
    );
    expect(new Sim(k).drain()).toBeNull();
  });
});

/** The v6.5 order without a nested lock: the caller holds mm->page_table_lock already. */
function* lockptrUser2(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<number | null> {
  const pte = yield* pteOffsetMap(ctx, pmdp, ADDR);
  if (!pte) return null;
  const ptl = pteLockptr(ctx, mm, yield* pmdpGet(ctx, pmdp));
  const v = yield* ptepGetUnderPtl(ctx, pte, ptl);
  yield* pteUnmap(ctx, pte);
  return v;
}
