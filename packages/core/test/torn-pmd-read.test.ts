/**
 * A pmd read as two 32-bit halves (CONFIG_GUP_GET_PXX_LOW_HIGH, x86-32 PAE):
 * pmdp_get_lockless() reads pmd_low, pmd_high, re-reads pmd_low and retries if
 * it changed (include/linux/pgtable.h), pmd_clear() stores low then high
 * (native_pmd_clear()), set_pmd() and pmdp_get_and_clear() are one 64-bit
 * store. With the allocator handing out pfns 2^20 apart (pfnStride), every
 * table's pmd has the same pmd_low: a reader that read pmd_low before a
 * retract, pmd_high after it, and re-read pmd_low after a fresh table went in,
 * maps a page that is no page table — the torn-pmd-read finding.
 */
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  type Kernel,
  type KGen,
  type Mm,
  type PmdPtr,
  pmdClearUnlocked,
  pmdHigh,
  pmdLow,
  pmdpGet,
  pmdpGetLockless,
  pmdpGetLocklessStart,
  pmdpGetLocklessSync,
  pteAlloc,
  pteOffsetMap,
  pteUnmap,
  runToEnd,
} from '../src/index.js';
import { newKernel, pmdAddr, populate, retractTable, Sim, TEST_CONFIG } from './helpers.js';

/** x86-32 PAE-like: 3 levels, halves, pfns above 4 GB and 4 GB apart. */
const PAE = { pmdLowHigh: true, levels: 3, pfnBase: 2 ** 20, pfnStride: 2 ** 20 } as const;
const ADDR = pmdAddr(1) + 5 * TEST_CONFIG.PAGE_SIZE;

function world(over: object = PAE): { k: Kernel; mm: Mm; pmdp: PmdPtr; pa: number } {
  const k = newKernel(over);
  const mm = k.createMm('A');
  const { pmdp, pa } = populate(k, mm, ADDR);
  return { k, mm, pmdp, pa };
}

/** A lockless walker: pte_offset_map(), then pte_unmap(). */
function* walker(ctx: Ctx, pmdp: PmdPtr): KGen<number | null> {
  const pte = yield* pteOffsetMap(ctx, pmdp, ADDR);
  if (!pte) return null;
  yield* pteUnmap(ctx, pte);
  return pte.table.pa;
}

/** khugepaged's retract, then a fault's __pte_alloc() putting a fresh table in the same pmd. */
function* retractAndRefill(ctx: Ctx, mm: Mm, pmdp: PmdPtr, pa: number): KGen {
  yield* retractTable(ctx, mm, pmdp, pa, 'defer');
  yield* ctx.call('__pte_alloc', pteAlloc(ctx, mm, pmdp));
}

describe('check torn-pmd-read', () => {
  it('fires', () => {
    const { k, mm, pmdp, pa } = world();
    k.spawn('walker', (ctx) => walker(ctx, pmdp));
    k.spawn('writer', (ctx) => retractAndRefill(ctx, mm, pmdp, pa), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'pmd_high'); // pmd_low of the old table read
    sim.until('writer', 'alloc_pages'); // pmd cleared, table deferred
    sim.step('walker'); // pmd_high of the cleared pmd: 0
    sim.finish('writer'); // a fresh table: same pmd_low, another pmd_high
    const f = sim.drain();
    expect(f?.check).toBe('torn-pmd-read');
    expect(f?.message).toMatch(
      /maps pmd value 0x67 \(pmd_high 0x0, pmd_low 0x67\) as a page table, but no page table is at pa 0x0/,
    );
    expect(f?.related.map((r) => r.what)).toEqual([
      'pmdp_get_lockless() read pmd_low 0x67',
      'pmdp_get_lockless() read pmd_high 0x0',
    ]);
  });

  it('stays silent', () => {
    // The same writer, the reader's halves taken before the retract: one value, the old table.
    const { k, mm, pmdp, pa } = world();
    const w = k.spawn('walker', (ctx) => walker(ctx, pmdp));
    k.spawn('writer', (ctx) => retractAndRefill(ctx, mm, pmdp, pa), { mm });
    const sim = new Sim(k);
    sim.finish('walker');
    expect(sim.drain()).toBeNull();
    expect(w.result).toBe(pa);
  });

  it('stays silent: pmd_low changed under the reader, which retries', () => {
    const { k, mm, pmdp, pa } = world();
    const w = k.spawn('walker', (ctx) => walker(ctx, pmdp));
    k.spawn('writer', (ctx) => retractAndRefill(ctx, mm, pmdp, pa), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'pmd_high');
    sim.until('writer', 'alloc_pages');
    sim.step('walker', 2); // pmd_high 0, then the recheck sees pmd_low 0: retry
    expect(sim.pending('walker')).toBe('pmdp_get_lockless(): pmd_low');
    expect(sim.drain()).toBeNull();
    expect(w.result).toBeNull(); // pmd_none(): no table to map
  });

  it('stays silent: a one-access pmd read cannot tear', () => {
    const { k, mm, pmdp, pa } = world({ pfnBase: 2 ** 20, pfnStride: 2 ** 20 });
    k.spawn('walker', (ctx) => walker(ctx, pmdp));
    k.spawn('writer', (ctx) => retractAndRefill(ctx, mm, pmdp, pa), { mm });
    const sim = new Sim(k);
    sim.until('walker', 'pmdp_get_lockless()');
    sim.finish('writer');
    expect(sim.drain()).toBeNull();
  });
});

