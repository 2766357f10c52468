/**
 * Every detector in CHECKS (src/checks.ts) fires on a small program made to
 * trip it, and stays silent on the correct version of that program.
 *
 * CONVENTION (followed by every check test in packages/<pkg>/test and
 * conformance/test; the meta-test at the bottom of this file enforces it):
 *
 *   describe('check <check-id>', () => {
 *     it('fires', ...);          // the check's id is asserted on the finding
 *     it('stays silent', ...);   // the correct version: no finding at all
 *     // more cases may follow, named 'fires: ...' / 'stays silent: ...'
 *   });
 *
 * The describe title is a plain string literal (not a template), so the
 * meta-test can find it by reading the file. A check owned by another
 * engineer lives in its own file, named <check-id>.test.ts.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  addMmCounter,
  allocPage,
  CHECKS,
  type Ctx,
  callRcu,
  downWrite,
  freePage,
  GenericArch,
  Kernel,
  type KGen,
  localIrqRestore,
  localIrqSave,
  MM_FILEPAGES,
  type Mm,
  mmDecNrPtes,
  mmdrop,
  mmdropAsync,
  PMD_LOCK_NOT_RECHECKED,
  type PmdPtr,
  pageObj,
  pageRcuHead,
  pmdClearUnlocked,
  pmdLock,
  pmdOffset,
  pmdPopulate,
  pmdpGet,
  pmdpGetAndClear,
  pmdpGetLockless,
  pteLockptr,
  pteOffsetKernel,
  pteOffsetMap,
  pteOffsetMapLock,
  pteOffsetMapNolock,
  ptepGet,
  ptepGetAndClear,
  pteUnmap,
  pteUnmapUnlock,
  type RcuHead,
  rcuBarrier,
  rcuReadLock,
  rcuReadUnlock,
  runToEnd,
  SINGLE_DEPTH_NESTING,
  SpinLock,
  setPteAt,
  spinLock,
  spinUnlock,
  synchronizeRcu,
  Tag,
  upWrite,
} from '../src/index.js';
import {
  catchBug,
  mapPage,
  newKernel,
  pmdAddr,
  populate,
  rcuHeadIn,
  retractTable,
  Sim,
  TEST_CONFIG,
} from './helpers.js';

const ADDR = pmdAddr(1) + 3 * TEST_CONFIG.PAGE_SIZE;
const DATA_PFN = 0x4000;

/** A kernel with mm A and a PTE table (with one PTE) at ADDR. */
function world(variants: string[] = []): { k: Kernel; mm: Mm; pmdp: PmdPtr; pa: number } {
  const k = newKernel({}, { variants });
  const mm = k.createMm('A');
  const { pmdp, pa } = populate(k, mm, ADDR);
  mapPage(k, mm, ADDR, DATA_PFN);
  return { k, mm, pmdp, pa };
}

/** A lockless walker that does not take rcu_read_lock() (the pre-series assumption). */
function* walkWithoutRcu(ctx: Ctx, pmdp: PmdPtr, addr: number): KGen<number | null> {
  const pmdval = yield* pmdpGetLockless(ctx, pmdp);
  const ptep = pteOffsetKernel(ctx, pmdval, addr);
  if (!ptep) return null;
  return yield* ptepGet(ctx, ptep);
}

/** A lockless walker as the series requires: pte_offset_map() ... pte_unmap(). */
function* walkWithRcu(ctx: Ctx, pmdp: PmdPtr, addr: number): KGen<number | null> {
  const ptep = yield* pteOffsetMap(ctx, pmdp, addr);
  if (!ptep) return null;
  const pte = yield* ptepGet(ctx, ptep);
  yield* pteUnmap(ctx, ptep);
  return pte;
}

/** free_pte_range() (mm/memory.c) for one pmd, as exit_mmap would: clear, account, free. */
function* freePteRange(ctx: Ctx, mm: Mm, pmdp: PmdPtr, pa: number, account = true): KGen {
  yield* pmdClearUnlocked(ctx, pmdp);
  if (account) mmDecNrPtes(ctx, mm);
  yield* ctx.k.arch.pteFree(ctx, mm, pa);
}

/** zap_pte_range() for one PTE: clear it under the ptl and (when `account`) drop the rss counter. */
function* zapOne(ctx: Ctx, mm: Mm, pmdp: PmdPtr, addr: number, account: boolean): KGen {
  const r = yield* pteOffsetMapLock(ctx, mm, pmdp, addr);
  if (!r) return;
  const old = yield* ptepGetAndClear(ctx, mm, r.pte);
  if (account && ctx.k.arch.ptePresent(old)) addMmCounter(mm, MM_FILEPAGES, -1);
  yield* pteUnmapUnlock(ctx, r.pte, r.ptl);
}

