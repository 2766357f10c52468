/**
 * The s390 page-table allocators against the kernel's rules
 * (arch/s390/mm/pgalloc.c): v6.6 2K fragments with AA/PP bits in the upper
 * byte of _refcount, mm->context.pgtable_list threaded through ptdesc->pt_list
 * (which pt_rcu_head overlays), PageActive for pte_free_defer(); the pgste 4K
 * tables; v6.7+ full-page tables. Bits: 0x01/0x02 = lower/upper half
 * allocated (AA), 0x10/0x20 = lower/upper half pending removal (PP).
 */
import { mmdrop, PG, ptlOfTable, Tag, tlbFinishMmu, tlbGatherMmu } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  PAGE_TABLE_SIZE,
  S390_2K,
  S390_4K,
  S390_PGSTE,
  type S390FragmentArch,
  s390Context,
} from '../src/index.js';
import { alloc, bits, boot, finding, list, pageOf, rcuDriver, run } from './helpers.js';

const INVALID = 0x400;

describe('page_table_alloc() (v6.6, 2K fragments)', () => {
  it('a fresh page: the lower half is handed out (AA 0x01), both halves _PAGE_INVALID, the page goes on pgtable_list', () => {
    const b = boot(S390_2K);
    const pa = alloc(b);
    const page = pageOf(b, pa);
    expect(pa % b.k.config.PAGE_SIZE).toBe(0);
    expect(bits(b, pa)).toBe(0x01);
    expect(page.refcount).toBe(1 + (0x01 << 24));
    expect(list(b)).toEqual([page.pfn]);
    expect(page.lru.holder).toBe('pt_list');
    expect(page.testFlag(PG.table)).toBe(true);
    for (const w of [0, 255, 256, 511])
      expect(b.k.mem.read(pa + w * 8)).toEqual({ value: INVALID, tag: Tag.pte });
    const t = b.k.pt.get(pa);
    expect([t?.entries, t?.state, t?.mm]).toEqual([256, 'live', b.mm]);
    expect(b.k.pt.get(pa + PAGE_TABLE_SIZE)).toBeUndefined();
  });

  it('the next table is the upper half of the same page (word 256, pa + 2048): AA 0x03, page off the list', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    const hi = alloc(b);
    expect(hi).toBe(lo + PAGE_TABLE_SIZE);
    expect(b.k.mem.wordOf(hi)).toEqual({ pfn: pageOf(b, lo).pfn, word: 256 });
    expect(bits(b, lo)).toBe(0x03);
    expect(list(b)).toEqual([]);
    const third = alloc(b);
    expect(pageOf(b, third).pfn).not.toBe(pageOf(b, lo).pfn);
    expect(list(b)).toEqual([pageOf(b, third).pfn]);
  });

  it('both halves are distinct tables that share the page ptlock', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    const hi = alloc(b);
    const t0 = b.k.pt.get(lo);
    const t1 = b.k.pt.get(hi);
    if (!t0 || !t1) throw new Error('not registered');
    expect(t0.gen).not.toBe(t1.gen);
    expect(ptlOfTable(b.ctx, b.mm, t0)).toBe(ptlOfTable(b.ctx, b.mm, t1));
  });

  it('a page whose free half is pending removal (PP) is not handed out: a fresh page is taken instead', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    alloc(b);
    const tlb = tlbGatherMmu(b.mm, false);
    run(b.a.pteFreeTlb(b.ctx, tlb, lo));
    expect(bits(b, lo)).toBe(0x12);
    const next = alloc(b);
    expect(pageOf(b, next).pfn).not.toBe(pageOf(b, lo).pfn);
  });
});

describe('page_table_free() (pte_free, immediate)', () => {
  it('freeing one half of a full page: AA→PP→clear, the page goes to the head of the list, the half is reused at once', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFree(b.ctx, b.mm, hi));
    expect(bits(b, lo)).toBe(0x01);
    expect(list(b)).toEqual([pageOf(b, lo).pfn]);
    expect(b.k.pt.get(hi)?.state).toBe('free');
    expect(pageOf(b, lo).allocated).toBe(true);
    expect(alloc(b)).toBe(hi);
    expect(bits(b, lo)).toBe(0x03);
  });

  it('freeing the last half releases the page and takes it off the list', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFree(b.ctx, b.mm, lo));
    run(b.a.pteFree(b.ctx, b.mm, hi));
    expect(pageOf(b, lo).allocated).toBe(false);
    expect(list(b)).toEqual([]);
    expect(b.k.pt.live()).toHaveLength(1); // the pmd table only
  });

  it('freeing a half that is not allocated is a double free', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    alloc(b);
    run(b.a.pteFree(b.ctx, b.mm, lo));
    const f = finding(() => run(b.a.pteFree(b.ctx, b.mm, lo)));
    expect(f?.check).toBe('double-free');
    expect(f?.message).toMatch(/half 0 of pfn \d+, which is not allocated/);
  });
});