describe('pmd as two halves (GUP_GET_PXX_LOW_HIGH)', () => {
  it('pmdp_get_lockless(): pmd_low, pmd_high, recheck pmd_low — three accesses', () => {
    const { k, pmdp, pa } = world();
    k.spawn('r', (ctx) => pmdpGetLockless(ctx, pmdp));
    const sim = new Sim(k);
    const seen: string[] = [];
    while (!sim.task('r').exiting) {
      seen.push(sim.pending('r'));
      sim.step('r');
    }
    expect(seen).toEqual([
      'pmdp_get_lockless(): pmd_low',
      'pmdp_get_lockless(): pmd_high',
      'pmdp_get_lockless(): recheck pmd_low',
    ]);
    const v = sim.task('r').result as { raw: number; table: { pa: number } | null };
    expect(v.table?.pa).toBe(pa);
    expect(pmdHigh(v.raw)).toBe(pa / 2 ** 32);
    expect(pmdLow(v.raw)).toBe(0x67);
  });

  it('one access where the pmd is read whole', () => {
    const { k, pmdp } = world({});
    k.spawn('r', (ctx) => pmdpGetLockless(ctx, pmdp));
    const sim = new Sim(k);
    expect(sim.pending('r')).toBe('pmdp_get_lockless()');
    sim.step('r');
    expect(sim.task('r').exiting).toBe(true);
  });

  it('pmd_clear(): pmd_low = 0, then pmd_high = 0, two stores', () => {
    const { k, pmdp, pa } = world();
    k.spawn('c', (ctx) => pmdClearUnlocked(ctx, pmdp));
    k.spawn('r', (ctx) => pmdpGet(ctx, pmdp));
    const sim = new Sim(k);
    sim.step('c'); // pmd_low = 0
    sim.step('r');
    const mid = sim.task('r').result as { raw: number; table: unknown };
    expect(pmdLow(mid.raw)).toBe(0);
    expect(pmdHigh(mid.raw)).toBe(pa / 2 ** 32);
    expect(k.arch.pmdNone(mid.raw)).toBe(false); // GenericArch looks at all 64 bits
    expect(mid.table).toBeNull();
    expect(sim.pending('c')).toMatch(/pmd_high = 0$/);
    sim.finish('c');
    expect(runToEnd(pmdpGet(k.boot, pmdp)).raw).toBe(0);
  });

  it('pfnStride: fresh pfns 2^20 apart, so every table pmd has the same pmd_low', () => {
    const { k, mm, pa } = world();
    const b = populate(k, mm, pmdAddr(2));
    expect(b.pa - pa).toBe(2 ** 20 * TEST_CONFIG.PAGE_SIZE);
    const lows = [pa, b.pa].map((x) => pmdLow(k.arch.mkPmdTable(x)));
    expect(lows).toEqual([0x67, 0x67]);
  });

  it('pmdp_get_lockless_start()/sync() consult the arch hooks first', () => {
    const calls: string[] = [];
    const k = newKernel(PAE);
    Object.assign(k.arch, {
      *pmdpGetLocklessStart(_ctx: Ctx): KGen {
        calls.push('start');
      },
      *pmdpGetLocklessSync(_ctx: Ctx): KGen {
        calls.push('sync');
      },
    });
    runToEnd(pmdpGetLocklessStart(k.boot));
    runToEnd(pmdpGetLocklessSync(k.boot));
    expect(calls).toEqual(['start', 'sync']);
    expect(k.boot.cpu.irqOff).toBe(0); // the generic local_irq_save() did not run
    const plain = newKernel(PAE);
    runToEnd(pmdpGetLocklessStart(plain.boot));
    expect(plain.boot.cpu.irqOff).toBe(1);
  });
});
