/**
 * adjust_pte() — arch/arm/mm/fault-armv.c (v6.6): the alias's pte is read
 * and rewritten under the lock of exactly the table pte_offset_map_nolock()
 * mapped, nested inside the caller's ptl with split ptlocks, and under the
 * caller's mm->page_table_lock (no lock taken) without them.
 */
import {
  type Ctx,
  type KGen,
  mmDecNrPtes,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pteAlloc,
  pteLockptr,
  pteOffsetMapLock,
  ptepGet,
  pteUnmapUnlock,
  SINGLE_DEPTH_NESTING,
  spinLock,
  spinUnlock,
  type Task,
  type Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  ARM_ADJUST_PTE_LOCKPTR,
  ARM_CLASSIC,
  ARM_LPAE,
  ARM64_4K,
  type ArmArch,
  L_PTE_2LEVEL,
  L_PTE_3LEVEL,
} from '../src/index.js';
import {
  type Booted,
  boot,
  checkOf,
  installPte,
  pageAddr,
  run,
  sharedMappings,
} from './helpers.js';

/** The caller's side of update_mmu_cache(): hold our own pte's ptl, adjust_pte() the alias. */
function* coherency(ctx: Ctx, b: Booted, own: Vma, alias: Vma): KGen<boolean> {
  const { a, mm } = b;
  const addr = pageAddr(own, b);
  const m = yield* pteOffsetMapLock(ctx, mm, pmdOffset(ctx, mm, addr), addr);
  if (!m) return false;
  const adjust = a.adjustPte;
  if (!adjust) throw new Error('no adjust_pte hook');
  const r = yield* ctx.call('adjust_pte', adjust(ctx, alias, pageAddr(alias, b)));
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  return r;
}

/** Step `t` while it can go, stopping before a step of adjust_pte() whose description matches `stop`. */
function drive(t: Task, stop?: RegExp): void {
  const at = (): boolean =>
    stop !== undefined && t.ctx.stack.includes('adjust_pte') && stop.test(t.pendingLabel ?? '');
  while (!t.done && !at()) {
    if (!t.runnable) throw new Error(`${t.name} blocked at ${t.pendingLabel}`);
    t.advance();
  }
}

function setUp(config: typeof ARM_LPAE, variant?: string, aliasMapped = true) {
  const b = boot(config, variant);
  const { vmas, folio } = sharedMappings(b, [3, 1]);
  const [own, alias] = vmas as [Vma, Vma];
  const pte = b.a.mkPte(folio.pfn, { write: true });
  installPte(b, pageAddr(own, b), pte);
  // Retract only ever removes an empty table: the alias's pte is none in the race tests.
  const aliasPtep = installPte(b, pageAddr(alias, b), aliasMapped ? pte : 0);
  return { b, own, alias, aliasPtep };
}