describe('check use-after-free', () => {
  it('fires', () => {
    // A walker without RCU reads the pmd; the table is retracted and freed at
    // once; the walker then reads a PTE from the freed table.
    const { k, mm, pmdp, pa } = world();
    k.spawn('walker', (ctx) => walkWithoutRcu(ctx, pmdp, ADDR), { mm });
    k.spawn('retract', (ctx) => retractTable(ctx, mm, pmdp, pa, 'now'), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'read pte');
    sim.finish('retract');
    const f = catchBug(() => sim.step('walker'));
    expect(f?.check).toBe('use-after-free');
    expect(f?.message).toMatch(
      /read pte in pt#\d+, freed at step \d+ by cpu1 retract_page_tables$/,
    );
    expect(f?.related.length).toBe(1);
  });

  it('stays silent', () => {
    // The same interleaving with pte_offset_map() (RCU) and pte_free_defer().
    const { k, mm, pmdp, pa } = world();
    const walker = k.spawn('walker', (ctx) => walkWithRcu(ctx, pmdp, ADDR), { mm });
    k.spawn('retract', (ctx) => retractTable(ctx, mm, pmdp, pa, 'defer'), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'read pte');
    sim.finish('retract');
    expect(sim.blocked('rcu')).toBe(true);
    expect(sim.drain()).toBeNull();
    expect(walker.result).toBe(k.arch.mkPte(DATA_PFN, { write: true }));
    // The table really was freed, after the walker left.
    expect(k.pt.get(pa)?.state).toBe('free');
    expect(k.pages.raw(pa / TEST_CONFIG.PAGE_SIZE).allocated).toBe(false);
  });

  it('fires: a stale pointer to a table whose memory was handed out again', () => {
    const { k, mm, pmdp, pa } = world();
    const other = populate(k, mm, pmdAddr(2));
    k.spawn('walker', (ctx) => walkWithoutRcu(ctx, pmdp, ADDR), { mm });
    k.spawn(
      'retract',
      function* (ctx) {
        yield* retractTable(ctx, mm, pmdp, pa, 'now');
        // The freed page is reused at once (LIFO) for a new table elsewhere.
        yield* freePteRange(ctx, mm, other.pmdp, other.pa);
        const again = yield* ctx.k.arch.pteAllocOne(ctx, mm);
        expect(again).toBe(other.pa);
        const again2 = yield* ctx.k.arch.pteAllocOne(ctx, mm);
        expect(again2).toBe(pa);
      },
      { mm },
    );
    const sim = new Sim(k);
    sim.until('walker', 'read pte');
    sim.finish('retract');
    const f = catchBug(() => sim.step('walker'));
    expect(f?.check).toBe('use-after-free');
    expect(f?.message).toMatch(/stale pointer to pt#\d+ .*the memory is now pt#\d+/);
  });

  it("fires: spin_lock() of a freed table's ptlock", () => {
    const { k, mm, pmdp, pa } = world();
    k.spawn(
      'walker',
      function* (ctx) {
        const r = yield* pteOffsetMapNolock(ctx, mm, pmdp, ADDR);
        if (!r) return;
        yield* spinLock(ctx, r.ptl);
        yield* pteUnmapUnlock(ctx, r.pte, r.ptl);
      },
      { mm },
    );
    k.spawn('retract', (ctx) => retractTable(ctx, mm, pmdp, pa, 'now'), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'spin_lock(ptl of pfn');
    sim.finish('retract');
    const f = catchBug(() => sim.step('walker'));
    expect(f?.check).toBe('use-after-free');
    expect(f?.message).toContain('the page table holding this ptlock was freed');
  });

  it('fires: a table handed out again while its grace period is pending', () => {
    const { k, mm, pmdp, pa } = world();
    runToEnd(retractTable(k.boot, mm, pmdp, pa, 'defer'));
    const f = catchBug(() => k.pt.constructed(k.boot, pa, 'pte', 512, mm));
    expect(f?.check).toBe('use-after-free');
    expect(f?.message).toContain('waiting for its grace period');
  });
});

describe('check double-free', () => {
  function kernelTableWorld() {
    const k = newKernel();
    const mm = k.createMm('A');
    const pa = runToEnd(k.arch.pteAllocOneKernel(k.boot, mm));
    if (pa === null) throw new Error('no table');
    return { k, mm, pa };
  }

  it('fires', () => {
    // Two paths both decide they own the table and pte_free_kernel() it.
    const { k, mm, pa } = kernelTableWorld();
    k.spawn('a', (ctx) => ctx.k.arch.pteFreeKernel(ctx, mm, pa));
    k.spawn('b', (ctx) => ctx.k.arch.pteFreeKernel(ctx, mm, pa));
    const f = new Sim(k).drain();
    expect(f?.check).toBe('double-free');
    expect(f?.message).toMatch(/cpu1 \(task\): frees pt#\d+ again \(freed at step 0\)/);
  });

  it('stays silent', () => {
    const { k, mm, pa } = kernelTableWorld();
    k.spawn('a', (ctx) => ctx.k.arch.pteFreeKernel(ctx, mm, pa));
    expect(new Sim(k).drain()).toBeNull();
    expect(k.pt.get(pa)?.state).toBe('free');
  });

  it('fires: __free_pages() on a page already free', () => {
    const k = newKernel();
    k.spawn('a', function* (ctx) {
      const p = yield* allocPage(ctx, 'buffer');
      yield* freePage(ctx, p.pfn);
      yield* freePage(ctx, p.pfn);
    });
    const f = new Sim(k).drain();
    expect(f?.check).toBe('double-free');
    expect(f?.message).toMatch(/frees pfn \d+ \(buffer\), already freed at step 1 by cpu0/);
  });
});

describe('check page-leak', () => {
  const teardown = function* (ctx: Ctx): KGen {
    yield ctx.step('teardown', testObj('none'));
  };

  it('fires', () => {
    const k = newKernel();
    k.spawn('a', function* (ctx) {
      yield* allocPage(ctx, 'forgotten buffer');
    });
    const f = new Sim(k, { teardown }).drain();
    expect(f?.check).toBe('page-leak');
    expect(f?.message).toMatch(
      /1 page\(s\) still allocated at teardown: pfn \d+ \(forgotten buffer\)/,
    );
    expect(f?.related[0]?.what).toContain('forgotten buffer');
  });

  it('stays silent', () => {
    const k = newKernel();
    k.spawn('a', function* (ctx) {
      const p = yield* allocPage(ctx, 'buffer');
      yield* freePage(ctx, p.pfn);
    });
    expect(new Sim(k, { teardown }).drain()).toBeNull();
  });

  it('fires: a folio still referenced at teardown', () => {
    const k = newKernel();
    const folio = k.createFolio('f0', 0, null, 0);
    k.spawn('a', function* (ctx) {
      yield ctx.step('folio_get()', testObj('folio'));
      folio.refcount++;
    });
    const f = new Sim(k, {
      teardown: function* (ctx) {
        yield ctx.step('folio_put()', testObj('folio'));
        folio.refcount--;
      },
    }).drain();
    expect(f?.check).toBe('page-leak');
    expect(f?.message).toContain('f0 (refcount 1');
  });
});

describe('check pte-not-a-pte', () => {
  /** An arch that threads a list through the table's own memory once it is retracted (s390 v1 "grossest patch"). */
  function* listInTable(ctx: Ctx, mm: Mm, pmdp: PmdPtr, pa: number, inTable: boolean): KGen {
    const pml = yield* pmdLock(ctx, mm, pmdp);
    yield* pmdpGetAndClear(ctx, mm, pmdp);
    yield* spinUnlock(ctx, pml);
    const pfn = pa / ctx.k.config.PAGE_SIZE;
    yield ctx.step('list_add(pt_list)', pageObj(pfn));
    if (inTable) {
      // The list_head stored in the table's memory, over the PTE the walker reads.
      ctx.k.mem.write(pa + 3 * ctx.k.mem.wordSize, pa + 0x800, Tag.list);
    } else {
      // Correct: the list_head lives in struct page (pt_list), not in the table.
      ctx.k.pages.meta(ctx, pfn, 'list_add').lru.write('pt_list', [], ctx.here('list_add'));
    }
  }

  it('fires', () => {
    const { k, mm, pmdp, pa } = world();
    k.spawn('walker', (ctx) => walkWithRcu(ctx, pmdp, ADDR), { mm });
    k.spawn('arch', (ctx) => listInTable(ctx, mm, pmdp, pa, true), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'read pte');
    sim.finish('arch');
    const f = catchBug(() => sim.step('walker'));
    expect(f?.check).toBe('pte-not-a-pte');
    expect(f?.message).toContain('reader saw a list pointer where a PTE was expected');
  });

  it('stays silent', () => {
    const { k, mm, pmdp, pa } = world();
    const walker = k.spawn('walker', (ctx) => walkWithRcu(ctx, pmdp, ADDR), { mm });
    k.spawn('arch', (ctx) => listInTable(ctx, mm, pmdp, pa, false), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'read pte');
    sim.finish('arch');
    expect(sim.drain()).toBeNull();
    expect(walker.result).toBe(k.arch.mkPte(DATA_PFN, { write: true }));
  });
});

describe('check rcu-head-reused', () => {
  it('fires', () => {
    // Two table fragments of one page deferred back to back: one rcu_head.
    const { k, mm, pmdp, pa } = world();
    k.spawn(
      'free',
      function* (ctx) {
        yield* retractTable(ctx, mm, pmdp, pa, 'defer');
        yield* ctx.k.arch.pteFreeDefer(ctx, mm, pa);
      },
      { mm },
    );
    const f = new Sim(k).drain();
    expect(f?.check).toBe('rcu-head-reused');
    expect(f?.message).toMatch(
      /call_rcu\(pt_rcu_head of pfn \d+, pte_free_now\) while that rcu_head is still queued for pte_free_now since step \d+/,
    );
  });

  it('fires for a port that queues "one head per half": the rcu_head is where it lives, not what it is called', () => {
    // The seeds' misconception: two 2K halves of one page, each deferred with "its own" head.
    class PerHalf extends GenericArch {
      override *pteFreeDefer(ctx: Ctx, _mm: Mm, pa: number): KGen {
        const page = ctx.k.pages.raw(Math.floor(pa / this.config.PAGE_SIZE));
        yield ctx.step('pte_free_defer()', page.obj);
        yield* callRcu(
          ctx,
          pageRcuHead(page),
          `free half at 0x${pa.toString(16)}`,
          function* () {},
        );
      }
    }
    const k = new Kernel({ arch: new PerHalf(TEST_CONFIG) });
    const page = k.pages.allocNow(k.boot, 'two halves');
    const base = page.pfn * TEST_CONFIG.PAGE_SIZE;
    const mm = k.createMm('A');
    k.spawn('retract', function* (ctx) {
      yield* ctx.k.arch.pteFreeDefer(ctx, mm, base);
      yield* ctx.k.arch.pteFreeDefer(ctx, mm, base + TEST_CONFIG.PAGE_SIZE / 2);
    });
    const f = new Sim(k).drain();
    expect(f?.check).toBe('rcu-head-reused');
    // And a head it makes up is refused before anything is queued.
    const k2 = newKernel();
    k2.spawn('forger', (ctx) =>
      callRcu(
        ctx,
        { key: 'half 1', label: 'half 1', queuedObj: 0, freedObj: 0 },
        'cb',
        function* () {},
      ),
    );
    expect(() => new Sim(k2).drain()).toThrow(/an rcu_head must come from pageRcuHead/);
    // So is a copy of a real one, or an object that inherits from one: the brand is not copied.
    const real = pageRcuHead(k2.pages.allocNow(k2.boot, 'real'));
    for (const fake of [{ ...real }, Object.create(real) as RcuHead]) {
      const k3 = newKernel();
      k3.spawn('copier', (ctx) => callRcu(ctx, fake, 'cb', function* () {}));
      expect(() => new Sim(k3).drain()).toThrow(/an rcu_head must come from pageRcuHead/);
    }
  });

  it('stays silent', () => {
    // The same rcu_head queued again only after its callback ran.
    const k = newKernel();
    const ran: string[] = [];
    k.spawn('a', function* (ctx) {
      yield* callRcu(ctx, rcuHeadIn(ctx.k, 'head'), 'first', function* () {
        ran.push('first');
      });
      yield* rcuBarrier(ctx);
      yield* callRcu(ctx, rcuHeadIn(ctx.k, 'head'), 'second', function* () {
        ran.push('second');
      });
    });
    expect(new Sim(k).drain()).toBeNull();
    expect(ran).toEqual(['first', 'second']);
  });
});

describe('check kernel-bug', () => {
  it('fires', () => {
    // pte_lockptr() of a pmd value that maps no table: the kernel would follow garbage.
    const k = newKernel();
    const mm = k.createMm('A');
    k.spawn('lockptr', function* (ctx) {
      yield ctx.step('read pmd', testObj('pmd'), 'r');
      pteLockptr(ctx, mm, { raw: 0, table: null });
    });
    const f = new Sim(k).drain();
    expect(f?.check).toBe('kernel-bug');
    expect(f?.message).toMatch(/pte_lockptr\(\) on pmd value 0x0, which points to no page table/);
  });

  it('stays silent', () => {
    const { k, mm, pmdp } = world();
    let got = '';
    k.spawn('lockptr', function* (ctx) {
      const pmdval = yield* pmdpGet(ctx, pmdp);
      got = pteLockptr(ctx, mm, pmdval).id;
    });
    expect(new Sim(k).drain()).toBeNull();
    expect(got).toMatch(/^ptl of pfn \d+$/);
  });
});

describe('check union-clobbered', () => {
  /** An arch keeps the table on an mm list through pt_list, and list_del()s it later. */
  function build(listDelFirst: boolean) {
    const { k, mm, pmdp, pa } = world();
    const page = k.pages.raw(pa / TEST_CONFIG.PAGE_SIZE);
    page.lru.write('pt_list', 'mm->context.pgtable_list', k.boot.here('list_add'));
    const listDel = function* (ctx: Ctx): KGen<unknown> {
      yield ctx.step('list_del(pt_list)', pageObj(page.pfn));
      const v = page.lru.read<string>('pt_list');
      page.lru.clear();
      return v;
    };
    k.spawn(
      'arch',
      function* (ctx) {
        if (listDelFirst) yield* listDel(ctx);
        yield* retractTable(ctx, mm, pmdp, pa, 'defer');
        if (!listDelFirst) return yield* listDel(ctx);
        return undefined;
      },
      { mm },
    );
    return k;
  }

  it('fires', () => {
    const f = new Sim(build(false)).drain();
    expect(f?.check).toBe('union-clobbered');
    expect(f?.message).toMatch(
      /page pfn \d+: pt_list read, but pt_rcu_head .* overwrote it at step \d+ \(retract_page_tables\)$/,
    );
  });

  it('stays silent', () => {
    const k = build(true);
    expect(new Sim(k).drain()).toBeNull();
    expect(k.tasks[0]?.done).toBe(true);
  });
});

describe('check sleep-in-atomic', () => {
  function lockThenSleep(spinFirst: boolean) {
    const k = newKernel();
    const mm = k.createMm('A');
    k.spawn(
      'a',
      function* (ctx) {
        if (spinFirst) yield* spinLock(ctx, mm.pageTableLock);
        yield* downWrite(ctx, mm.mmapLock);
        if (!spinFirst) yield* spinLock(ctx, mm.pageTableLock);
        yield* spinUnlock(ctx, mm.pageTableLock);
        yield* upWrite(ctx, mm.mmapLock);
      },
      { mm },
    );
    return k;
  }

  it('fires', () => {
    const f = new Sim(lockThenSleep(true)).drain();
    expect(f?.check).toBe('sleep-in-atomic');
    expect(f?.message).toBe(
      'cpu0 (task): lock mmap_lock of mm A may sleep, called holding page_table_lock of mm A',
    );
  });

  it('stays silent', () => {
    expect(new Sim(lockThenSleep(false)).drain()).toBeNull();
  });

  it('fires: the last mmdrop() from an RCU callback (softirq)', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    k.spawn('a', (ctx) => callRcu(ctx, rcuHeadIn(ctx.k, 'head'), 'drop_mm', (c) => mmdrop(c, mm)));
    const f = new Sim(k).drain();
    expect(f?.check).toBe('sleep-in-atomic');
    expect(f?.message).toContain('__mmdrop(mm A) may sleep, called in an RCU callback (softirq)');
  });

  it('stays silent: mmdrop_async() from an RCU callback', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    k.spawn('a', (ctx) =>
      callRcu(ctx, rcuHeadIn(ctx.k, 'head'), 'drop_mm', (c) => mmdropAsync(c, mm)),
    );
    expect(new Sim(k).drain()).toBeNull();
    expect(mm.freed).toBe(true);
  });

  it('fires: with interrupts off, and inside rcu_read_lock()', () => {
    for (const [enter, why] of [
      [localIrqSave, 'with interrupts off'],
      [rcuReadLock, 'inside rcu_read_lock()'],
    ] as const) {
      const k = newKernel();
      const mm = k.createMm('A');
      k.spawn('a', function* (ctx) {
        yield* enter(ctx);
        yield* downWrite(ctx, mm.mmapLock);
      });
      const f = new Sim(k).drain();
      expect(f?.check).toBe('sleep-in-atomic');
      expect(f?.message).toContain(why);
    }
  });
});

