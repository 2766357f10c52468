/**
 * madvise(MADV_DONTNEED) with empty PTE table reclaim — CONFIG_PT_RECLAIM,
 * v6.14 (Qi Zheng, "synchronously scan and reclaim empty user PTE pages"):
 * mm/madvise.c madvise_dontneed_single_vma() zaps with details->reclaim_pt;
 * mm/memory.c zap_pte_range() clears the ptes, then (the range covered a whole
 * PMD and nothing was skipped) either removes the now-empty table while still
 * holding its ptl (try_get_and_clear_pmd(): spin_trylock(pml), pmd_clear()),
 * or, if the pmd lock was busy, rechecks every pte under pml + ptl
 * (try_to_free_pte(), mm/pt_reclaim.c); the table then goes through the
 * mmu_gather: free_pte() → pte_free_tlb() → tlb_remove_table(), which
 * PT_RECLAIM makes RCU-deferred (it selects MMU_GATHER_RCU_TABLE_FREE), batch
 * or single table — so pte_offset_map() readers inside rcu_read_lock() stay
 * safe, and pte_offset_map_lock()'s pmd recheck sees the cleared pmd.
 *
 * Simplified: only a PMD-aligned, PMD-sized range of one vma; no swap entries,
 * uffd-wp markers or guard markers, so nothing is ever skipped (any_skipped);
 * need_resched() is false unless a scenario injects `zap-need-resched` (then
 * true once, after one PTE was zapped); no force_break; a zapped page's
 * reference is dropped at once rather than after the TLB flush.
 */