describe('adjust_pte() (arm-lpae: split ptlocks)', () => {
  it("locks exactly the table it mapped, nested inside the caller's ptl, and makes the pte uncacheable", () => {
    const { b, own, alias, aliasPtep } = setUp(ARM_LPAE);
    const t = b.k.spawn('cpu', (ctx) => coherency(ctx, b, own, alias));
    t.start();
    drive(t, /^do_adjust_pte\(\): entry/);
    const aliasPtl = b.k.pages.raw(aliasPtep.table.pa / 4096).ptl;
    const ownTable = run(pmdpGet(b.ctx, pmdOffset(b.ctx, b.mm, pageAddr(own, b)))).table;
    if (!ownTable) throw new Error('own mapping has no table');
    const ownPtl = b.k.pages.raw(ownTable.pa / 4096).ptl;
    expect(t.ctx.cpu.held.map((h) => [h.lock, h.subclass])).toEqual([
      [ownPtl, 0],
      [aliasPtl, SINGLE_DEPTH_NESTING],
    ]);
    drive(t);
    expect(t.result).toBe(true);
    const now = run(ptepGet(b.ctx, aliasPtep));
    expect(b.a.fmt.pteMemoryType(now)).toBe(L_PTE_3LEVEL.MT_BUFFERABLE);
    expect(t.ctx.cpu.held).toEqual([]);
    expect(t.ctx.cpu.rcuNesting).toBe(0);
  });

  it('an alias without a table: pte_offset_map_nolock() fails, nothing locked, returns 0', () => {
    const b = boot(ARM_LPAE);
    const { vmas, folio } = sharedMappings(b, [3, 1]);
    const [own, alias] = vmas as [Vma, Vma];
    installPte(b, pageAddr(own, b), b.a.mkPte(folio.pfn, { write: true }));
    const t = b.k.spawn('cpu', (ctx) => coherency(ctx, b, own, alias));
    t.start();
    drive(t);
    expect(t.result).toBe(false);
  });

  /** Retract the alias's table (pte_free_defer) and fault a fresh one in: *pmd now points elsewhere. */
  function* retractAndRefill(ctx: Ctx, b: Booted, alias: Vma): KGen {
    const { mm } = b;
    const pmdp = pmdOffset(ctx, mm, alias.start);
    const pml = yield* pmdLock(ctx, mm, pmdp);
    const v = yield* pmdpGet(ctx, pmdp);
    const ptl = pteLockptr(ctx, mm, v);
    yield* spinLock(ctx, ptl, SINGLE_DEPTH_NESTING);
    const old = yield* pmdpGetAndClear(ctx, mm, pmdp);
    yield* spinUnlock(ctx, ptl);
    yield* spinUnlock(ctx, pml);
    mmDecNrPtes(ctx, mm);
    if (old.table) yield* ctx.k.arch.pteFreeDefer(ctx, mm, old.table.pa);
    yield* pteAlloc(ctx, mm, pmdp);
  }

  function race(variant?: string) {
    const { b, own, alias, aliasPtep } = setUp(ARM_LPAE, variant, false);
    const t = b.k.spawn('cpu', (ctx) => coherency(ctx, b, own, alias));
    const w = b.k.spawn('khugepaged', (ctx) => retractAndRefill(ctx, b, alias));
    t.start();
    w.start();
    // adjust_pte() has mapped the alias's table; before it takes a lock, the table is replaced.
    drive(t, variant ? /^read pmd$/ : /^spin_lock\(ptl/);
    if (variant) {
      // That was pmd_none_or_clear_bad()'s read; pte_offset_map() comes next.
      t.advance();
      drive(t, /^read pmd$/);
    }
    expect(t.ctx.cpu.rcuNesting).toBe(2); // our own pte_offset_map_lock() and the alias
    // pte_offset_map() read *pmd once already; the v6.5 pte_lockptr() reads it again below.
    drive(w);
    return { b, t, aliasPtep };
  }

  function alias(b: Booted): Vma {
    return b.mm.vmas[1] as Vma;
  }

  it('v6.6 (pte_offset_map_nolock): after a retract and a refill it still locks the table it mapped', () => {
    const { b, t, aliasPtep } = race();
    // The retracted table is waiting for its grace period; the pmd points at a fresh one.
    expect(b.k.pt.get(aliasPtep.table.pa)?.state).toBe('deferred');
    const now = run(pmdpGet(b.ctx, pmdOffset(b.ctx, b.mm, pageAddr(alias(b), b))));
    expect(now.table?.pa).not.toBe(aliasPtep.table.pa);
    drive(t, /^do_adjust_pte\(\): entry/);
    const retractedPtl = b.k.pages.raw(aliasPtep.table.pa / 4096).ptl;
    expect(t.ctx.cpu.held.at(-1)?.lock).toBe(retractedPtl);
    expect(checkOf(() => drive(t))).toBeNull();
    expect(t.result).toBe(false); // the retracted table is empty
  });

  it(`${ARM_ADJUST_PTE_LOCKPTR}: pte_lockptr() re-reads *pmd and locks the fresh table instead`, () => {
    const { t } = race(ARM_ADJUST_PTE_LOCKPTR);
    expect(checkOf(() => drive(t))).toBe('wrong-ptl');
  });
});

describe('adjust_pte() (arm-classic: ptl == mm->page_table_lock)', () => {
  it('takes no lock: the caller holds mm->page_table_lock, which covers the alias too', () => {
    const { b, own, alias, aliasPtep } = setUp(ARM_CLASSIC);
    const t = b.k.spawn('cpu', (ctx) => coherency(ctx, b, own, alias));
    t.start();
    const locks: string[] = [];
    drive(t, /^do_adjust_pte/);
    expect(t.ctx.cpu.held.map((h) => h.lock)).toEqual([b.mm.pageTableLock]);
    while (!t.done) {
      const w = t.pendingLabel ?? '';
      if (/^spin_lock/.test(w)) locks.push(w);
      t.advance();
    }
    expect(locks).toEqual([]);
    expect(b.a.fmt.pteMemoryType(run(ptepGet(b.ctx, aliasPtep)))).toBe(L_PTE_2LEVEL.MT_BUFFERABLE);
  });

  it('the v6.5 form is the same here: pte_lockptr() is mm->page_table_lock whatever *pmd holds', () => {
    const { b, own, alias } = setUp(ARM_CLASSIC, ARM_ADJUST_PTE_LOCKPTR);
    const t = b.k.spawn('cpu', (ctx) => coherency(ctx, b, own, alias));
    t.start();
    expect(checkOf(() => drive(t))).toBeNull();
    expect(t.result).toBe(true);
  });

  it('update_mmu_cache() → make_coherent(): every shared alias in the mm, then our own pte, interrupts off meanwhile', () => {
    const b = boot(ARM_CLASSIC);
    const { vmas, folio } = sharedMappings(b, [3, 1, 2]);
    const pte = b.a.mkPte(folio.pfn, { write: true });
    const pteps = vmas.map((v) => installPte(b, pageAddr(v, b), pte));
    const own = vmas[0] as Vma;
    const ownPtep = pteps[0];
    const hook = b.a.updateMmuCache;
    expect(hook).toBeDefined();
    const t = b.k.spawn('fault', function* (ctx) {
      yield* spinLock(ctx, b.mm.pageTableLock);
      if (hook && ownPtep) yield* hook(ctx, own, pageAddr(own, b), ownPtep);
      yield* spinUnlock(ctx, b.mm.pageTableLock);
    });
    t.start();
    let irqOffAtAdjust = false;
    while (!t.done) {
      if ((t.pendingLabel ?? '').startsWith('do_adjust_pte') && t.ctx.stack.includes('adjust_pte'))
        irqOffAtAdjust ||= t.ctx.cpu.irqOff > 0;
      t.advance();
    }
    expect(irqOffAtAdjust).toBe(true);
    for (const p of pteps)
      expect(b.a.fmt.pteMemoryType(run(ptepGet(b.ctx, p)))).toBe(L_PTE_2LEVEL.MT_BUFFERABLE);
  });
});

describe('which configs have the hooks', () => {
  it('adjust_pte on 32-bit arm, update_mmu_cache only on the VIVT classic config, neither on arm64', () => {
    const has = (c: typeof ARM_LPAE) => {
      const a = boot(c).a as ArmArch;
      return [a.adjustPte !== undefined, a.updateMmuCache !== undefined];
    };
    expect(has(ARM_CLASSIC)).toEqual([true, true]);
    expect(has(ARM_LPAE)).toEqual([true, false]);
    expect(has(ARM64_4K)).toEqual([false, false]);
  });
});
