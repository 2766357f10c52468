/**
 * CONFIG_PAGE_TABLE_CHECK (src/page-table-check.ts, mm/page_table_check.c):
 * set_pte_at()/set_pmd_at() count the pages they map, ptep_get_and_clear()
 * and a huge pmd clear un-count them, a raw pte_clear() does not, and a page
 * freed while counted is a BUG ("[PATCH v3 10/13 fix2]" in seeds/004).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ptEntryObj } from '../src/deps.js';
import {
  type Ctx,
  type Folio,
  type Kernel,
  type KGen,
  type Mm,
  pageTableCheckCounters,
  pageTableCheckPteClearRange,
  pageTableCheckZero,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pteClear,
  pteOffsetMapLock,
  ptepGetAndClear,
  pteUnmapUnlock,
  runToEnd,
  setFootprintAudit,
  setPmdHuge,
  spinUnlock,
  stepFootprint,
} from '../src/index.js';
import { pageTableCheckPteClear } from '../src/page-table-check.js';
import { catchBug, mapPage, newKernel, pmdAddr, populate, TEST_CONFIG } from './helpers.js';

const ADDR = pmdAddr(1) + 3 * TEST_CONFIG.PAGE_SIZE;

/** A shmem page mapped at ADDR by a PTE (counted as a file mapping). */
function world(pageTableCheck = true): { k: Kernel; mm: Mm; folio: Folio; pa: number } {
  const k = newKernel({ pageTableCheck });
  const mm = k.createMm('A');
  const file = k.createFile('shm', true);
  const folio = k.createFolio('shm@3', 0, file, 3);
  const { pa } = populate(k, mm, ADDR);
  mapPage(k, mm, ADDR, folio.pfn);
  return { k, mm, folio, pa };
}

/** Under the ptl: clear the PTE with ptep_clear() or with a raw pte_clear(). */
function* clear(ctx: Ctx, mm: Mm, how: 'ptep_clear' | 'pte_clear'): KGen {
  const m = yield* pteOffsetMapLock(ctx, mm, pmdOffset(ctx, mm, ADDR), ADDR);
  if (!m) throw new Error('no table');
  if (how === 'ptep_clear') yield* ptepGetAndClear(ctx, mm, m.pte);
  else yield* pteClear(ctx, mm, m.pte);
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
}

/** The page goes back to the allocator: free_pages_prepare() → __page_table_check_zero(). */
function free(k: Kernel, folio: Folio) {
  return catchBug(() =>
    pageTableCheckZero(k.boot, folio.pfn, folio.nrPages, `free of ${folio.id}`),
  );
}

/** A shmem THP mapped by a huge pmd at pmd 2 (counted as file mappings, all its pages at once). */
function hugePmdMapped() {
  const k = newKernel({ pageTableCheck: true });
  const mm = k.createMm('A');
  const thp = k.createFolio('THP', Math.log2(TEST_CONFIG.PTRS_PER_PTE), k.createFile('s', true), 0);
  const ctx = k.boot;
  const pmdp = pmdOffset(ctx, mm, pmdAddr(2));
  runToEnd(
    (function* () {
      const pml = yield* pmdLock(ctx, mm, pmdp);
      yield* setPmdHuge(ctx, mm, pmdp, thp.pfn);
      yield* spinUnlock(ctx, pml);
    })(),
  );
  return { k, mm, thp, ctx, pmdp };
}

