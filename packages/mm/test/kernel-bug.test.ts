/**
 * The kernel-bug check: an oops of the modelled kernel code. Here, the
 * pre-v6.5 hmm_vma_walk_pmd() (mutant hmm-map-cannot-fail) dereferences the
 * NULL that pte_offset_map() returns once khugepaged retracted the table
 * between the walk's pmd check and the map; the v6.5+ code retries instead.
 */
import { lockHeldBy } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { collapseFileTail, HMM_MAP_CANNOT_FAIL, hmmRangeFault } from '../src/index.js';
import { PAGE, PMD, run, world } from './helpers.js';

function race(variants: string[]) {
  const { k, mm, file, thp } = world({ variants });
  const hmm = k.spawn('hmm', (ctx) => hmmRangeFault(ctx, mm, PMD + 5 * PAGE, 2));
  const t = k.spawn('khugepaged', (ctx) => collapseFileTail(ctx, file, thp));
  lockHeldBy(thp.lock, t.ctx.cpu);
  // hmm has checked the pmd (a table) and is about to map it; khugepaged retracts it first.
  const r = run(k, [
    ['hmm', /rcu_read_lock/],
    ['khugepaged', '*'],
  ]);
  return { r, hmm };
}

describe('check kernel-bug', () => {
  it('fires', () => {
    const { r } = race([HMM_MAP_CANNOT_FAIL]);
    expect(r.finding?.check).toBe('kernel-bug');
    expect(r.finding?.message).toContain('NULL pointer dereference');
  });

  it('stays silent', () => {
    // v6.5+: pte_offset_map() NULL means "goto again": the pmd is re-read (none) and nothing is mapped.
    const { r, hmm } = race([]);
    expect(r.finding).toBeNull();
    expect(hmm.result).toEqual([0, 0]);
  });
});