describe('check rcu-unbalanced', () => {
  it('fires', () => {
    const { k, mm, pmdp } = world();
    k.spawn(
      'walker',
      function* (ctx) {
        const ptep = yield* pteOffsetMap(ctx, pmdp, ADDR);
        if (ptep) yield* ptepGet(ctx, ptep); // no pte_unmap()
      },
      { mm },
    );
    const f = new Sim(k).drain();
    expect(f?.check).toBe('rcu-unbalanced');
    expect(f?.message).toContain('walker: returned inside 1 rcu_read_lock() section(s)');
  });

  it('stays silent', () => {
    // Balanced map/unmap; and a failed pte_offset_map() needs no unmap.
    const { k, mm, pmdp } = world();
    const none = pmdOffset(k.boot, mm, pmdAddr(7));
    const w = k.spawn(
      'walker',
      function* (ctx) {
        const a = yield* walkWithRcu(ctx, pmdp, ADDR);
        const b = yield* pteOffsetMap(ctx, none, pmdAddr(7));
        return [a, b];
      },
      { mm },
    );
    expect(new Sim(k).drain()).toBeNull();
    expect(w.result).toEqual([k.arch.mkPte(DATA_PFN, { write: true }), null]);
  });

  it('fires: rcu_read_unlock() outside any section', () => {
    const k = newKernel();
    k.spawn('a', rcuReadUnlock);
    const f = new Sim(k).drain();
    expect(f?.check).toBe('rcu-unbalanced');
    expect(f?.message).toContain('rcu_read_unlock() outside any rcu_read_lock() section');
  });
});

