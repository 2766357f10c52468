/**
 * x86-32 PAE: the pmd is two 32-bit halves. pmd_none() looks at pmd_low only;
 * __pte_offset_map() reads the pmd with interrupts off ("[PATCH v3 02/13]");
 * retract_page_tables()' pmdp_get_lockless_sync() is tlb_remove_table_sync_one(),
 * which IPIs only where MMU_GATHER_RCU_TABLE_FREE (PARAVIRT) is built in — so
 * without PARAVIRT a reader outside mm_cpumask is not waited for: the model
 * finds the torn read that leaves (see docs/arch/x86.md).
 */
import { loadScenarios, runCell } from '@ptlab/conformance';
import {
  type Ctx,
  Kernel,
  type KGen,
  localIrqRestore,
  localIrqSave,
  pmdLow,
  pmdOffset,
  pmdpGetLocklessSync,
  pteAlloc,
  pteOffsetMap,
  pteUnmap,
  runToEnd,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  PAE_NO_IRQ_GUARD,
  PAE_NO_LOCKLESS_SYNC,
  X86_32_PAE,
  X86_64,
  type X86Arch,
  x86,
} from '../src/index.js';

function boot(variant?: string, config = X86_32_PAE) {
  const a = x86.create(config, variant) as X86Arch;
  const k = new Kernel({ arch: a });
  const mm = k.createMm('A');
  const addr = 512 * 4096;
  const pmdp = pmdOffset(k.boot, mm, addr);
  runToEnd(pteAlloc(k.boot, mm, pmdp));
  return { k, a, mm, pmdp, addr };
}

describe('x86-32 PAE pmd halves', () => {
  it('pmd_none() looks at pmd_low only on PAE, at the whole pmd on x86-64', () => {
    const pae = x86.create(X86_32_PAE);
    const x64 = x86.create(X86_64);
    const highOnly = 3 * 2 ** 32;
    expect(pae.pmdNone(highOnly)).toBe(true);
    expect(x64.pmdNone(highOnly)).toBe(false);
    expect(pae.pmdNone(highOnly + 0x67)).toBe(false);
    // _PAGE_KNL_ERRATUM_MASK bits alone are still none
    expect(pae.pmdNone(0x60)).toBe(true);
  });

  it('page tables above 4 GB, 4 GB apart: the same pmd_low, different pmd_high', () => {
    const { k, mm, pmdp } = boot();
    const other = pmdOffset(k.boot, mm, 2 * 512 * 4096);
    runToEnd(pteAlloc(k.boot, mm, other));
    const raws = [pmdp, other].map((p) => k.mem.read(p.table.pa + p.index * 8).value);
    expect(raws.map(pmdLow)).toEqual([0x67, 0x67]);
    expect(raws[0]).not.toBe(raws[1]);
    expect(Math.min(...raws)).toBeGreaterThan(2 ** 32);
  });

  function* walker(ctx: Ctx, b: ReturnType<typeof boot>): KGen<number> {
    const pte = yield* pteOffsetMap(ctx, b.pmdp, b.addr);
    if (pte) yield* pteUnmap(ctx, pte);
    return ctx.cpu.irqOff;
  }

  it('__pte_offset_map(): interrupts off across pmd_low, pmd_high, recheck', () => {
    const b = boot();
    const t = b.k.spawn('walker', (ctx) => walker(ctx, b));
    t.start();
    const irqOffAtHalves: number[] = [];
    while (!t.done) {
      if (/^pmdp_get_lockless\(\)/.test(t.pendingLabel ?? ''))
        irqOffAtHalves.push(t.ctx.cpu.irqOff);
      t.advance();
    }
    expect(irqOffAtHalves).toEqual([1, 1, 1]);
    expect(t.ctx.cpu.irqOff).toBe(0);
  });

  it(`${PAE_NO_IRQ_GUARD}: the halves are read with interrupts on`, () => {
    const b = boot(PAE_NO_IRQ_GUARD);
    const t = b.k.spawn('walker', (ctx) => walker(ctx, b));
    t.start();
    const seen: number[] = [];
    while (!t.done) {
      if (/^pmdp_get_lockless\(\)/.test(t.pendingLabel ?? '')) seen.push(t.ctx.cpu.irqOff);
      t.advance();
    }
    expect(seen).toEqual([0, 0, 0]);
  });

  function syncAgainstIrqOffReader(variant?: string, config = X86_32_PAE) {
    const b = boot(variant, config);
    const reader = b.k.spawn('reader', function* (ctx) {
      yield* localIrqSave(ctx);
      yield* localIrqRestore(ctx);
    });
    const retract = b.k.spawn('khugepaged', (ctx) => pmdpGetLocklessSync(ctx));
    reader.start();
    retract.start();
    reader.advance(); // interrupts off: inside its pmdp_get_lockless() window
    while (retract.runnable) retract.advance();
    return { reader, retract };
  }

  it('pmdp_get_lockless_sync() waits for a CPU inside its interrupts-off window (PARAVIRT: the IPI is real)', () => {
    const { reader, retract } = syncAgainstIrqOffReader();
    expect(retract.done).toBe(false);
    expect(retract.pendingLabel).toBe('wait for IPI tlb_remove_table_smp_sync');
    reader.advance();
    expect(retract.runnable).toBe(true);
  });

  it(`${PAE_NO_LOCKLESS_SYNC}: retract does not wait`, () => {
    const { retract } = syncAgainstIrqOffReader(PAE_NO_LOCKLESS_SYNC);
    expect(retract.done).toBe(true);
  });

  it('without PARAVIRT, tlb_remove_table_sync_one() is an empty stub: no wait either', () => {
    const native = { ...X86_32_PAE, id: 'x86-32-pae-native', rcuTableFree: false };
    const { retract } = syncAgainstIrqOffReader(undefined, native);
    expect(retract.done).toBe(true);
  });
});

describe('the consequence, on the torn-pmd-read scenario (x86-32-pae itself runs in x86.conformance)', () => {
  const torn = loadScenarios().scenarios.find((s) => s.id === 'torn-pmd-read');

  it('a PAE kernel without PARAVIRT: a reader outside mm_cpumask reads a torn pmd', () => {
    if (!torn) throw new Error('torn-pmd-read scenario missing');
    const native = { ...X86_32_PAE, id: 'x86-32-pae-native', rcuTableFree: false };
    const r = runCell({ port: x86, config: native, scenario: torn });
    expect(r.result).toBe('fail');
    expect(r.finding?.check).toBe('torn-pmd-read');
  });
});