describe('check page-table-check', () => {
  it('fires', () => {
    // khugepaged's step 2 with pte_clear(): the page stays counted as mapped.
    const { k, mm, folio } = world();
    runToEnd(clear(k.boot, mm, 'pte_clear'));
    const f = free(k, folio);
    expect(f?.check).toBe('page-table-check');
    expect(f?.message).toMatch(
      /BUG at free of shm@3: pfn \d+ freed with anon_map_count=0 file_map_count=1: its mapping was removed at step \d+ by boot .*pte_clear\(\), which does not un-count it/,
    );
  });

  it('stays silent', () => {
    const { k, mm, folio } = world();
    expect(pageTableCheckCounters(k, folio.pfn)).toEqual({ anon: 0, file: 1 });
    runToEnd(clear(k.boot, mm, 'ptep_clear'));
    expect(pageTableCheckCounters(k, folio.pfn)).toEqual({ anon: 0, file: 0 });
    expect(free(k, folio)).toBeNull();
  });

  it('stays silent: a config without CONFIG_PAGE_TABLE_CHECK counts nothing', () => {
    const { k, mm, folio } = world(false);
    runToEnd(clear(k.boot, mm, 'pte_clear'));
    expect(pageTableCheckCounters(k, folio.pfn)).toEqual({ anon: 0, file: 0 });
    expect(free(k, folio)).toBeNull();
  });

  it('stays silent: page_table_check_pte_clear_range() un-counts what a detached table still maps', () => {
    const { k, mm, folio } = world();
    const ctx = k.boot;
    const pmdp = pmdOffset(ctx, mm, ADDR);
    const table = runToEnd(
      (function* () {
        const pml = yield* pmdLock(ctx, mm, pmdp);
        const old = yield* pmdpGetAndClear(ctx, mm, pmdp);
        yield* spinUnlock(ctx, pml);
        return old.table;
      })(),
    );
    runToEnd(pageTableCheckPteClearRange(ctx, mm, table));
    expect(free(k, folio)).toBeNull();
  });

  it('fires: a huge pmd counts every subpage, and the THP is freed while still mapped', () => {
    const { k, mm, thp, ctx, pmdp } = hugePmdMapped();
    expect(pageTableCheckCounters(k, thp.pfn + 511)).toEqual({ anon: 0, file: 1 });
    const f = free(k, thp);
    expect(f?.check).toBe('page-table-check');
    expect(f?.message).toMatch(
      /pfn \d+ freed with anon_map_count=0 file_map_count=1: counted at step/,
    );
    // Clearing the huge pmd un-counts all of them.
    runToEnd(
      (function* () {
        const pml = yield* pmdLock(ctx, mm, pmdp);
        expect(ctx.k.arch.pmdTransHuge((yield* pmdpGet(ctx, pmdp)).raw)).toBe(true);
        yield* pmdpGetAndClear(ctx, mm, pmdp);
        yield* spinUnlock(ctx, pml);
      })(),
    );
    expect(free(k, thp)).toBeNull();
  });
});

describe('page_table_check_set() and _clear() on one page (BUG_ON in mm/page_table_check.c)', () => {
  const ADDR2 = pmdAddr(1) + 4 * TEST_CONFIG.PAGE_SIZE;

  it('fires: a page counted as file is mapped as anon (its folio lost its mapping)', () => {
    const { k, mm, folio } = world();
    populate(k, mm, ADDR2);
    (folio as { mapping: unknown }).mapping = null; // truncated while still mapped
    const f = catchBug(() => mapPage(k, mm, ADDR2, folio.pfn));
    expect(f?.check).toBe('page-table-check');
    expect(f?.message).toMatch(/set_pte_at\(\) maps pfn \d+ as anon while its file_map_count is 1/);
    // The report names the mapping that counted it.
    expect(f?.related.length).toBe(1);
  });

  it('stays silent: a second file mapping of the same page', () => {
    const { k, mm, folio } = world();
    populate(k, mm, ADDR2);
    expect(catchBug(() => mapPage(k, mm, ADDR2, folio.pfn))).toBeNull();
    expect(pageTableCheckCounters(k, folio.pfn)).toEqual({ anon: 0, file: 2 });
  });

  it('fires: an entry un-counted twice', () => {
    const { k, mm, folio } = world();
    const pte = k.arch.mkPte(folio.pfn, { write: true });
    expect(catchBug(() => pageTableCheckPteClear(k.boot, mm, pte))).toBeNull();
    const f = catchBug(() => pageTableCheckPteClear(k.boot, mm, pte));
    expect(f?.check).toBe('page-table-check');
    expect(f?.message).toMatch(/un-counts pfn \d+, whose file_map_count goes negative \(-1\)/);
  });

  it('a huge pmd counts the whole folio, a PTE one page of it: the counts add up per page', () => {
    const { k, mm, thp, ctx } = hugePmdMapped();
    // One subpage un-counted by a PTE clear (as if it had also been PTE-mapped): 0 there, 1 elsewhere.
    const pte5 = k.arch.mkPte(thp.pfn + 5, { write: true });
    expect(catchBug(() => pageTableCheckPteClear(ctx, mm, pte5))).toBeNull();
    expect(pageTableCheckCounters(k, thp.pfn + 5)).toEqual({ anon: 0, file: 0 });
    expect(pageTableCheckCounters(k, thp.pfn + 4)).toEqual({ anon: 0, file: 1 });
    // Un-counting it again takes that page, and only that page, below zero.
    const f = catchBug(() => pageTableCheckPteClear(ctx, mm, pte5));
    expect(f?.message).toContain(
      `un-counts pfn ${thp.pfn + 5}, whose file_map_count goes negative (-1)`,
    );
  });

  it('a folio freed with one subpage still counted names that page', () => {
    const k = newKernel({ pageTableCheck: true });
    const mm = k.createMm('A');
    const thp = k.createFolio(
      'THP',
      Math.log2(TEST_CONFIG.PTRS_PER_PTE),
      k.createFile('s', true),
      0,
    );
    populate(k, mm, ADDR);
    mapPage(k, mm, ADDR, thp.pfn + 7);
    expect(pageTableCheckCounters(k, thp.pfn + 7)).toEqual({ anon: 0, file: 1 });
    expect(pageTableCheckCounters(k, thp.pfn + 6)).toEqual({ anon: 0, file: 0 });
    const f = free(k, thp);
    expect(f?.message).toMatch(
      new RegExp(`pfn ${thp.pfn + 7} freed with anon_map_count=0 file_map_count=1`),
    );
  });

  it('stays silent: counted twice, un-counted twice', () => {
    const { k, mm, folio } = world();
    populate(k, mm, ADDR2);
    mapPage(k, mm, ADDR2, folio.pfn);
    const pte = k.arch.mkPte(folio.pfn, { write: true });
    expect(catchBug(() => pageTableCheckPteClear(k.boot, mm, pte))).toBeNull();
    expect(catchBug(() => pageTableCheckPteClear(k.boot, mm, pte))).toBeNull();
    expect(pageTableCheckCounters(k, folio.pfn)).toEqual({ anon: 0, file: 0 });
  });
});

