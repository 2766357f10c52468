import {
  type KGen,
  PG,
  pageFieldsObj,
  pageLifeObj,
  pageObj,
  ptlOfTable,
  stepFootprint,
  stepLabel,
  Tag,
  tlbFinishMmu,
  tlbGatherMmu,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  POWERPC_FRAG_DESTROY_CLEAR_ACTIVE,
  POWERPC_V2_REDEFER,
  PPC32_8XX,
  PPC64_HASH_64K,
  PPC64_RADIX_4K,
  PPC64_RADIX_64K,
  pteFragGet,
  ptFragRefcountObj,
} from '../src/index.js';
import { allocated, boot, finding, pageOf, rcuDriver, refs, run } from './helpers.js';

describe('fragment cache: allocation order (get_pte_from_cache / __alloc_for_ptecache)', () => {
  it('hash 64K hands out the 16 4K fragments of one page in order, then starts a new page', () => {
    const b = boot(PPC64_HASH_64K);
    const before = b.k.pages.allocatedCount;
    const first = run(b.a.pteAllocOne(b.ctx, b.mm));
    if (first === null) throw new Error('oom');
    expect(first % 65536).toBe(0);
    expect(b.k.pages.allocatedCount).toBe(before + 1);
    expect(refs(b, first)).toBe(16);
    expect(pteFragGet(b.mm)).toBe(first + 4096);
    const pas = [first];
    for (let i = 1; i < 16; i++) pas.push(run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    expect(pas).toEqual(Array.from({ length: 16 }, (_, i) => first + i * 4096));
    expect(b.k.pages.allocatedCount).toBe(before + 1);
    expect(pteFragGet(b.mm)).toBeNull();
    const next = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    expect(Math.floor(next / 65536)).not.toBe(Math.floor(first / 65536));
    expect(b.k.pages.allocatedCount).toBe(before + 2);
    expect(refs(b, next)).toBe(16);
  });

  it('radix 64K hands out 256-byte fragments of 32 ptes', () => {
    const b = boot(PPC64_RADIX_64K);
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const a1 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const a2 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    expect([a1 - a0, a2 - a1]).toEqual([256, 256]);
    expect(refs(b, a0)).toBe(256);
    expect(b.k.pt.get(a1)?.entries).toBe(32);
  });

  it.each([PPC64_RADIX_4K, PPC32_8XX])('$id (PTE_FRAG_NR 1) has no fragment cache', (config) => {
    const b = boot(config);
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const a1 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    expect(pteFragGet(b.mm)).toBeNull();
    expect(Math.floor(a0 / config.PAGE_SIZE)).not.toBe(Math.floor(a1 / config.PAGE_SIZE));
    expect(refs(b, a0)).toBe(1);
    expect(refs(b, a1)).toBe(1);
  });

  it('every fragment is its own table; the ptlock is the page ptdesc one, shared', () => {
    const b = boot(PPC64_HASH_64K);
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const a1 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const t0 = b.k.pt.get(a0);
    const t1 = b.k.pt.get(a1);
    if (!t0 || !t1) throw new Error('not registered');
    expect(t0.gen).not.toBe(t1.gen);
    expect([t0.entries, t0.mm, t0.state]).toEqual([256, b.mm, 'live']);
    expect(ptlOfTable(b.ctx, b.mm, t0)).toBe(ptlOfTable(b.ctx, b.mm, t1));
    expect(pageOf(b, a0).testFlag(PG.table)).toBe(true);
  });

  it('pt_frag_refcount lives in the index/pt_mm union word', () => {
    const b = boot(PPC64_HASH_64K);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const page = pageOf(b, pa);
    expect(page.index.holder).toBe('pt_frag_refcount');
    page.index.write('pt_mm', b.mm, null);
    expect(finding(() => b.a.fragRefcount(page))?.check).toBe('union-clobbered');
  });

  it('hash 64K: the second 2K of each fragment is hash-slot data, not ptes', () => {
    const b = boot(PPC64_HASH_64K);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    expect(b.k.mem.read(pa + 255 * 8).tag).toBe(Tag.zero);
    expect(b.k.mem.read(pa + 256 * 8).tag).toBe(Tag.aux);
    expect(b.k.mem.read(pa + 4096 + 256 * 8).tag).toBe(Tag.aux);
    expect(b.k.mem.read(pa + 4096).tag).toBe(Tag.zero);
  });

  it('kernel tables come from the same cache, without a ptlock, owned by no mm', () => {
    const b = boot(PPC64_RADIX_4K);
    const pa = run(b.a.pteAllocOneKernel(b.ctx, b.mm)) as number;
    expect(b.k.pt.get(pa)?.mm).toBeNull();
    expect(pageOf(b, pa).ptl).toBeNull();
    run(b.a.pteFreeKernel(b.ctx, b.mm, pa));
    expect(allocated(b, pa)).toBe(false);
  });
});

describe('pte_fragment_free(): refcount transitions', () => {
  it('a freed fragment is never handed out again', () => {
    const b = boot(PPC64_HASH_64K);
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const a1 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    run(b.a.pteFree(b.ctx, b.mm, a0));
    expect(refs(b, a0)).toBe(15);
    expect(b.k.pt.get(a0)?.state).toBe('free');
    expect(allocated(b, a0)).toBe(true);
    const a2 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    expect(a2).toBe(a1 + 4096);
  });

  it('the last reference frees the page at once when no fragment was deferred', () => {
    const b = boot(PPC64_HASH_64K);
    const pas = Array.from({ length: 16 }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    for (const pa of pas.slice(0, 15)) run(b.a.pteFree(b.ctx, b.mm, pa));
    expect(refs(b, pas[0] as number)).toBe(1);
    expect(allocated(b, pas[0] as number)).toBe(true);
    run(b.a.pteFree(b.ctx, b.mm, pas[15] as number));
    expect(allocated(b, pas[0] as number)).toBe(false);
    expect(b.k.rcu.queue.length).toBe(0);
  });

  it('freeing a fragment twice is a double free', () => {
    const b = boot(PPC64_HASH_64K);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    run(b.a.pteFree(b.ctx, b.mm, pa));
    const f = finding(() => run(b.a.pteFree(b.ctx, b.mm, pa)));
    expect(f?.check).toBe('double-free');
  });

  it('BUG_ON(pt_frag_refcount <= 0) fires on a page with no references left, and not otherwise', () => {
    const b = boot(PPC64_HASH_64K);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const page = pageOf(b, pa);
    b.a.setFragRefcount(b.ctx, page, 0);
    const f = finding(() => run(b.a.pteFree(b.ctx, b.mm, pa)));
    expect(f?.check).toBe('double-free');
    expect(f?.message).toContain('BUG_ON(pt_frag_refcount <= 0)');
    b.a.setFragRefcount(b.ctx, page, 16);
    expect(finding(() => run(b.a.pteFree(b.ctx, b.mm, pa)))).toBeNull();
  });

  it('touching the struct page of a freed table page is a use after free', () => {
    const b = boot(PPC64_RADIX_4K);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    run(b.a.pteFree(b.ctx, b.mm, pa));
    expect(finding(() => run(b.a.pteFree(b.ctx, b.mm, pa)))?.check).toBe('use-after-free');
  });
});

describe('pte_free_defer(): PageActive handling (v6.6)', () => {
  it('marks the page Active, drops the reference, and defers the table, without call_rcu while siblings live', () => {
    const b = boot(PPC64_HASH_64K);
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    const page = pageOf(b, a0);
    expect(page.testFlag(PG.active)).toBe(true);
    expect(refs(b, a0)).toBe(15);
    expect(b.k.pt.get(a0)?.state).toBe('deferred');
    expect(b.k.rcu.queue.length).toBe(0);
  });

  it('the last fragment of an Active page is freed by one call_rcu(), after a grace period', () => {
    const b = boot(PPC64_HASH_64K);
    const gp = rcuDriver(b.k);
    const pas = Array.from({ length: 16 }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    const first = pas[0] as number;
    run(b.a.pteFreeDefer(b.ctx, b.mm, pas[3] as number));
    run(b.a.pteFreeDefer(b.ctx, b.mm, pas[7] as number));
    for (const [i, pa] of pas.entries()) if (i !== 3 && i !== 7) run(b.a.pteFree(b.ctx, b.mm, pa));
    const page = pageOf(b, first);
    expect(refs(b, first)).toBe(0);
    expect(page.testFlag(PG.active)).toBe(false);
    expect(page.lru.holder).toBe('pt_rcu_head');
    expect(b.k.rcu.queue.map((c) => c.head.label)).toEqual([`pt_rcu_head of pfn ${page.pfn}`]);
    expect(allocated(b, first)).toBe(true);
    expect(b.k.pt.get(pas[3] as number)?.state).toBe('deferred');
    gp();
    expect(allocated(b, first)).toBe(false);
    expect(b.k.pt.get(pas[3] as number)?.state).toBe('free');
    expect(b.k.pt.get(pas[7] as number)?.state).toBe('free');
  });

  it('PTE_FRAG_NR 1: the deferred table page goes by call_rcu() at once', () => {
    const b = boot(PPC64_RADIX_4K);
    const gp = rcuDriver(b.k);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    run(b.a.pteFreeDefer(b.ctx, b.mm, pa));
    expect(allocated(b, pa)).toBe(true);
    expect(b.k.rcu.queue.length).toBe(1);
    gp();
    expect(b.k.rcu.invoked).toBe(1);
    expect(allocated(b, pa)).toBe(false);
  });

  it('the page rcu_head is never queued twice by deferrals of sibling fragments', () => {
    const b = boot(PPC64_RADIX_64K);
    const pas = Array.from({ length: 4 }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    for (const pa of pas) expect(finding(() => run(b.a.pteFreeDefer(b.ctx, b.mm, pa)))).toBeNull();
    expect(b.k.rcu.queue.length).toBe(0);
  });
});

describe('pte_frag_destroy() at __mmdrop()', () => {
  it('drops the references of fragments never handed out and frees the page when none is left', () => {
    const b = boot(PPC64_HASH_64K);
    const pas = Array.from({ length: 3 }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    for (const pa of pas) run(b.a.pteFree(b.ctx, b.mm, pa));
    expect(refs(b, pas[0] as number)).toBe(13);
    run(b.a.destroyContext(b.ctx, b.mm));
    expect(allocated(b, pas[0] as number)).toBe(false);
    expect(pteFragGet(b.mm)).toBeNull();
  });

  it('keeps the page while a handed-out fragment is still in use; its free ends it', () => {
    const b = boot(PPC64_RADIX_64K);
    const pas = Array.from({ length: 3 }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    run(b.a.pteFree(b.ctx, b.mm, pas[0] as number));
    run(b.a.pteFree(b.ctx, b.mm, pas[1] as number));
    run(b.a.destroyContext(b.ctx, b.mm));
    expect(refs(b, pas[2] as number)).toBe(1);
    expect(allocated(b, pas[2] as number)).toBe(true);
    run(b.a.pteFree(b.ctx, b.mm, pas[2] as number));
    expect(allocated(b, pas[2] as number)).toBe(false);
  });

  it('does nothing without a cached page, and an exhausted cache leaves nothing to drop', () => {
    const b = boot(PPC64_HASH_64K);
    expect(() => run(b.a.destroyContext(b.ctx, b.mm))).not.toThrow();
    const pas = Array.from({ length: 16 }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    run(b.a.destroyContext(b.ctx, b.mm));
    expect(refs(b, pas[0] as number)).toBe(16);
  });

  it('an over-released page is reported, not silently freed twice', () => {
    const b = boot(PPC64_HASH_64K);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    b.a.setFragRefcount(b.ctx, pageOf(b, pa), 2);
    const f = finding(() => run(b.a.destroyContext(b.ctx, b.mm)));
    expect(f?.check).toBe('double-free');
  });
});

describe('pte_frag_destroy() after pte_free_defer() of a fragment of the cache page (kernel finding)', () => {
  it.each([PPC64_HASH_64K, PPC64_RADIX_64K])(
    '$id v6.6: fragment 0 of a fresh cache page deferred, then __mmdrop: freed with PG_active, Bad page state',
    (config) => {
      const b = boot(config);
      const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
      // retract: pte_free_defer() marks the page Active and drops fragment 0's reference;
      // the cache still holds the other PTE_FRAG_NR - 1, so nothing is freed or queued yet.
      run(b.a.pteFreeDefer(b.ctx, b.mm, pa));
      expect(pageOf(b, pa).testFlag(PG.active)).toBe(true);
      expect(refs(b, pa)).toBe(b.a.PTE_FRAG_NR - 1);
      expect(b.k.rcu.queue.length).toBe(0);
      const f = finding(() => run(b.a.destroyContext(b.ctx, b.mm)));
      expect(f?.check).toBe('bad-page-state');
      expect(f?.message).toContain('flags:(active)');
      // bad_page(): the page is not freed.
      expect(allocated(b, pa)).toBe(true);
    },
  );

  it.each([PPC64_HASH_64K, PPC64_RADIX_64K])(
    '$id with the fix (folio_clear_active() in pte_frag_destroy()): the page is freed, no finding',
    (config) => {
      const b = boot(config, { variant: POWERPC_FRAG_DESTROY_CLEAR_ACTIVE });
      const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
      run(b.a.pteFreeDefer(b.ctx, b.mm, pa));
      expect(finding(() => run(b.a.destroyContext(b.ctx, b.mm)))).toBeNull();
      expect(allocated(b, pa)).toBe(false);
      expect(pageOf(b, pa).testFlag(PG.active)).toBe(false);
    },
  );

  it('a deferred fragment whose page still has a live fragment at exit goes through pte_fragment_free(): no finding', () => {
    const b = boot(PPC64_HASH_64K);
    const gp = rcuDriver(b.k);
    const [a0, a1] = [0, 1].map(() => run(b.a.pteAllocOne(b.ctx, b.mm)) as number) as [
      number,
      number,
    ];
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    expect(finding(() => run(b.a.destroyContext(b.ctx, b.mm)))).toBeNull();
    // The last reference is a1's; its free tests and clears PG_active and defers by RCU.
    expect(finding(() => run(b.a.pteFree(b.ctx, b.mm, a1)))).toBeNull();
    gp();
    expect(allocated(b, a0)).toBe(false);
  });
});

describe('mmu_gather: __pte_free_tlb() → tlb_remove_table() → __tlb_remove_table()', () => {
  it('a table torn down by free_pgtables() goes back through pte_fragment_free() after the batch grace period', () => {
    const b = boot(PPC64_RADIX_4K);
    const gp = rcuDriver(b.k);
    const pa = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const tlb = tlbGatherMmu(b.mm, true);
    run(b.a.pteFreeTlb(b.ctx, tlb, pa));
    expect(tlb.tables).toEqual([pa]);
    run(tlbFinishMmu(b.ctx, tlb));
    expect(allocated(b, pa)).toBe(true);
    gp();
    expect(allocated(b, pa)).toBe(false);
  });
});

describe('pt_frag_refcount: what a reference drop conflicts with (deps.ts)', () => {
  /** Run `gen` to its end, collecting the footprint of each step labelled like `label`. */
  function footprints(gen: KGen<unknown>, label: RegExp): { obj: number; write: boolean }[][] {
    const out: { obj: number; write: boolean }[][] = [];
    for (let r = gen.next(); !r.done; r = gen.next()) {
      const s = r.value;
      if (!label.test(stepLabel(s))) continue;
      out.push(stepFootprint(s).map((e) => ({ obj: Math.floor(e / 2), write: e % 2 === 1 })));
    }
    return out;
  }
  const drop = /atomic_dec_and_test\(pt_frag_refcount/;

  it("pte_free_defer()'s drop among live siblings writes the counter and only reads its table's status", () => {
    const b = boot(PPC64_HASH_64K);
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    run(b.a.pteAllocOne(b.ctx, b.mm));
    const pfn = Math.floor(a0 / 65536);
    const [fp] = footprints(b.a.pteFreeDefer(b.ctx, b.mm, a0), drop);
    expect(fp).toContainEqual({ obj: ptFragRefcountObj(pfn), write: true });
    expect(fp).toContainEqual({ obj: b.k.pt.statusOf({ pa: a0 }), write: false });
    expect(fp).toContainEqual({ obj: pageObj(pfn), write: false });
    expect(fp).not.toContainEqual({ obj: pageObj(pfn), write: true });
  });

  it("SetPageActive() writes the page's fields and its table's status, not the page or the table's life", () => {
    const b = boot(PPC64_HASH_64K);
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    const pfn = Math.floor(a0 / 65536);
    const [fp] = footprints(b.a.pteFreeDefer(b.ctx, b.mm, a0), /SetPageActive/);
    expect(fp).toContainEqual({ obj: pageFieldsObj(pfn), write: true });
    expect(fp).toContainEqual({ obj: b.k.pt.statusOf({ pa: a0 }), write: true });
    expect(fp).not.toContainEqual({ obj: b.k.pt.tableOf({ pa: a0 }), write: true });
    expect(fp).not.toContainEqual({ obj: pageObj(pfn), write: true });
  });

  it("an atomic_add_return() on the counter (v2's deferral accounting) writes the counter and reads only the page's life", () => {
    const b = boot(PPC64_HASH_64K, { variant: POWERPC_V2_REDEFER });
    const a0 = run(b.a.pteAllocOne(b.ctx, b.mm)) as number;
    run(b.a.pteAllocOne(b.ctx, b.mm));
    const pfn = Math.floor(a0 / 65536);
    const [fp] = footprints(b.a.pteFreeDefer(b.ctx, b.mm, a0), /atomic_add_return/);
    expect(fp).toContainEqual({ obj: ptFragRefcountObj(pfn), write: true });
    expect(fp).toContainEqual({ obj: pageLifeObj(pfn), write: false });
    expect(fp?.map((e) => e.obj)).not.toContain(pageObj(pfn));
  });

  it('a drop that ends a live table writes that table; the last reference writes the page', () => {
    const b = boot(PPC64_HASH_64K);
    const pas = Array.from({ length: 16 }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
    const pfn = Math.floor((pas[0] as number) / 65536);
    // pte_free(): the table's life ends with the drop.
    const [free] = footprints(b.a.pteFree(b.ctx, b.mm, pas[0] as number), drop);
    expect(free).toContainEqual({ obj: b.k.pt.tableOf({ pa: pas[0] as number }), write: true });
    expect(free).not.toContainEqual({ obj: pageObj(pfn), write: true });
    for (const pa of pas.slice(1, 15)) run(b.a.pteFreeDefer(b.ctx, b.mm, pa));
    // The page's last reference: TestClearPageActive and the free come with it.
    const [last] = footprints(b.a.pteFreeDefer(b.ctx, b.mm, pas[15] as number), drop);
    expect(last).toContainEqual({ obj: pageObj(pfn), write: true });
    expect(last).toContainEqual({ obj: ptFragRefcountObj(pfn), write: true });
  });
});