describe('check context-leak', () => {
  it('fires', () => {
    // pte_unmap() where pte_unmap_unlock() was needed: returns holding the ptl.
    const { k, mm, pmdp } = world();
    k.spawn(
      'a',
      function* (ctx) {
        const r = yield* pteOffsetMapLock(ctx, mm, pmdp, ADDR);
        if (r) yield* pteUnmap(ctx, r.pte);
      },
      { mm },
    );
    const f = new Sim(k).drain();
    expect(f?.check).toBe('context-leak');
    expect(f?.message).toMatch(/cpu0 a: returned holding ptl of pfn \d+/);
  });

  it('stays silent', () => {
    const { k, mm, pmdp } = world();
    k.spawn(
      'a',
      function* (ctx) {
        const r = yield* pteOffsetMapLock(ctx, mm, pmdp, ADDR);
        if (r) yield* pteUnmapUnlock(ctx, r.pte, r.ptl);
        yield* localIrqSave(ctx);
        yield* localIrqRestore(ctx);
      },
      { mm },
    );
    expect(new Sim(k).drain()).toBeNull();
  });

  it('fires: returning with interrupts disabled; unlocking a lock held elsewhere', () => {
    const k = newKernel();
    k.spawn('a', localIrqSave);
    const f = new Sim(k).drain();
    expect(f?.check).toBe('context-leak');
    expect(f?.message).toBe('cpu0 a: returned with interrupts disabled');

    const k2 = newKernel();
    const l = new SpinLock('L', 'test', testObj('L'));
    k2.spawn('owner', function* (ctx) {
      yield* spinLock(ctx, l);
      yield ctx.step('hold', testObj('x'));
      yield* spinUnlock(ctx, l);
    });
    k2.spawn('other', (ctx) => spinUnlock(ctx, l));
    const sim = new Sim(k2);
    sim.step('owner');
    const g = catchBug(() => sim.step('other'));
    expect(g?.check).toBe('context-leak');
    expect(g?.message).toBe('cpu1 (task): unlocks L, held by cpu0');
  });
});

