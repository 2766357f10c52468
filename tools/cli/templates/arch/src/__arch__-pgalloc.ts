/**
 * How __arch__ frees PTE tables: asm/pgalloc.h and asm/tlb.h. As generated,
 * these are the kernel's generic versions for one PTE table per page
 * (mm/pgtable-generic.c, mm/mmu_gather.c); GenericArch gives the rest
 * (pte_alloc_one(), pte_free(), __pte_free_tlb(), __tlb_remove_table()).
 * Replace what your arch defines itself.
 *
 * Every effect on shared state comes after a `yield ctx.step(what, footprint)`
 * naming what it touches (ctx.k.pt.pageOf({ pa }) for a table's page), and
 * the model is told about each table: ctx.k.pt.deferred() when its free is
 * deferred, ctx.k.pt.released() when its memory may be reused.
 */
import {
  type Ctx,
  callRcu,
  type GenericArch,
  type KGen,
  type Mm,
  pageRcuHead,
  tlbRemoveTableSyncOne,
} from '@ptlab/core';
import { FREE_DEFER_AT_ONCE } from './__arch__-variants.js';

/**
 * pte_free_defer() — mm/pgtable-generic.c: free a table khugepaged retracted
 * once an RCU grace period has passed, from an RCU callback (softirq, so the
 * callback may not sleep). The rcu_head is the one in the table's struct page
 * (pt_rcu_head, which shares its storage with pt_list and lru).
 */
export function* pteFreeDefer(arch: GenericArch, ctx: Ctx, _mm: Mm, pa: number): KGen {
  const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
  if (arch.variant === FREE_DEFER_AT_ONCE) {
    yield* arch.pteFree(ctx, null, pa);
    return;
  }
  yield ctx.step(() => `pte_free_defer(pfn ${pfn})`, ctx.k.pt.pageOf({ pa }));
  const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_defer()');
  ctx.k.pt.deferred(ctx, pa);
  yield* callRcu(ctx, pageRcuHead(page), 'pte_free_now', (c) => arch.pteFree(c, null, pa));
}

/**
 * tlb_remove_table_one() — mm/mmu_gather.c: free one table when no batch page
 * could be had. Before v6.14 (and without CONFIG_PT_RECLAIM): IPI every CPU,
 * then free at once, which only IRQ-disabled walkers wait for. With
 * CONFIG_PT_RECLAIM: call_rcu() on the table's pt_rcu_head. If your tables
 * share a page (tablesPerPage > 1), that rcu_head is shared too: override this
 * as your pte_free_defer() does, or two tables of one page queue one rcu_head
 * (the rcu-head-reused finding).
 */
export function* tlbRemoveTableOne(arch: GenericArch, ctx: Ctx, pa: number): KGen {
  if (ctx.k.config.ptReclaim) {
    const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
    yield ctx.step(() => `__tlb_remove_table_one(pfn ${pfn})`, ctx.k.pt.pageOf({ pa }), 'r');
    const page = ctx.k.pages.meta(ctx, pfn, 'tlb_remove_table_one()');
    yield* callRcu(ctx, pageRcuHead(page), '__tlb_remove_table_one_rcu', (c) =>
      arch.tlbRemoveTableFree(c, pa),
    );
    return;
  }
  yield* tlbRemoveTableSyncOne(ctx);
  yield* arch.tlbRemoveTableFree(ctx, pa);
}