describe("the counters' dependency object (deps.ts FolioSub.ptc)", () => {
  afterEach(() => setFootprintAudit(false));

  /** The footprint of ptep_clear() of ADDR's PTE, taken under its ptl. */
  function clearFootprint(k: Kernel, mm: Mm, rmap: boolean): number[] {
    const ctx = k.boot;
    const m = runToEnd(pteOffsetMapLock(ctx, mm, pmdOffset(ctx, mm, ADDR), ADDR));
    if (!m) throw new Error('no table');
    const r = ptepGetAndClear(ctx, mm, m.pte, rmap).next();
    if (r.done) throw new Error('no step');
    return stepFootprint(r.value);
  }
  const written = (o: number) => o * 2 + 1;

  it("ptep_clear() writes the folio's counters, and its refs only when the step also unmaps it", () => {
    const a = world();
    expect(clearFootprint(a.k, a.mm, true)).toEqual(
      expect.arrayContaining([written(a.folio.ptcObj), written(a.folio.refsObj)]),
    );
    const b = world();
    const fp = clearFootprint(b.k, b.mm, false);
    expect(fp).toContain(written(b.folio.ptcObj));
    expect(fp.map((e) => Math.floor(e / 2))).not.toContain(b.folio.refsObj);
  });

  it('without CONFIG_PAGE_TABLE_CHECK a PTE write that unmaps nothing names no folio object', () => {
    const { k, mm, folio } = world(false);
    const objs = clearFootprint(k, mm, false).map((e) => Math.floor(e / 2));
    expect(objs).not.toContain(folio.ptcObj);
    expect(objs).not.toContain(folio.refsObj);
  });

  it('the audit fires when the counters change in a step that does not declare them', () => {
    const { k, mm } = world();
    setFootprintAudit(true);
    expect(() =>
      runTask(k, function* (ctx) {
        const m = yield* pteOffsetMapLock(ctx, mm, pmdOffset(ctx, mm, ADDR), ADDR);
        if (!m) throw new Error('no table');
        yield ctx.step('a step naming only the PTE', ptEntryObj(m.pte.table.pa + 3 * 8));
        pageTableCheckPteClear(ctx, mm, ctx.k.mem.value(m.pte.table.pa + 3 * 8));
      }),
    ).toThrow(
      /page_table_check counters of shm@3 writes folio #\d+ ptc in the effect of step "a step naming only the PTE"/,
    );
  });

  it('and stays silent on ptep_clear() and pte_clear(), which declare them', () => {
    const { k, mm } = world();
    setFootprintAudit(true);
    runTask(k, (ctx) => clear(ctx, mm, 'ptep_clear'));
    const w = world();
    runTask(w.k, (ctx) => clear(ctx, w.mm, 'pte_clear'));
  });
});

/** Run one task to its end (no other task), so the audit sees each step's effect. */
function runTask(k: Kernel, body: (ctx: Ctx) => KGen) {
  const t = k.spawn('t', body);
  t.start();
  while (!t.done) t.advance();
}