describe('check synchronize-rcu-in-reader', () => {
  function build(inside: boolean) {
    const k = newKernel();
    k.spawn('a', function* (ctx) {
      yield* rcuReadLock(ctx);
      if (inside) yield* synchronizeRcu(ctx);
      yield* rcuReadUnlock(ctx);
      if (!inside) yield* synchronizeRcu(ctx);
    });
    return k;
  }

  it('fires', () => {
    const f = new Sim(build(true)).drain();
    expect(f?.check).toBe('synchronize-rcu-in-reader');
    expect(f?.message).toContain('synchronize_rcu() inside rcu_read_lock()');
  });

  it('stays silent', () => {
    const k = build(false);
    expect(new Sim(k).drain()).toBeNull();
    expect(k.rcu.invoked).toBe(1);
  });
});

describe('check deadlock', () => {
  it('fires', () => {
    // spin_lock() of a lock this CPU already holds (AA).
    const { k, mm, pmdp } = world();
    k.spawn(
      'a',
      function* (ctx) {
        const r = yield* pteOffsetMapLock(ctx, mm, pmdp, ADDR);
        if (!r) return;
        yield* spinLock(ctx, r.ptl, SINGLE_DEPTH_NESTING);
      },
      { mm },
    );
    const f = new Sim(k).drain();
    expect(f?.check).toBe('deadlock');
    expect(f?.message).toMatch(/takes ptl of pfn \d+, which it already holds \(AA deadlock\)/);
  });

  it('stays silent', () => {
    // Contention is not deadlock: b waits for a's ptl, then gets it.
    const { k, mm, pmdp } = world();
    const body = function* (ctx: Ctx): KGen {
      const r = yield* pteOffsetMapLock(ctx, mm, pmdp, ADDR);
      if (r) yield* pteUnmapUnlock(ctx, r.pte, r.ptl);
    };
    k.spawn('a', body, { mm });
    k.spawn('b', body, { mm });
    const sim = new Sim(k);
    sim.until('a', 'spin_lock');
    sim.step('a'); // a holds the ptl
    expect(sim.pending('a')).toBe('pmdp_get_lockless()'); // the pmd_same() recheck
    sim.until('b', 'spin_lock');
    expect(sim.blocked('b')).toBe(true);
    expect(sim.drain()).toBeNull();
  });

  it('fires: down_write() of a rwsem this CPU holds', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    k.spawn('a', function* (ctx) {
      yield* downWrite(ctx, mm.mmapLock);
      yield* downWrite(ctx, mm.mmapLock);
    });
    const f = new Sim(k).drain();
    expect(f?.check).toBe('deadlock');
    expect(f?.message).toBe('cpu0 (task): takes mmap_lock of mm A twice');
  });
});

