/**
 * hmm_range_fault() snapshot (src/hmm.ts): pte_offset_map() under
 * rcu_read_lock() with interrupts on, pfns of mapped pages, none elsewhere.
 */
import type { Task } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { hmmRangeFault } from '../src/index.js';
import { PAGE, PMD, world } from './helpers.js';

function drive(t: Task): { rcuAtPte: number[]; irqAtPte: number[] } {
  const rcuAtPte: number[] = [];
  const irqAtPte: number[] = [];
  t.start();
  while (!t.done) {
    if ((t.pendingLabel ?? '').startsWith('hmm_vma_handle_pte')) {
      rcuAtPte.push(t.ctx.cpu.rcuNesting);
      irqAtPte.push(t.ctx.cpu.irqOff);
    }
    t.advance();
  }
  return { rcuAtPte, irqAtPte };
}

describe('hmm_range_fault()', () => {
  it('reads each pte inside rcu_read_lock() with interrupts on, and balances it', () => {
    const { k, mm, thp } = world({ ptes: [5] });
    const t = k.spawn('hmm', (ctx) => hmmRangeFault(ctx, mm, PMD + 5 * PAGE, 2));
    const seen = drive(t);
    expect(seen).toEqual({ rcuAtPte: [1, 1], irqAtPte: [0, 0] });
    expect(t.result).toEqual([thp.pfn + 5, 0]);
    expect(t.ctx.cpu.rcuNesting).toBe(0);
    expect(t.ctx.cpu.held).toEqual([]);
  });

  it('no table: nothing mapped, no pte_offset_map()', () => {
    const { k, mm } = world({ table: false });
    const t = k.spawn('hmm', (ctx) => hmmRangeFault(ctx, mm, PMD, 2));
    expect(drive(t).rcuAtPte).toEqual([]);
    expect(t.result).toEqual([0, 0]);
  });
});
