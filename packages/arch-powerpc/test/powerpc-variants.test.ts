import { describe, expect, it } from 'vitest';
import {
  PTE_FREE_DEFERRED as D,
  POWERPC_ALWAYS_RCU,
  POWERPC_V1_SHARED_RCU_HEAD,
  POWERPC_V2_REDEFER,
  POWERPC_VARIANTS,
  type PowerpcArch,
  PPC64_HASH_64K,
  PPC64_RADIX_64K,
  powerpc,
} from '../src/index.js';
import { allocated, boot, finding, rcuDriver, refs, run, step } from './helpers.js';

function fragments(b: ReturnType<typeof boot>, n: number): number[] {
  return Array.from({ length: n }, () => run(b.a.pteAllocOne(b.ctx, b.mm)) as number);
}

describe('variant catalogue', () => {
  it('every variant names its seed, applies to real configs, and has an implementation', () => {
    const ids = new Set(powerpc.configs.map((c) => c.id));
    for (const v of POWERPC_VARIANTS) {
      expect(v.seed).toMatch(/^(seeds\/00[0-4]|upstream ")/);
      for (const c of v.configs) expect(ids.has(c)).toBe(true);
      for (const c of powerpc.configs)
        expect((powerpc.create(c, v.id) as PowerpcArch).variant).toBe(v.id);
    }
    expect(POWERPC_VARIANTS.find((v) => v.id === POWERPC_V1_SHARED_RCU_HEAD)?.expect).toBe(
      'caught',
    );
  });
});

describe(`${POWERPC_V1_SHARED_RCU_HEAD}: call_rcu() per fragment on the page's one rcu_head`, () => {
  it('two sibling tables deferred within one grace period queue the same rcu_head twice', () => {
    const b = boot(PPC64_RADIX_64K, { variant: POWERPC_V1_SHARED_RCU_HEAD });
    const [a0, a1] = fragments(b, 2) as [number, number];
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    const f = finding(() => run(b.a.pteFreeDefer(b.ctx, b.mm, a1)));
    expect(f?.check).toBe('rcu-head-reused');
    expect(f?.message).toContain('pt_rcu_head of pfn');
  });

  it('deferrals a grace period apart are harmless', () => {
    const b = boot(PPC64_RADIX_64K, { variant: POWERPC_V1_SHARED_RCU_HEAD });
    const gp = rcuDriver(b.k);
    const [a0, a1] = fragments(b, 2) as [number, number];
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    expect(b.k.pt.get(a0)?.state).toBe('deferred');
    gp();
    expect(refs(b, a0)).toBe(255);
    expect(finding(() => run(b.a.pteFreeDefer(b.ctx, b.mm, a1)))).toBeNull();
    gp();
    expect(refs(b, a0)).toBe(254);
  });
});

describe(`${POWERPC_V2_REDEFER}: heightened refcount and re-deferral`, () => {
  it('counts deferrals in pt_frag_refcount, one call_rcu at a time, one re-deferral for late arrivals', () => {
    const b = boot(PPC64_HASH_64K, { variant: POWERPC_V2_REDEFER });
    const gp = rcuDriver(b.k);
    const pas = fragments(b, 16);
    const [a0, a1] = pas as [number, number];
    for (const pa of pas.slice(2)) run(b.a.pteFree(b.ctx, b.mm, pa));
    expect(refs(b, a0)).toBe(2);
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    expect(refs(b, a0)).toBe(2 + D - 1);
    expect(b.k.rcu.queue.length).toBe(1);
    run(b.a.pteFreeDefer(b.ctx, b.mm, a1));
    expect(refs(b, a0)).toBe(2 + 2 * D - 2);
    expect(b.k.rcu.queue.length).toBe(1);
    // First grace period: a1's deferral arrived during it, so pte_free_now() re-defers once.
    const rcu = b.k.daemons.find((t) => t.name === 'rcu');
    if (!rcu) throw new Error('no rcu daemon');
    do step(b.k, rcu);
    while (!(b.k.rcu.invoked === 1 && b.k.rcu.queue.length === 1));
    expect(refs(b, a0)).toBe(D);
    expect(allocated(b, a0)).toBe(true);
    gp();
    expect(b.k.rcu.invoked).toBe(2);
    expect(allocated(b, a0)).toBe(false);
    expect(b.k.pt.get(a0)?.state).toBe('free');
    expect(b.k.pt.get(a1)?.state).toBe('free');
  });

  it('a deferral arriving after the grace period gets its own call_rcu', () => {
    const b = boot(PPC64_RADIX_64K, { variant: POWERPC_V2_REDEFER });
    const gp = rcuDriver(b.k);
    const [a0, a1] = fragments(b, 2) as [number, number];
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    gp();
    expect(refs(b, a0)).toBe(255);
    run(b.a.pteFreeDefer(b.ctx, b.mm, a1));
    expect(b.k.rcu.queue.length).toBe(1);
    gp();
    expect(refs(b, a0)).toBe(254);
    expect(b.k.rcu.invoked).toBe(2);
  });
});

describe(`${POWERPC_ALWAYS_RCU}: every page-table page is freed by RCU`, () => {
  it('the last pte_free() queues pgtable_free_cb on the page rcu_head; the page survives until it runs', () => {
    const b = boot(PPC64_HASH_64K, { variant: POWERPC_ALWAYS_RCU });
    const gp = rcuDriver(b.k);
    const pas = fragments(b, 16);
    for (const pa of pas) run(b.a.pteFree(b.ctx, b.mm, pa));
    expect(b.k.pt.get(pas[0] as number)?.state).toBe('deferred');
    expect(b.k.rcu.queue.map((c) => c.fnName)).toEqual(['pgtable_free_cb']);
    expect(allocated(b, pas[0] as number)).toBe(true);
    gp();
    expect(allocated(b, pas[0] as number)).toBe(false);
    expect(b.k.pt.get(pas[15] as number)?.state).toBe('free');
  });

  it('pte_free_defer() is plain pte_fragment_free(); kernel tables use pgtable_free_cb_kernel', () => {
    const b = boot(PPC64_RADIX_64K, { variant: POWERPC_ALWAYS_RCU });
    const [a0] = fragments(b, 1) as [number];
    run(b.a.pteFreeDefer(b.ctx, b.mm, a0));
    expect(refs(b, a0)).toBe(255);
    expect(b.k.rcu.queue.length).toBe(0);
    const k = boot(PPC64_RADIX_64K, { variant: POWERPC_ALWAYS_RCU });
    const kpa = run(k.a.pteAllocOneKernel(k.ctx, k.mm)) as number;
    run(k.a.destroyContext(k.ctx, k.mm));
    run(k.a.pteFreeKernel(k.ctx, k.mm, kpa));
    expect(k.k.rcu.queue.map((c) => c.fnName)).toEqual(['pgtable_free_cb_kernel']);
  });
});
