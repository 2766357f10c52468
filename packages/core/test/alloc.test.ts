/**
 * The page allocator (src/page-alloc.ts) and struct page unions (src/page.ts):
 * poison on free, last-freed-first reuse, double free, leaks, union slots.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocPage,
  type Ctx,
  freePage,
  INJECT_PTE_ALLOC_NOMEM,
  type IndexMember,
  type Kernel,
  type KGen,
  type LruMember,
  PG,
  POISON,
  pageLifeObj,
  pageObj,
  pmdOffset,
  pmdpGet,
  pteAlloc,
  pteTablePageAllocFails,
  runToEnd,
  SpinLock,
  setFootprintAudit,
  spinLock,
  stepFootprint,
  Tag,
  UnionSlot,
} from '../src/index.js';
import { catchBug, newKernel, Sim } from './helpers.js';

describe('page allocator', () => {
  it('poisons a page on free, and zeroes it on allocation', () => {
    const k = newKernel();
    const ctx = k.boot;
    const p = k.pages.allocNow(ctx, 'buffer');
    const base = p.pfn * k.config.PAGE_SIZE;
    expect(k.mem.read(base)).toEqual({ value: 0, tag: Tag.zero });
    k.mem.write(base + 8, 1234, Tag.data);
    k.pages.freeNow(ctx, p.pfn);
    for (const w of [0, 1, k.mem.wordsPerPage - 1])
      expect(k.mem.read(base + w * k.mem.wordSize)).toEqual({ value: POISON, tag: Tag.poison });
    const again = k.pages.allocNow(ctx, 'again');
    expect(again.pfn).toBe(p.pfn);
    expect(k.mem.read(base + 8)).toEqual({ value: 0, tag: Tag.zero });
  });

  it('hands out the last freed page first, with a new generation and a clean struct page', () => {
    const k = newKernel({ pfnBase: 100 });
    const ctx = k.boot;
    const [a, b, c] = ['a', 'b', 'c'].map((o) => k.pages.allocNow(ctx, o));
    expect([a?.pfn, b?.pfn, c?.pfn]).toEqual([100, 101, 102]);
    if (!a || !c) throw new Error('unreachable');
    const genA = a.gen;
    a.setFlag(PG.table);
    a.lru.write('pt_rcu_head', null, null);
    a.index.write('pt_mm', 'mm', null);
    k.pages.freeNow(ctx, a.pfn);
    k.pages.freeNow(ctx, c.pfn);
    expect(k.pages.allocNow(ctx, 'x').pfn).toBe(102);
    const y = k.pages.allocNow(ctx, 'y');
    expect(y.pfn).toBe(100);
    expect(y).toBe(a); // the same struct page, reinitialised
    expect(y.gen).toBe(genA + 1);
    expect(y.flags).toBe(0);
    expect(y.lru.holder).toBeNull();
    expect(y.index.holder).toBeNull();
    expect(y.ptl).toBeNull();
    expect(y.owner).toBe('y');
    expect(k.pages.allocNow(ctx, 'z').pfn).toBe(103);
  });

  it('a freed table page is reused at once by the next table allocation', () => {
    const k = newKernel();
    const mm = k.createMm('A');
    const pa = runToEnd(k.arch.pteAllocOne(k.boot, mm));
    if (pa === null) throw new Error('OOM');
    runToEnd(k.arch.pteFree(k.boot, mm, pa));
    expect(runToEnd(k.arch.pteAllocOne(k.boot, mm))).toBe(pa);
  });

  it('catches a double free and names where the first free happened', () => {
    const k = newKernel();
    k.spawn('a', function* (ctx) {
      const p = yield* ctx.call('setup', allocPage(ctx, 'buffer'));
      yield* ctx.call('first_free', freePage(ctx, p.pfn));
      yield* ctx.call('second_free', freePage(ctx, p.pfn));
    });
    const f = new Sim(k).drain();
    expect(f?.check).toBe('double-free');
    expect(f?.message).toMatch(
      /cpu0 second_free: frees pfn \d+ \(buffer\), already freed at step 1 by cpu0 first_free/,
    );
    expect(f?.related[0]?.fn).toBe('first_free');
  });

  it("touching a freed page's struct page is a use after free", () => {
    const k = newKernel();
    const p = k.pages.allocNow(k.boot, 'buffer');
    expect(k.pages.meta(k.boot, p.pfn, 'x')).toBe(p);
    k.pages.freeNow(k.boot, p.pfn);
    const f = catchBug(() => k.pages.meta(k.boot, p.pfn, 'page_ptdesc()'));
    expect(f?.check).toBe('use-after-free');
    expect(f?.message).toContain('page_ptdesc() touches struct page of pfn');
  });

  it('reports what is still allocated as a leak, and nothing once it is freed', () => {
    const k = newKernel();
    const p = k.pages.allocNow(k.boot, 'table of nobody');
    expect(k.pages.allocated()).toEqual([p]);
    expect(k.pages.allocatedCount).toBe(1);
    const f = catchBug(() => k.checkLeaks(k.boot));
    expect(f?.check).toBe('page-leak');
    expect(f?.message).toContain('(table of nobody)');
    k.pages.freeNow(k.boot, p.pfn);
    expect(k.pages.allocatedCount).toBe(0);
    expect(catchBug(() => k.checkLeaks(k.boot))).toBeNull();
  });
});

describe('struct page unions', () => {
  it('reads back what was written to the same member', () => {
    const s = new UnionSlot<LruMember>('page pfn 7');
    expect(s.read('pt_list')).toBeUndefined(); // nothing written yet: nothing clobbered
    s.write('pt_list', 'list', null);
    expect(s.read<string>('pt_list')).toBe('list');
    expect(s.holder).toBe('pt_list');
  });

  it('writing pt_rcu_head clobbers pt_list, and says who wrote it', () => {
    const s = new UnionSlot<LruMember>('page pfn 7');
    s.write('pt_list', 'list', null);
    s.write('pt_rcu_head', 'head', { step: 12, cpu: 'cpu1', fn: 'pte_free_defer', what: 'x' });
    expect(s.read('pt_rcu_head')).toBe('head');
    const f = catchBug(() => s.read('pt_list'));
    expect(f?.check).toBe('union-clobbered');
    expect(f?.message).toBe(
      'page pfn 7: pt_list read, but pt_rcu_head (sharing its storage) overwrote it at step 12 (pte_free_defer)',
    );
    expect(f?.related).toEqual([{ step: 12, cpu: 'cpu1', fn: 'pte_free_defer', what: 'x' }]);
  });

  it('clear() frees the storage for any member', () => {
    const s = new UnionSlot<IndexMember>('page pfn 8');
    s.write('pt_frag_refcount', 2, null);
    expect(catchBug(() => s.read('pt_mm'))?.check).toBe('union-clobbered');
    s.clear();
    expect(s.holder).toBeNull();
    expect(catchBug(() => s.read('pt_mm'))).toBeNull();
  });
});

describe('pte-alloc-nomem (fault injection)', () => {
  it('fails pte_alloc_one() in a task, so __pte_alloc() is -ENOMEM and nothing is allocated', () => {
    const k = newKernel({}, { inject: [INJECT_PTE_ALLOC_NOMEM] });
    const mm = k.createMm('A');
    const task = k.spawn('fault', function* () {}, { mm });
    const pages = k.pages.allocatedCount;
    expect(pteTablePageAllocFails(task.ctx)).toBe(true);
    expect(runToEnd(k.arch.pteAllocOne(task.ctx, mm))).toBeNull();
    const pmdp = pmdOffset(task.ctx, mm, 0);
    expect(runToEnd(pteAlloc(task.ctx, mm, pmdp))).toBe(-12);
    expect(runToEnd(pmdpGet(task.ctx, pmdp)).table).toBeNull();
    expect(k.pages.allocatedCount).toBe(pages);
    expect(mm.pgtablesBytes).toBe(0);
  });

  it('leaves the boot context (a scenario set-up) and a kernel without it alone', () => {
    const k = newKernel({}, { inject: [INJECT_PTE_ALLOC_NOMEM] });
    const mm = k.createMm('A');
    expect(pteTablePageAllocFails(k.boot)).toBe(false);
    expect(runToEnd(pteAlloc(k.boot, mm, pmdOffset(k.boot, mm, 0)))).toBe(0);
    const plain = newKernel();
    const other = plain.createMm('B');
    const task = plain.spawn('fault', function* () {}, { mm: other });
    expect(pteTablePageAllocFails(task.ctx)).toBe(false);
    expect(runToEnd(pteAlloc(task.ctx, other, pmdOffset(task.ctx, other, 0)))).toBe(0);
    expect(other.pgtablesBytes).toBeGreaterThan(0);
  });
});

describe("a page's life (deps.ts pageLifeObj)", () => {
  afterEach(() => setFootprintAudit(false));

  /** Run one task to its end (no other task): its generator's steps in order. */
  function runTask(k: Kernel, body: (ctx: Ctx) => KGen) {
    const t = k.spawn('t', body);
    t.start();
    while (!t.done) t.advance();
  }

  it('the audit fires on a free in a step that does not declare the life, and names the pfn', () => {
    const k = newKernel();
    const p = k.pages.allocNow(k.boot, 'buffer');
    setFootprintAudit(true);
    expect(() =>
      runTask(k, function* (ctx) {
        yield ctx.step('free with the page only', [ctx.cpu.pcpObj, pageObj(p.pfn)]);
        ctx.k.pages.freeNow(ctx, p.pfn);
      }),
    ).toThrow(new RegExp(`free of pfn ${p.pfn} writes life of pfn ${p.pfn}`));
  });

  it('stays silent on alloc_pages() and __free_pages(), which declare it', () => {
    const k = newKernel();
    setFootprintAudit(true);
    runTask(k, function* (ctx) {
      const p = yield* allocPage(ctx, 'buffer');
      yield* freePage(ctx, p.pfn);
    });
    expect(k.pages.allocatedCount).toBe(0);
  });

  it("spin_lock() of a split ptlock reads the page's life, not the page", () => {
    const k = newKernel();
    const p = k.pages.allocNow(k.boot, 'table');
    const ptl = new SpinLock(`ptl of pfn ${p.pfn}`, 'ptlock', { pfn: p.pfn, gen: p.gen });
    k.spawn('locker', (ctx) => spinLock(ctx, ptl));
    new Sim(k);
    const step = k.allTasks.find((t) => t.name === 'locker')?.pending;
    if (!step) throw new Error('no pending step');
    const out = stepFootprint(step);
    expect(out).toContain(pageLifeObj(p.pfn) * 2);
    expect(out.map((e) => Math.floor(e / 2))).not.toContain(pageObj(p.pfn));
  });
});