describe('page_table_free_rcu() and __tlb_remove_table() (pte_free_tlb)', () => {
  it('sets PP for the half, lists the page at the tail, and clears PP only after the grace period', () => {
    const b = boot(S390_2K);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    const hi = alloc(b);
    const other = alloc(b); // the lower half of a second page, which stays listed
    const tlb = tlbGatherMmu(b.mm, false);
    run(b.a.pteFreeTlb(b.ctx, tlb, hi));
    expect(bits(b, lo)).toBe(0x21);
    expect(list(b)).toEqual([pageOf(b, other).pfn, pageOf(b, lo).pfn]);
    expect(tlb.tables).toEqual([hi + 0x02]); // the half travels in the low bits
    expect(b.k.pt.get(hi)?.state).toBe('live');
    run(tlbFinishMmu(b.ctx, tlb));
    expect(bits(b, lo)).toBe(0x21); // still pending: no grace period yet
    gp();
    expect(bits(b, lo)).toBe(0x01);
    expect(b.k.pt.get(hi)?.state).toBe('free');
  });

  it('the last half: the page is released by __tlb_remove_table() after the grace period', () => {
    const b = boot(S390_2K);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    const tlb = tlbGatherMmu(b.mm, true);
    run(b.a.pteFreeTlb(b.ctx, tlb, lo));
    expect(bits(b, lo)).toBe(0x10);
    expect(list(b)).toEqual([]);
    run(tlbFinishMmu(b.ctx, tlb));
    expect(pageOf(b, lo).allocated).toBe(true);
    gp();
    expect(pageOf(b, lo).allocated).toBe(false);
  });

  it('__tlb_remove_table() of a half that is not pending removal is a double free', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    alloc(b);
    const f = finding(() => run(b.a.tlbRemoveTableFree(b.ctx, lo + 0x01)));
    expect(f?.check).toBe('double-free');
  });
});

describe('pte_free_defer() (v6.6: SetPageActive + page_table_free)', () => {
  it('with the other half in use: Active, AA cleared, page off the list, the half stays deferred and is not reused', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    const page = pageOf(b, lo);
    expect(page.testFlag(PG.active)).toBe(true);
    expect(bits(b, lo)).toBe(0x02);
    expect(list(b)).toEqual([]);
    expect(b.k.pt.get(lo)?.state).toBe('deferred');
    expect(b.k.rcu.queue).toHaveLength(0); // no call_rcu until the last half goes
    const next = alloc(b);
    expect(pageOf(b, next).pfn).not.toBe(page.pfn);
    expect(b.k.pt.get(lo)?.state).toBe('deferred');
    expect(hi).toBe(lo + PAGE_TABLE_SIZE);
  });

  it('when the other half is freed later, one call_rcu on pt_rcu_head frees the page after the grace period', () => {
    const b = boot(S390_2K);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    run(b.a.pteFree(b.ctx, b.mm, hi));
    const page = pageOf(b, lo);
    expect(bits(b, lo)).toBe(0x00);
    expect(page.testFlag(PG.active)).toBe(false); // folio_test_clear_active()
    expect(page.lru.holder).toBe('pt_rcu_head');
    expect(b.k.rcu.queue.map((c) => c.head.label)).toEqual([`pt_rcu_head of pfn ${page.pfn}`]);
    expect(page.allocated).toBe(true);
    gp();
    expect(page.allocated).toBe(false);
    expect(b.k.pt.get(lo)?.state).toBe('free');
    expect(b.k.pt.get(hi)?.state).toBe('free');
  });

  it('both halves deferred: still exactly one call_rcu, when the second goes', () => {
    const b = boot(S390_2K);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(b.k.rcu.queue).toHaveLength(0);
    run(b.a.pteFreeDefer(b.ctx, b.mm, hi));
    expect(b.k.rcu.queue).toHaveLength(1);
    expect(b.k.pt.get(hi)?.state).toBe('deferred');
    gp();
    expect(pageOf(b, lo).allocated).toBe(false);
    expect([b.k.pt.get(lo)?.state, b.k.pt.get(hi)?.state]).toEqual(['free', 'free']);
  });

  it('with the other half free (page on the list): off the list, call_rcu at once', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    expect(list(b)).toHaveLength(1);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    expect(list(b)).toEqual([]);
    expect(b.k.rcu.queue).toHaveLength(1);
    expect(pageOf(b, lo).allocated).toBe(true);
  });

  it('page_table_free_rcu() of the sibling of an Active page keeps it off the list; __tlb_remove_table() then defers the page by RCU', () => {
    const b = boot(S390_2K);
    const gp = rcuDriver(b.k);
    const lo = alloc(b);
    const hi = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, lo));
    const tlb = tlbGatherMmu(b.mm, true);
    run(b.a.pteFreeTlb(b.ctx, tlb, hi));
    expect(bits(b, lo)).toBe(0x20);
    expect(list(b)).toEqual([]);
    run(tlbFinishMmu(b.ctx, tlb));
    const page = pageOf(b, lo);
    // One grace period for the batch; its __tlb_remove_table() finds the page Active and queues pte_free_now.
    gp();
    expect(page.allocated).toBe(false);
    expect(b.k.rcu.invoked).toBe(2);
  });
});

