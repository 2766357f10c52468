/**
 * hmm_range_fault() snapshotting a range without faulting — mm/hmm.c (v6.6):
 * a device driver's thread (not running the mm, so not in its mm_cpumask)
 * holds mmap_read_lock() and walks the CPU page tables with
 * walk_page_range(): hmm_vma_walk_pmd() reads the pmd with
 * pmdp_get_lockless(), then maps the PTE table with pte_offset_map() — under
 * rcu_read_lock() with interrupts enabled — and reads each pte with
 * ptep_get() (hmm_vma_handle_pte()) before pte_unmap(). A pte_offset_map()
 * failure ("if (!ptep) goto again") re-reads the pmd.
 *
 * Simplified: no mmu_interval_notifier sequence check (the driver would retry
 * the whole snapshot when invalidated), no device-private entries, no faulting
 * (HMM_PFN_REQ_FAULT unset: a none pte just reads as no pfn).
 */
import {
  bug,
  type Ctx,
  downRead,
  type KGen,
  type Mm,
  pmdOffset,
  pmdpGetLockless,
  pteOffsetMap,
  ptepGet,
  pteUnmap,
  upRead,
} from '@ptlab/core';
import { HMM_MAP_CANNOT_FAIL } from './mutants.js';

/** Bound on hmm_vma_walk_pmd()'s "goto again" (pte_offset_map() failed, or the huge pmd went away). */
const MAX_AGAIN = 4;

/**
 * hmm_vma_walk_pmd() — mm/hmm.c: the pfns of `npages` pages from `addr`
 * (within one pmd), 0 for a page not mapped.
 */
function* hmmVmaWalkPmd(ctx: Ctx, mm: Mm, addr: number, npages: number): KGen<number[]> {
  const a = ctx.k.arch;
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  const pmdp = pmdOffset(ctx, mm, addr);
  for (let again = 0; again < MAX_AGAIN; again++) {
    const pmd = yield* pmdpGetLockless(ctx, pmdp);
    // hmm_vma_walk_hole(): nothing mapped
    if (a.pmdNone(pmd.raw) || !a.pmdPresent(pmd.raw)) return new Array<number>(npages).fill(0);
    if (a.pmdTransHuge(pmd.raw)) {
      // "just read pmd value and check again it's a transparent huge"
      const again2 = yield* pmdpGetLockless(ctx, pmdp);
      if (!a.pmdTransHuge(again2.raw)) continue;
      const pfn = a.ptePfn(again2.raw);
      return Array.from(
        { length: npages },
        (_, i) => pfn + (Math.floor(addr / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE) + i,
      );
    }
    if (a.pmdBad(pmd.raw)) return new Array<number>(npages).fill(0);
    const ptep = yield* pteOffsetMap(ctx, pmdp, addr);
    if (!ptep && ctx.k.has(HMM_MAP_CANNOT_FAIL))
      bug(
        'kernel-bug',
        `${ctx.cpu.name} ${ctx.fn}: Unable to handle kernel NULL pointer dereference: pte_offset_map() found no table (it re-reads *pmd, checked as a table pointer just before) and hmm_vma_handle_pte() reads *ptep`,
      );
    if (!ptep) continue;
    const out: number[] = [];
    for (let i = 0; i < npages; i++) {
      // hmm_vma_handle_pte(): pte = ptep_get(ptep)
      const pte = yield* ptepGet(
        ctx,
        { table: ptep.table, index: ptep.index + i },
        'hmm_vma_handle_pte(): ptep_get()',
      );
      out.push(!a.pteNone(pte) && a.ptePresent(pte) ? a.ptePfn(pte) : 0);
    }
    yield* pteUnmap(ctx, ptep);
    return out;
  }
  return new Array<number>(npages).fill(0);
}

/**
 * hmm_range_fault() over `npages` pages at `addr` — mm/hmm.c, with the
 * caller's mmap_read_lock() (Documentation/mm/hmm.rst). Returns the pfns.
 */
export function* hmmRangeFault(ctx: Ctx, mm: Mm, addr: number, npages = 2): KGen<number[]> {
  return yield* ctx.call('hmm_range_fault', hmmRangeFaultBody(ctx, mm, addr, npages));
}

/** hmmRangeFault()'s body: the walk under mmap_read_lock(). */
function* hmmRangeFaultBody(ctx: Ctx, mm: Mm, addr: number, npages: number): KGen<number[]> {
  yield* downRead(ctx, mm.mmapLock);
  const pfns = yield* ctx.call('hmm_vma_walk_pmd', hmmVmaWalkPmd(ctx, mm, addr, npages));
  yield* upRead(ctx, mm.mmapLock);
  return pfns;
}
