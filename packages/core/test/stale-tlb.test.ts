/**
 * stale-tlb (src/tlb-check.ts): a CPU fills its TLB through the hardware walk
 * (src/hw-walk.ts); another path clears the PTE. Using the entry while that
 * path runs is legal (its flush may still come); using it after that path
 * finished without a flush reaching this CPU is the finding.
 */
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type Ctx,
  flushTlbRange,
  hwWalk,
  type KGen,
  type Mm,
  pmdOffset,
  pteOffsetMapLock,
  ptepGetAndClear,
  pteUnmapUnlock,
  tlbEntrySource,
  tlbFill,
  tlbLookup,
  tlbUse,
} from '../src/index.js';
import { mapPage, newKernel, pmdAddr, populate, Sim, TEST_CONFIG } from './helpers.js';

const ADDR = pmdAddr(1) + 2 * TEST_CONFIG.PAGE_SIZE;

/** A user CPU: load (walk + fill), then later load again through the TLB. */
function* user(ctx: Ctx, mm: Mm): KGen<number | null> {
  const tr = yield* hwWalk(ctx, mm, ADDR);
  if (!tr) throw new Error('nothing mapped');
  tlbFill(ctx, mm, ADDR, tr);
  yield ctx.step('user: next load', testObj('user'), 'r');
  const hit = tlbLookup(ctx, mm, ADDR);
  if (!hit) return null; // flushed: the next load would walk again
  tlbUse(ctx, hit.entry);
  return hit.pfn;
}

/** Unmap the PTE under its ptl; flush the TLB range afterwards, or (the bug) not. */
function* unmap(ctx: Ctx, mm: Mm, flush: boolean): KGen {
  const m = yield* pteOffsetMapLock(ctx, mm, pmdOffset(ctx, mm, ADDR), ADDR);
  if (!m) throw new Error('no table');
  yield* ptepGetAndClear(ctx, mm, m.pte);
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  if (flush) yield* flushTlbRange(ctx, mm, ADDR, ADDR + TEST_CONFIG.PAGE_SIZE);
}

function build(flush: boolean, over = {}) {
  const k = newKernel(over);
  const mm = k.createMm('A');
  populate(k, mm, ADDR);
  mapPage(k, mm, ADDR, 0x7000);
  const u = k.spawn('user', (ctx) => user(ctx, mm), { mm });
  k.spawn('zap', (ctx) => unmap(ctx, mm, flush), { mm });
  const sim = new Sim(k);
  sim.step('user'); // the walk: the TLB now holds ADDR -> pfn 0x7000
  return { k, sim, u };
}

describe('check stale-tlb', () => {
  it('fires', () => {
    const { sim } = build(false);
    sim.finish('zap'); // cleared the PTE, returned without flushing
    const f = sim.drain();
    expect(f?.check).toBe('stale-tlb');
    expect(f?.message).toMatch(
      /cpu0 .*uses its TLB entry 0x\w+ -> pfn 28672 \(filled at step 0 from pt#\d+\[2\]\), but that PTE was cleared at step \d+ by cpu1 .*\(ptep_get_and_clear\(\) of pt#\d+\[2\]\), and cpu1 zap has finished without a TLB flush reaching cpu0/,
    );
  });

  it('stays silent', () => {
    const { sim, u } = build(true);
    sim.finish('zap'); // the flush IPI dropped cpu0's entry
    expect(sim.drain()).toBeNull();
    expect(u.result).toBeNull();
  });

  it('stays silent: a hit before the clearing path has finished (its flush is still to come)', () => {
    const { sim, u } = build(true);
    sim.until('zap', 'send IPI'); // PTE cleared, flush not yet sent
    sim.finish('user');
    expect(u.result).toBe(0x7000);
    expect(sim.drain()).toBeNull();
  });

  it('stays silent: a broadcast flush (no IPI) also drops the entry', () => {
    const { sim, u } = build(true, { tlbFlushIpi: false });
    sim.finish('zap');
    expect(sim.drain()).toBeNull();
    expect(u.result).toBeNull();
  });

  it('the entry remembers the PTE it came from', () => {
    const { k } = build(false);
    const cpu0 = k.cpus[0];
    const e = cpu0 ? [...cpu0.tlb.values()][0] : undefined;
    expect(e && tlbEntrySource(e)?.index).toBe(2);
  });
});
