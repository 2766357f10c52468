import type { Ctx } from './context.js';
import type { Cpu } from './cpu.js';
import type { FootprintEntry } from './deps.js';
import { smpCallFunction } from './irq.js';
import type { Mm } from './mm.js';
import type { PageMeta } from './page.js';
import { allocPage, freePage } from './page-alloc.js';
import { callRcu, memRcuHead } from './rcu.js';
import type { KGen } from './step.js';

function dropRange(cpu: Cpu, mm: Mm, start: number, end: number): void {
  for (const [key, e] of cpu.tlb)
    if (e.mm === mm && e.vaddr >= start && e.vaddr < end) cpu.tlb.delete(key);
}

/**
 * flush_tlb_range()/flush_tlb_mm_range() — arch/x86/mm/tlb.c and friends.
 * Where the arch flushes remote TLBs by IPI (x86 native), the flush waits for
 * every CPU in mm_cpumask to take the interrupt, so it also waits out their
 * IRQ-disabled walkers (gup_fast). Where it broadcasts (s390 IDTE, arm64 TLBI,
 * paravirt hypercalls), nobody is interrupted.
 */
export function flushTlbRange(ctx: Ctx, mm: Mm, start: number, end: number): KGen {
  return ctx.call('flush_tlb_range', flushTlbRangeBody(ctx, mm, start, end));
}

// Named generator functions, not `(function* () {...})()` closures (pgtable.ts says why).
function* flushTlbRangeBody(ctx: Ctx, mm: Mm, start: number, end: number): KGen {
  if (ctx.k.config.tlbFlushIpi) {
    // The local flush runs in the IPI step too (smp_call_function_many() with the local CPU).
    yield* smpCallFunction(
      ctx,
      [...mm.cpumask],
      'flush_tlb_func',
      (c) => dropRange(c, mm, start, end),
      true,
    );
  } else {
    const fp: FootprintEntry[] = ctx.k.cpus.map((c) => c.tlbObj);
    yield ctx.step('broadcast TLB invalidate', fp);
    for (const c of ctx.k.cpus) dropRange(c, mm, start, end);
  }
}

/** flush_tlb_mm() */
export function* flushTlbMm(ctx: Ctx, mm: Mm): KGen {
  yield* flushTlbRange(ctx, mm, 0, Number.MAX_SAFE_INTEGER);
}

/** struct mmu_gather — include/asm-generic/tlb.h */
export interface MmuGather {
  readonly mm: Mm;
  readonly fullmm: boolean;
  /** Tables batched by tlb_remove_table() (MMU_GATHER_TABLE_FREE). */
  readonly tables: number[];
  /** Tables (or pages) to free after the TLB flush without RCU (tlb_remove_page()). */
  readonly pages: number[];
  /** The page holding struct mmu_table_batch (its rcu_head, nr, tables[]), once allocated. */
  batch: PageMeta | null;
  freedTables: boolean;
}

/** tlb_gather_mmu() — mm/mmu_gather.c */
export function tlbGatherMmu(mm: Mm, fullmm: boolean): MmuGather {
  return { mm, fullmm, tables: [], pages: [], batch: null, freedTables: false };
}

/** Fault injection name: the batch page for tlb_remove_table() cannot be allocated. */
export const INJECT_TLB_BATCH_NOMEM = 'tlb-batch-nomem';

/**
 * tlb_remove_table() — mm/mmu_gather.c. With MMU_GATHER_RCU_TABLE_FREE the
 * table goes into an RCU-freed batch; if the batch page cannot be allocated,
 * tlb_remove_table_one() frees it alone (arch decides how: "semi RCU" IPI +
 * immediate free before v6.14, call_rcu on pt_rcu_head with PT_RECLAIM).
 * Without it, the table is freed like a data page after the TLB flush.
 */
export function* tlbRemoveTable(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
  tlb.freedTables = true;
  if (!ctx.k.config.rcuTableFree) {
    tlb.pages.push(pa);
    return;
  }
  if (!tlb.batch) {
    // __get_free_page(GFP_NOWAIT | __GFP_NOWARN); on failure the table is freed on its own.
    if (ctx.k.injected(INJECT_TLB_BATCH_NOMEM)) {
      yield* ctx.call('tlb_remove_table_one', ctx.k.arch.tlbRemoveTableOne(ctx, pa));
      return;
    }
    tlb.batch = yield* allocPage(ctx, 'mmu_table_batch');
  }
  tlb.tables.push(pa);
}

/**
 * tlb_finish_mmu() — mm/mmu_gather.c: flush the TLB, then free what was
 * gathered. The batch of tables is freed after a grace period
 * (tlb_remove_table_free() → call_rcu(&batch->rcu, tlb_remove_table_rcu));
 * its rcu_head is the first field of the batch page.
 */
export function tlbFinishMmu(ctx: Ctx, tlb: MmuGather): KGen {
  return ctx.call('tlb_finish_mmu', tlbFinishMmuBody(ctx, tlb));
}

function* tlbFinishMmuBody(ctx: Ctx, tlb: MmuGather): KGen {
  yield* flushTlbRange(ctx, tlb.mm, 0, Number.MAX_SAFE_INTEGER);
  const arch = ctx.k.arch;
  const batchPage = tlb.batch;
  if (batchPage) {
    const batch = tlb.tables.splice(0);
    tlb.batch = null;
    const pa = batchPage.pfn * ctx.k.config.PAGE_SIZE;
    const head = memRcuHead(pa, `rcu_head of mmu_table_batch at pfn ${batchPage.pfn}`);
    const pfn = batchPage.pfn;
    yield* callRcu(ctx, head, 'tlb_remove_table_rcu', (c) =>
      tlbRemoveTableRcu(c, arch, batch, pfn),
    );
  }
  for (const pa of tlb.pages.splice(0))
    yield* ctx.call('__tlb_remove_table', arch.tlbRemoveTableFree(ctx, pa));
}

/** tlb_remove_table_rcu() — mm/mmu_gather.c: free the batch's tables, then the batch page. */
function* tlbRemoveTableRcu(
  c: Ctx,
  arch: Ctx['k']['arch'],
  batch: readonly number[],
  batchPfn: number,
): KGen {
  for (const t of batch) yield* c.call('__tlb_remove_table', arch.tlbRemoveTableFree(c, t));
  yield* freePage(c, batchPfn);
}