describe('pgste mm (v6.6, s390-pgste): 4K tables with PGSTEs', () => {
  it('each table is a whole page: AA 0x03, 256 PTEs then 256 PGSTEs, never on pgtable_list', () => {
    const b = boot(S390_PGSTE);
    const a0 = alloc(b);
    const a1 = alloc(b);
    expect(pageOf(b, a0).pfn).not.toBe(pageOf(b, a1).pfn);
    expect(bits(b, a0)).toBe(0x03);
    expect(list(b)).toEqual([]);
    expect(s390Context(b.mm).hasPgste).toBe(true);
    expect(b.k.mem.read(a0 + 255 * 8)).toEqual({ value: INVALID, tag: Tag.pte });
    expect(b.k.mem.read(a0 + 256 * 8).tag).toBe(Tag.aux);
    expect(pageOf(b, a0).lru.holder).toBe('pt_list'); // INIT_LIST_HEAD
  });

  it('page_table_free() clears AA and frees the page; page_table_free_rcu() sends table|3', () => {
    const b = boot(S390_PGSTE);
    const a0 = alloc(b);
    const a1 = alloc(b);
    run(b.a.pteFree(b.ctx, b.mm, a0));
    expect(pageOf(b, a0).allocated).toBe(false);
    const tlb = tlbGatherMmu(b.mm, true);
    run(b.a.pteFreeTlb(b.ctx, tlb, a1));
    expect(tlb.tables).toEqual([a1 + 0x03]);
    expect(bits(b, a1)).toBe(0x03); // cleared only by __tlb_remove_table()
  });

  it('pte_free_defer() WARNs (no gmap_unlink on this path) and still frees by RCU', () => {
    const b = boot(S390_PGSTE);
    const gp = rcuDriver(b.k);
    const a0 = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    expect(b.a.warnings).toEqual([expect.stringMatching(/WARN_ON_ONCE\(mm_has_pgste\(mm\)\)/)]);
    expect(b.k.pt.get(a0)?.state).toBe('deferred');
    expect(pageOf(b, a0).allocated).toBe(true);
    gp();
    expect(pageOf(b, a0).allocated).toBe(false);
  });

  it('no WARN on a mm without PGSTEs', () => {
    const b = boot(S390_2K);
    run(b.a.pteFreeDefer(b.ctx, b.mm, alloc(b)));
    expect(b.a.warnings).toEqual([]);
  });
});

describe('v6.7+ (s390-4k): one table per page', () => {
  it('each table a fresh page: lower 2K _PAGE_INVALID, upper 2K zero, pt_list initialised; no AA bits, no list', () => {
    const b = boot(S390_4K);
    const a0 = alloc(b);
    const a1 = alloc(b);
    expect(pageOf(b, a0).pfn).not.toBe(pageOf(b, a1).pfn);
    expect(bits(b, a0)).toBe(0);
    expect(list(b)).toEqual([]);
    expect(b.k.mem.read(a0 + 255 * 8)).toEqual({ value: INVALID, tag: Tag.pte });
    expect(b.k.mem.read(a0 + 256 * 8)).toEqual({ value: 0, tag: Tag.zero });
  });

  it('pte_free_defer() = call_rcu(&ptdesc->pt_rcu_head, pte_free_now): freed after the grace period', () => {
    const b = boot(S390_4K);
    const gp = rcuDriver(b.k);
    const a0 = alloc(b);
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    const page = pageOf(b, a0);
    expect(page.lru.holder).toBe('pt_rcu_head');
    expect(page.allocated).toBe(true);
    gp();
    expect(page.allocated).toBe(false);
    expect(b.k.pt.get(a0)?.state).toBe('free');
  });

  it('pte_free_tlb() goes through the RCU table batch', () => {
    const b = boot(S390_4K);
    const gp = rcuDriver(b.k);
    const a0 = alloc(b);
    const tlb = tlbGatherMmu(b.mm, true);
    run(b.a.pteFreeTlb(b.ctx, tlb, a0));
    run(tlbFinishMmu(b.ctx, tlb));
    expect(pageOf(b, a0).allocated).toBe(true);
    gp();
    expect(pageOf(b, a0).allocated).toBe(false);
  });
});

describe('the mm context', () => {
  it('page_table_free() on a freed mm is a use after free (mm->context.lock)', () => {
    const b = boot(S390_2K);
    const lo = alloc(b);
    run(b.a.pteFree(b.ctx, b.mm, lo));
    run(mmdrop(b.ctx, b.mm));
    expect(b.mm.freed).toBe(true);
    const a = b.a as S390FragmentArch;
    const f = finding(() => run(a.pageTableFree(b.ctx, b.mm, lo)));
    expect(f?.check).toBe('use-after-free');
  });
});
