/**
 * The historical s390 designs (src/s390-variants.ts), driven by hand: each
 * fails in the way the seeds say, for the reason they give.
 */
import { mmdrop, PG, Tag, tlbFinishMmu, tlbGatherMmu } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  PAGE_TABLE_SIZE,
  S390_2K,
  S390_LIST_IN_TABLE,
  S390_REUSE_BEFORE_GRACE_PERIOD,
  S390_V1_MMDROP_IN_CALLBACK,
  S390_V1_SHARED_RCU_HEAD,
} from '../src/index.js';
import { alloc, bits, boot, finding, list, pageOf, rcuDriver, run } from './helpers.js';

describe(S390_V1_SHARED_RCU_HEAD, () => {
  it('two halves of one page deferred in one grace period: call_rcu() on the queued rcu_head', () => {
    const b = boot(S390_2K, S390_V1_SHARED_RCU_HEAD);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(b.mm.count).toBe(2); // mmgrab()
    expect(pageOf(b, lo).index.holder).toBe('pt_mm');
    const f = finding(() => run(b.a.pteFreeDefer(b.ctx, b.mm, hi)));
    expect(f?.check).toBe('rcu-head-reused');
    expect(f?.message).toMatch(
      /call_rcu\(pt_rcu_head of pfn \d+, pte_free_now\) while that rcu_head is still queued/,
    );
  });

  it('a page on pgtable_list: the rcu_head overwrites pt_list, and the callback finds the list pointers gone', () => {
    const b = boot(S390_2K, S390_V1_SHARED_RCU_HEAD);
    const gp = rcuDriver(b.k);
    const lo = alloc(b); // the upper half is free: the page is on pgtable_list
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(pageOf(b, lo).lru.holder).toBe('pt_rcu_head');
    const f = finding(() => gp());
    expect(f?.check).toBe('union-clobbered');
    expect(f?.message).toMatch(
      /pt_list read, but pt_rcu_head \(sharing its storage\) overwrote it/,
    );
  });

  it('silent: the other half stays allocated through the grace period (page off the list), mm dropped with mmdrop_async()', () => {
    const b = boot(S390_2K, S390_V1_SHARED_RCU_HEAD);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    run(mmdrop(b.ctx, b.mm)); // not the last reference: pte_free_defer() took one
    expect(finding(() => gp())).toBeNull();
    expect(bits(b, lo)).toBe(0x02);
    expect(list(b)).toEqual([pageOf(b, lo).pfn]);
    expect(b.k.pendingWork).toBe(1); // __mmdrop() queued for a kworker
  });
});

describe(S390_LIST_IN_TABLE, () => {
  it('the free list lives in the free halves: a fresh page lists its upper half through its first two longs', () => {
    const b = boot(S390_2K, S390_LIST_IN_TABLE);
    const lo = alloc(b);
    const upper = lo + PAGE_TABLE_SIZE;
    expect(list(b)).toEqual([upper]);
    expect(b.k.mem.read(upper).tag).toBe(Tag.list);
    expect(b.k.mem.read(upper + 8).tag).toBe(Tag.list);
    expect(pageOf(b, lo).lru.holder).toBeNull();
    // Handing it out unlinks it and makes the two longs empty ptes again.
    expect(alloc(b)).toBe(upper);
    expect(b.k.mem.read(upper)).toEqual({ value: 0x400, tag: Tag.pte });
  });

  it('pte_free_defer() links the retracted half onto the list at once: list pointers in a table readers can still see', () => {
    const b = boot(S390_2K, S390_LIST_IN_TABLE);
    const lo = alloc(b);
    alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(b.k.pt.get(lo)?.state).toBe('deferred');
    expect(b.k.mem.read(lo).tag).toBe(Tag.list);
    expect(bits(b, lo)).toBe(0x12); // pending removal: not reused, but written into
    expect(list(b)).toEqual([lo]);
  });

  it("page_table_free_rcu() writes into the table before its grace period too (Jason's point)", () => {
    const b = boot(S390_2K, S390_LIST_IN_TABLE);
    const lo = alloc(b);
    alloc(b);
    run(b.a.pteFreeTlb(b.ctx, tlbGatherMmu(b.mm, false), lo));
    expect(b.k.mem.read(lo).tag).toBe(Tag.list);
    expect(b.k.mem.read(lo + 8).tag).toBe(Tag.list);
    expect(b.k.mem.read(lo + 16).tag).toBe(Tag.pte);
  });
});

describe(S390_V1_MMDROP_IN_CALLBACK, () => {
  it('the mm exits before the callback: the callback holds the last reference and __mmdrop() sleeps in softirq', () => {
    const b = boot(S390_2K, S390_V1_MMDROP_IN_CALLBACK);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    run(mmdrop(b.ctx, b.mm)); // exit: mm_count 2 -> 1
    expect(b.mm.freed).toBe(false);
    const f = finding(() => gp());
    expect(f?.check).toBe('sleep-in-atomic');
    expect(f?.message).toMatch(/__mmdrop\(mm A\) may sleep, called in an RCU callback \(softirq\)/);
  });

  it('silent: the callback runs while the mm is still alive', () => {
    const b = boot(S390_2K, S390_V1_MMDROP_IN_CALLBACK);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(finding(() => gp())).toBeNull();
    expect(b.mm.count).toBe(1);
    expect(pageOf(b, lo).allocated).toBe(false);
  });
});

describe(S390_REUSE_BEFORE_GRACE_PERIOD, () => {
  it('the deferred half goes back on the list at once and is handed out before its grace period', () => {
    const b = boot(S390_2K, S390_REUSE_BEFORE_GRACE_PERIOD);
    const lo = alloc(b);
    alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(pageOf(b, lo).testFlag(PG.active)).toBe(true);
    expect(list(b)).toEqual([pageOf(b, lo).pfn]);
    const f = finding(() => alloc(b));
    expect(f?.check).toBe('use-after-free');
    expect(f?.message).toMatch(
      /hands out pte table at pa 0x[0-9a-f]+, but pt#\d+ there is still waiting for its grace period/,
    );
  });

  it('the kernel (v6.6) keeps that page off the list', () => {
    const b = boot(S390_2K);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(list(b)).toEqual([]);
    expect(pageOf(b, alloc(b)).pfn).not.toBe(pageOf(b, lo).pfn);
    const tlb = tlbGatherMmu(b.mm, true);
    run(b.a.pteFreeTlb(b.ctx, tlb, hi));
    run(tlbFinishMmu(b.ctx, tlb));
    gp();
    expect(pageOf(b, lo).allocated).toBe(false);
  });
});