describe('check lock-order', () => {
  function abba(secondOrder: 'same' | 'reversed') {
    const k = newKernel();
    const a = new SpinLock('A', 'test', testObj('A'));
    const b = new SpinLock('B', 'arch_context_lock', testObj('B'));
    const take = (first: SpinLock, second: SpinLock) =>
      function* (ctx: Ctx): KGen {
        yield* spinLock(ctx, first);
        yield* spinLock(ctx, second);
        yield* spinUnlock(ctx, second);
        yield* spinUnlock(ctx, first);
      };
    k.spawn('one', take(a, b));
    k.spawn('two', secondOrder === 'same' ? take(a, b) : take(b, a));
    return k;
  }

  it('fires', () => {
    // Run one after the other: never an actual deadlock, but lockdep sees both orders.
    const sim = new Sim(abba('reversed'));
    sim.finish('one');
    const f = catchBug(() => sim.finish('two'));
    expect(f?.check).toBe('lock-order');
    expect(f?.message).toContain(
      'takes test/0 while holding arch_context_lock/0, but test/0 -> arch_context_lock/0 was established earlier (cpu0 (task)): possible circular locking',
    );
  });

  it('stays silent', () => {
    const sim = new Sim(abba('same'));
    sim.finish('one');
    expect(sim.drain()).toBeNull();
  });

  it('fires: a second ptlock without spin_lock_nested()', () => {
    // khugepaged holds the pmd's ptl (class ptlock) and takes the pte table's ptl.
    for (const sub of [0, SINGLE_DEPTH_NESTING]) {
      const { k, mm, pmdp } = world();
      k.spawn(
        'khugepaged',
        function* (ctx) {
          const pml = yield* pmdLock(ctx, mm, pmdp);
          const v = yield* pmdpGet(ctx, pmdp);
          const ptl = ctx.k.pages.meta(ctx, (v.table?.pa ?? 0) / 4096, 'ptl').ptl as SpinLock;
          yield* spinLock(ctx, ptl, sub);
          yield* spinUnlock(ctx, ptl);
          yield* spinUnlock(ctx, pml);
        },
        { mm },
      );
      const f = new Sim(k).drain();
      if (sub === 0) {
        expect(f?.check).toBe('lock-order');
        expect(f?.message).toMatch(
          /takes ptl of pfn \d+ \(class ptlock\) while holding pmd ptl of mm A of the same class without a nesting annotation/,
        );
      } else {
        expect(f).toBeNull();
      }
    }
  });
});