import {
  addMmCounter,
  bug,
  type Ctx,
  checkZappedEmpty,
  downRead,
  type KGen,
  MM_ANONPAGES,
  type Mm,
  type MmuGather,
  ModelError,
  mmCounterFile,
  mmDecNrPtes,
  type PmdPtr,
  type PmdVal,
  pmdClear,
  pmdLock,
  pmdLockptr,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pmdpGetLockless,
  pmdSize,
  pteOffsetMapLock,
  pteOffsetMapNolock,
  ptepGetAndClear,
  pteUnmap,
  pteUnmapUnlock,
  SINGLE_DEPTH_NESTING,
  scanPtes,
  spinLock,
  spinTrylock,
  spinUnlock,
  tlbFinishMmu,
  tlbGatherMmu,
  upRead,
  type Vma,
} from '@ptlab/core';
import { zapNullDeref } from './exit.js';
import { folioUnmapped } from './folio.js';
import { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from './mmu-notifier.js';
import {
  INJECT_ZAP_NEED_RESCHED,
  ZAP_MAP_CANNOT_FAIL,
  ZAP_RECLAIM_AFTER_RETRY,
} from './mutants.js';

const ENOMEM = 12;

/** struct zap_details, reduced to the PT_RECLAIM flag. */
interface ZapDetails {
  readonly reclaimPt: boolean;
}

/** reclaim_pt_is_enabled() — mm/pt_reclaim.c: a whole PMD-sized range, asked for, and CONFIG_PT_RECLAIM. */
function reclaimPtIsEnabled(ctx: Ctx, start: number, end: number, d: ZapDetails): boolean {
  return ctx.k.config.ptReclaim && d.reclaimPt && end - start >= pmdSize(ctx);
}

/**
 * try_get_and_clear_pmd() — mm/pt_reclaim.c (v6.14): called with the ptl
 * held; spin_trylock(pml) (the ptl nests inside pml, so only a trylock), read
 * the pmd, pmd_clear(). Returns the pmd value, or null if pml was busy.
 */
function* tryGetAndClearPmd(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<PmdVal | null> {
  const pml = pmdLockptr(ctx, mm, pmdp);
  if (!(yield* spinTrylock(ctx, pml))) return null;
  const pmdval = yield* pmdpGetLockless(ctx, pmdp);
  yield* pmdClear(ctx, mm, pmdp);
  yield* spinUnlock(ctx, pml);
  return pmdval;
}

/** free_pte() — mm/pt_reclaim.c: pte_free_tlb(tlb, pmd_pgtable(pmdval), addr); mm_dec_nr_ptes(). */
function* freePte(ctx: Ctx, mm: Mm, tlb: MmuGather, pmdval: PmdVal): KGen {
  const t = pmdval.table;
  if (!t)
    return bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: free_pte(): the cleared pmd 0x${pmdval.raw.toString(16)} pointed to no page table`,
    );
  tlb.freedTables = true;
  yield* ctx.call('pte_free_tlb', ctx.k.arch.pteFreeTlb(ctx, tlb, t.pa));
  mmDecNrPtes(ctx, mm);
}

/**
 * try_to_free_pte() — mm/pt_reclaim.c (v6.14): pml = pmd_lock();
 * pte_offset_map_rw_nolock() (NULL: nothing to free); ptl nested if distinct;
 * every one of the PTRS_PER_PTE entries must still be pte_none(); then
 * pte_unmap(), pmd_clear(), unlock, free_pte().
 */
function* tryToFreePte(ctx: Ctx, mm: Mm, pmdp: PmdPtr, addr: number, tlb: MmuGather): KGen {
  const a = ctx.k.arch;
  const pml = yield* pmdLock(ctx, mm, pmdp);
  const m = yield* pteOffsetMapNolock(ctx, mm, pmdp, addr);
  if (!m) {
    yield* spinUnlock(ctx, pml);
    return;
  }
  if (m.ptl !== pml) yield* spinLock(ctx, m.ptl, SINGLE_DEPTH_NESTING);
  const ptes = yield* scanPtes(ctx, m.pte.table, 'try_to_free_pte(): pte_none(ptep_get(pte))?');
  if (ptes.some((p) => !a.pteNone(p))) {
    // out_ptl: pte_unmap_unlock(start_pte, ptl); if (ptl != pml) spin_unlock(pml);
    yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
    if (m.ptl !== pml) yield* spinUnlock(ctx, pml);
    return;
  }
  yield* pteUnmap(ctx, m.pte);
  yield* pmdClear(ctx, mm, pmdp);
  if (m.ptl !== pml) yield* spinUnlock(ctx, m.ptl);
  yield* spinUnlock(ctx, pml);
  yield* ctx.call('free_pte', freePte(ctx, mm, tlb, m.pmdval));
}

/**
 * need_resched() in zap_pte_range() under INJECT_ZAP_NEED_RESCHED: true once
 * per CPU, after one PTE was zapped. Per CPU (as TIF_NEED_RESCHED is), so it
 * is no hidden dependency between tasks.
 */
function needResched(ctx: Ctx, zapped: number): boolean {
  const c = ctx.cpu;
  if (!ctx.k.injected(INJECT_ZAP_NEED_RESCHED) || zapped === 0 || c.reschedInjected) return false;
  c.reschedInjected = true;
  return true;
}

/**
 * zap_pte_range() — mm/memory.c (v6.14 with "mm: pgtable: fix incorrect
 * reclaim of non-empty PTE pages"): pte_offset_map_lock() (NULL: no progress,
 * zap_pmd_range() retries the pmd), clear every present pte of the range
 * (do_zap_pte_range(); the none ones are read in the same scan under the ptl)
 * — breaking off when need_resched(), dropping the ptl and retrying from
 * where it stopped — then, if no pass broke off (direct_reclaim), the
 * PT_RECLAIM fast path while the ptl is still held, unlock, and free the table
 * (fast) or try the slow path, which rechecks every pte. Returns how far it got.
 */
function* zapPteRange(
  ctx: Ctx,
  tlb: MmuGather,
  vma: Vma,
  pmdp: PmdPtr,
  start: number,
  end: number,
  d: ZapDetails,
): KGen<number> {
  const a = ctx.k.arch;
  const mm = vma.mm;
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  const canReclaimPt = reclaimPtIsEnabled(ctx, start, end, d);
  // The fix: true, and false once a pass drops the ptl midway. Before it: false, set only by
  // try_get_and_clear_pmd(), so a retry pass still took the fast path.
  const fixed = !ctx.k.has(ZAP_RECLAIM_AFTER_RETRY);
  let directReclaim = fixed;
  let cleared: PmdVal | null = null;
  let addr = start;
  let zapped = 0;
  for (;;) {
    // retry:
    const m = yield* pteOffsetMapLock(ctx, mm, pmdp, addr);
    if (!m && ctx.k.has(ZAP_MAP_CANNOT_FAIL)) zapNullDeref(ctx);
    if (!m) return addr;
    const now = yield* scanPtes(ctx, m.pte.table, 'zap_pte_range(): ptep_get()');
    const passStart = addr;
    let va = addr;
    for (; va < end; va += PAGE_SIZE) {
      if (needResched(ctx, zapped)) {
        if (fixed) directReclaim = false;
        break;
      }
      const ptep = {
        table: m.pte.table,
        index: Math.floor(va / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE,
      };
      if (a.pteNone(now[ptep.index] ?? a.pteEmpty)) continue;
      const old = yield* ptepGetAndClear(ctx, mm, ptep);
      zapped++;
      if (a.pteNone(old) || !a.ptePresent(old)) continue;
      const folio = ctx.k.folioOf(a.ptePfn(old));
      if (folio) {
        folioUnmapped(ctx, folio);
        // mm_counter(folio): an anonymous page (UFFDIO_COPY into a private vma) is MM_ANONPAGES.
        addMmCounter(mm, folio.mapping ? mmCounterFile(folio) : MM_ANONPAGES, -1);
      }
    }
    addr = va;
    // This pass zapped [passStart, end) under the ptl it still holds (oracle; last step: on the table).
    if (addr === end) {
      const i0 = Math.floor(passStart / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE;
      checkZappedEmpty(ctx, m.pte.table, i0, i0 + (end - passStart) / PAGE_SIZE);
    }
    // Fast path: try to hold the pmd lock and unmap the PTE page (still under the ptl).
    if (canReclaimPt && (directReclaim || !fixed) && addr === end) {
      cleared = yield* ctx.call('try_get_and_clear_pmd', tryGetAndClearPmd(ctx, mm, pmdp));
      directReclaim = cleared !== null;
    }
    yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
    if (addr === end) break;
    ctx.k.note(() => 'zap_pte_range(): need_resched(): ptl dropped, cond_resched(), retry');
  }
  if (canReclaimPt) {
    if (directReclaim && cleared) yield* ctx.call('free_pte', freePte(ctx, mm, tlb, cleared));
    else yield* ctx.call('try_to_free_pte', tryToFreePte(ctx, mm, pmdp, start, tlb));
  }
  return end;
}

/**
 * zap_huge_pmd() — mm/huge_memory.c (v6.14): __pmd_trans_huge_lock() takes
 * pmd_lock() and rechecks is_swap_pmd() || pmd_trans_huge() || pmd_devmap()
 * under it; if the pmd changed since zap_pmd_range()'s lockless read (another
 * zap took the huge pmd, and a fault may have put a PTE table there since), it
 * unlocks and returns 0, and zap_pmd_range() falls through to the pmd_none() /
 * zap_pte_range() arms. Else pmdp_huge_get_and_clear_full(), rmap and rss.
 */
function* zapHugePmd(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<boolean> {
  const a = ctx.k.arch;
  const pml = yield* pmdLock(ctx, mm, pmdp);
  if (!a.pmdTransHuge((yield* pmdpGet(ctx, pmdp)).raw)) {
    yield* spinUnlock(ctx, pml);
    return false;
  }
  const old = yield* pmdpGetAndClear(ctx, mm, pmdp); // pmdp_huge_get_and_clear_full(): huge, as rechecked
  const folio = ctx.k.folioOf(a.ptePfn(old.raw));
  if (folio) {
    folioUnmapped(ctx, folio);
    addMmCounter(mm, mmCounterFile(folio), -folio.nrPages);
  }
  yield* spinUnlock(ctx, pml);
  return true;
}

/** Bound on zap_pmd_range()'s "retry this pmd" loop (addr != next → pmd--). */
const MAX_PMD_RETRIES = 8;

/**
 * zap_pmd_range() — mm/memory.c (v6.14), for a PMD-aligned range: a huge pmd
 * covering the whole extent → zap_huge_pmd(); none → skip; else
 * zap_pte_range(), retrying the pmd while it made no progress.
 */
function* zapPmdRange(
  ctx: Ctx,
  tlb: MmuGather,
  vma: Vma,
  start: number,
  end: number,
  d: ZapDetails,
): KGen {
  const a = ctx.k.arch;
  const mm = vma.mm;
  const PMD_SIZE = pmdSize(ctx);
  for (let addr = start; addr < end; ) {
    const next = Math.min(addr - (addr % PMD_SIZE) + PMD_SIZE, end);
    const pmdp = pmdOffset(ctx, mm, addr);
    let done = false;
    for (let i = 0; i < MAX_PMD_RETRIES && !done; i++) {
      const pmdval = yield* pmdpGet(ctx, pmdp);
      if (a.pmdTransHuge(pmdval.raw)) {
        if (next - addr !== PMD_SIZE)
          throw new ModelError(
            'mm/pt-reclaim',
            'zap_pmd_range(): splitting a huge pmd for a partial zap is not modelled',
          );
        // zap_huge_pmd() returned 0 (no longer huge under pmd_lock): fall through to the
        // pmd_none() / zap_pte_range() arms with a fresh read, as the retry does.
        done = yield* ctx.call('zap_huge_pmd', zapHugePmd(ctx, mm, pmdp));
      } else if (a.pmdNone(pmdval.raw)) {
        done = true;
      } else {
        done =
          (yield* ctx.call('zap_pte_range', zapPteRange(ctx, tlb, vma, pmdp, addr, next, d))) ===
          next;
      }
    }
    if (!done)
      throw new ModelError(
        'mm/pt-reclaim',
        `zap_pmd_range(): no progress on pmd ${pmdp.index} after ${MAX_PMD_RETRIES} retries (livelock)`,
      );
    addr = next;
  }
}

/**
 * madvise(addr, PMD_SIZE, MADV_DONTNEED) — mm/madvise.c (v6.14):
 * mmap_read_lock(); madvise_dontneed_single_vma() → zap_page_range_single(vma,
 * start, size, &details{.reclaim_pt = true}): tlb_gather_mmu(),
 * mmu_notifier_invalidate_range_start(), unmap_single_vma() → zap_pmd_range(),
 * mmu_notifier_invalidate_range_end(), tlb_finish_mmu(). 0 or -ENOMEM.
 */
export function* madviseDontneed(ctx: Ctx, mm: Mm, start: number): KGen<number> {
  return yield* ctx.call('madvise_dontneed_single_vma', madviseDontneedBody(ctx, mm, start));
}

/** The body of madviseDontneed(). */
function* madviseDontneedBody(ctx: Ctx, mm: Mm, start: number): KGen<number> {
  yield* downRead(ctx, mm.mmapLock);
  const vma = mm.vmaAt(start);
  if (!vma) {
    yield* upRead(ctx, mm.mmapLock);
    return -ENOMEM;
  }
  const end = Math.min(vma.end, start + pmdSize(ctx));
  yield* ctx.call('zap_page_range_single', zapPageRangeSingle(ctx, mm, vma, start, end));
  yield* upRead(ctx, mm.mmapLock);
  return 0;
}

/** zap_page_range_single() — mm/memory.c (v6.14), with details.reclaim_pt. */
function* zapPageRangeSingle(ctx: Ctx, mm: Mm, vma: Vma, start: number, end: number): KGen {
  const tlb = tlbGatherMmu(mm, false);
  yield* mmuNotifierInvalidateRangeStart(ctx, mm, start, end);
  yield* ctx.call('zap_pmd_range', zapPmdRange(ctx, tlb, vma, start, end, { reclaimPt: true }));
  yield* mmuNotifierInvalidateRangeEnd(ctx, mm, start, end);
  yield* tlbFinishMmu(ctx, tlb);
}