describe('check pte-write-without-ptl', () => {
  function build(locked: boolean) {
    const { k, mm, pmdp } = world();
    k.spawn(
      'fault',
      function* (ctx) {
        if (locked) {
          const r = yield* pteOffsetMapLock(ctx, mm, pmdp, ADDR);
          if (!r) return;
          yield* setPteAt(ctx, mm, r.pte, ctx.k.arch.mkPte(DATA_PFN + 1, { write: false }));
          yield* pteUnmapUnlock(ctx, r.pte, r.ptl);
        } else {
          const ptep = yield* pteOffsetMap(ctx, pmdp, ADDR);
          if (!ptep) return;
          yield* setPteAt(ctx, mm, ptep, ctx.k.arch.mkPte(DATA_PFN + 1, { write: false }));
          yield* pteUnmap(ctx, ptep);
        }
      },
      { mm },
    );
    return k;
  }

  it('fires', () => {
    const f = new Sim(build(false)).drain();
    expect(f?.check).toBe('pte-write-without-ptl');
    expect(f?.message).toMatch(/set_pte_at\(\) in pt#\d+ without its lock ptl of pfn \d+$/);
  });

  it('stays silent', () => {
    expect(new Sim(build(true)).drain()).toBeNull();
  });

  it("fires: holding another table's ptl", () => {
    const { k, mm, pmdp } = world();
    const other = populate(k, mm, pmdAddr(2));
    k.spawn(
      'fault',
      function* (ctx) {
        const o = yield* pteOffsetMapLock(ctx, mm, other.pmdp, pmdAddr(2));
        const ptep = yield* pteOffsetMap(ctx, pmdp, ADDR);
        if (!o || !ptep) return;
        yield* setPteAt(ctx, mm, ptep, 0);
      },
      { mm },
    );
    const f = new Sim(k).drain();
    expect(f?.check).toBe('pte-write-without-ptl');
    expect(f?.message).toMatch(/without its lock ptl of pfn \d+ \(holds ptl of pfn \d+\)/);
  });

  it('fires: pmd_populate() without pmd_lock()', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    const pmdp = pmdOffset(k.boot, mm, ADDR);
    k.spawn(
      'a',
      function* (ctx) {
        const pa = yield* ctx.k.arch.pteAllocOne(ctx, mm);
        if (pa !== null) yield* pmdPopulate(ctx, mm, pmdp, pa);
      },
      { mm },
    );
    const f = new Sim(k).drain();
    expect(f?.check).toBe('pte-write-without-ptl');
    expect(f?.message).toContain('pmd_populate() without pmd ptl of mm A');
  });
});

describe('check write-to-detached-table', () => {
  /** A fault maps the table and installs a PTE while khugepaged retracts the table. */
  function build(variants: string[]) {
    const { k, mm, pmdp, pa } = world(variants);
    const fault = k.spawn(
      'fault',
      function* (ctx) {
        const r = yield* pteOffsetMapLock(ctx, mm, pmdp, ADDR + TEST_CONFIG.PAGE_SIZE);
        if (!r) return 'no table';
        yield* setPteAt(ctx, mm, r.pte, ctx.k.arch.mkPte(DATA_PFN + 1, { write: true }));
        yield* pteUnmapUnlock(ctx, r.pte, r.ptl);
        return 'installed';
      },
      { mm },
    );
    k.spawn('khugepaged', (ctx) => retractTable(ctx, mm, pmdp, pa, 'defer'), { mm });
    const sim = new Sim(k);
    sim.until('fault', 'spin_lock(ptl of pfn'); // pmd read, table mapped, ptl not yet taken
    sim.finish('khugepaged');
    return { sim, fault };
  }

  it('fires', () => {
    // Without the pmd_same() recheck of __pte_offset_map_lock().
    const { sim } = build([PMD_LOCK_NOT_RECHECKED]);
    const f = sim.drain();
    expect(f?.check).toBe('write-to-detached-table');
    expect(f?.message).toMatch(
      /installs a PTE in pt#\d+, which no pmd points to any more \(retracted, pte_free_defer at step \d+\)/,
    );
  });

  it('stays silent', () => {
    const { sim, fault } = build([]);
    expect(sim.drain()).toBeNull();
    expect(fault.result).toBe('no table');
  });
});

describe('check bad-rss-counter', () => {
  function build(account: boolean) {
    const { k, mm, pmdp, pa } = world();
    addMmCounter(mm, MM_FILEPAGES, 1); // the PTE mapPage() installed
    k.spawn(
      'exit',
      function* (ctx) {
        yield* zapOne(ctx, mm, pmdp, ADDR, account);
        yield* freePteRange(ctx, mm, pmdp, pa);
        yield* mmdrop(ctx, mm);
      },
      { mm },
    );
    return { k, mm };
  }

  it('fires', () => {
    const f = new Sim(build(false).k).drain();
    expect(f?.check).toBe('bad-rss-counter');
    expect(f?.message).toBe(
      'cpu0 __mmdrop: BUG: Bad rss-counter state mm:A type:MM_FILEPAGES val:1',
    );
  });

  it('stays silent', () => {
    const { k, mm } = build(true);
    expect(new Sim(k).drain()).toBeNull();
    expect(mm.freed).toBe(true);
  });
});

describe('check pgtables-bytes', () => {
  function build(account: boolean) {
    const { k, mm, pmdp, pa } = world();
    addMmCounter(mm, MM_FILEPAGES, 1);
    k.spawn(
      'exit',
      function* (ctx) {
        yield* zapOne(ctx, mm, pmdp, ADDR, true);
        yield* freePteRange(ctx, mm, pmdp, pa, account);
        yield* mmdrop(ctx, mm);
      },
      { mm },
    );
    return { k, mm };
  }

  it('fires', () => {
    const f = new Sim(build(false).k).drain();
    expect(f?.check).toBe('pgtables-bytes');
    expect(f?.message).toBe('cpu0 __mmdrop: BUG: non-zero pgtables_bytes on freeing mm A: 4096');
  });

  it('stays silent', () => {
    const { k, mm } = build(true);
    expect(new Sim(k).drain()).toBeNull();
    expect(mm.pgtablesBytes).toBe(0);
    expect(k.pages.allocated()).toEqual([]);
  });
});

// --- the meta-test: every check has its fires / stays silent tests somewhere ---

/** The checks this file owns: CHECKS as it was before the checks below were added. */
const CORE_CHECKS = [
  'use-after-free',
  'double-free',
  'page-leak',
  'pte-not-a-pte',
  'rcu-head-reused',
  'union-clobbered',
  'sleep-in-atomic',
  'rcu-unbalanced',
  'context-leak',
  'synchronize-rcu-in-reader',
  'deadlock',
  'lock-order',
  'pte-write-without-ptl',
  'write-to-detached-table',
  'bad-rss-counter',
  'pgtables-bytes',
  'kernel-bug',
];

/** Checks being added by other engineers, tested in their own <check>.test.ts files. */
const TESTED_BY_THEIR_OWNERS = [
  'stale-tlb',
  'secondary-mmu-stale',
  'page-table-check',
  'torn-pmd-read',
  'wrong-page',
];

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

function testFiles(): string[] {
  const dirs: string[] = [join(ROOT, 'conformance/test')];
  for (const p of readdirSync(join(ROOT, 'packages'), { withFileTypes: true }))
    if (p.isDirectory()) dirs.push(join(ROOT, 'packages', p.name, 'test'));
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(p);
      else if (e.isFile() && /\.test\.ts$/.test(e.name)) out.push(p);
    }
  };
  for (const d of dirs) walk(d);
  return out;
}

/**
 * The `describe('check <id>')` blocks of a test file's text, and whether each
 * has both tests. A block runs from its describe line to the next line at the
 * same indentation (its closing `});` in formatted code).
 */
export function checkBlocks(text: string): { id: string; complete: boolean }[] {
  const head = /^([ \t]*)describe\(\s*(['"`])check ([a-z0-9-]+)\2/gm;
  return [...text.matchAll(head)].map((m) => {
    const indent = m[1] as string;
    const rest = text.slice(m.index + m[0].length);
    const end = new RegExp(`\\n${indent}\\S`).exec(rest);
    const body = rest.slice(0, end ? end.index : rest.length);
    const fires = /\b(?:it|test)\(\s*(['"`])fires/.test(body);
    const silent = /\b(?:it|test)\(\s*(['"`])stays silent/.test(body);
    return { id: m[3] as string, complete: fires && silent };
  });
}

/** check id -> files holding a complete block for it. */
function checkTests(files: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files)
    for (const b of checkBlocks(readFileSync(file, 'utf8')))
      if (b.complete) found.set(b.id, [...(found.get(b.id) ?? []), relative(ROOT, file)]);
  return found;
}

describe('every check has a test where it fires and one where it stays silent', () => {
  const files = testFiles();
  const covered = checkTests(files);
  const ids = Object.keys(CHECKS);

  it('the scanner finds complete blocks only', () => {
    expect(files).toContain(THIS_FILE);
    expect(covered.get('use-after-free')).toEqual([relative(ROOT, THIS_FILE)]);
    // Built from pieces so this file's own scan does not see the samples.
    const d = ['desc', 'ribe'].join('');
    const sample = [
      `${d}('check a-b', () => {`,
      "  it('fires', () => {});",
      `  ${d}('on some arch', () => {});`,
      "  it('stays silent', () => {});",
      '});',
      `${d}("check only-fires", () => {`,
      '  it("fires", () => {});',
      '});',
      "it('stays silent', () => {});",
      `${d}.skip('check skipped', () => {`,
      "  it('fires', () => {});",
      "  it('stays silent', () => {});",
      '});',
      `${d}('check skipped-tests', () => {`,
      "  it.skip('fires', () => {});",
      "  it.todo('stays silent');",
      '});',
      `  ${d}(\`check c\`, () => {`,
      '    test(`fires: when x`, () => {});',
      '    test(`stays silent`, () => {});',
      '  });',
    ].join('\n');
    expect(checkBlocks(sample)).toEqual([
      { id: 'a-b', complete: true },
      { id: 'only-fires', complete: false },
      { id: 'skipped-tests', complete: false },
      { id: 'c', complete: true },
    ]);
  });

  it('every id in CHECKS is covered by some test file', () => {
    const missing = ids.filter((id) => !covered.has(id));
    expect(
      missing,
      `checks without describe('check <id>') + it('fires') + it('stays silent')`,
    ).toEqual([]);
  });

  it('every covered id is a real check (no typo in a describe title)', () => {
    expect([...covered.keys()].filter((id) => !(id in CHECKS))).toEqual([]);
  });

  it('this file covers exactly CHECKS minus the checks tested by their owners', () => {
    const here = [...checkTests([THIS_FILE]).keys()].sort();
    expect(here).toEqual([...CORE_CHECKS].sort());
    expect(CORE_CHECKS.filter((id) => !(id in CHECKS))).toEqual([]);
    expect(CORE_CHECKS.filter((id) => TESTED_BY_THEIR_OWNERS.includes(id))).toEqual([]);
    // Everything else in CHECKS is someone else's: a listed owner, or tested in another file.
    const elsewhere = new Set(
      [...covered]
        .filter(([, f]) => f.some((x) => x !== relative(ROOT, THIS_FILE)))
        .map(([id]) => id),
    );
    const unowned = ids.filter(
      (id) =>
        !CORE_CHECKS.includes(id) && !TESTED_BY_THEIR_OWNERS.includes(id) && !elsewhere.has(id),
    );
    expect(unowned, 'checks in CHECKS that neither this file nor a known owner tests').toEqual([]);
  });
});
