/**
 * collapse_pte_mapped_thp() — mm/khugepaged.c, v6.6 ("[PATCH v3 10/13]
 * mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()", its fix and
 * fix2, and a98460494b16 "mm/khugepaged: fix collapse_pte_mapped_thp() versus
 * uffd"), with the historical versions the seeds show to be wrong switched on
 * by mutant id:
 *  - collapse-before-uffd-fix: no early pmd_lock() for a private uffd-armed VMA;
 *  - collapse-uffd-fix-v2-trylock: the trylock v2 of that fix, whose nr_ptes
 *    reset skips flush_tlb_mm() when the recheck pass aborts;
 *  - collapse-pte-clear: pte_clear() instead of ptep_clear().
 *
 * Each loop over the HPAGE_PMD_NR PTEs runs under the table's ptl, which every
 * PTE writer must hold too: the model reads the whole table in one step and
 * then clears the present entries one step each.
 */
import {
  type AddressSpace,
  addMmCounter,
  assertEffectWrites,
  bug,
  COLLAPSE_RECHECK_PMD_ONE_LOCK,
  type Ctx,
  downWrite,
  type Folio,
  flushTlbMm,
  type KGen,
  kernelAtLeast,
  type Mm,
  mmCounterFile,
  mmDecNrPtes,
  type PmdPtr,
  type PmdVal,
  type PtePtr,
  pageTableCheckPteClearRange,
  pmdLock,
  pmdLockptr,
  pmdpCollapseFlush,
  pmdpGetLockless,
  pmdpGetLocklessSync,
  pmdSize,
  pteClear,
  pteOffsetMap,
  pteOffsetMapLock,
  pteOffsetMapNolock,
  ptepGetAndClear,
  pteUnmap,
  pteUnmapUnlock,
  rd,
  SINGLE_DEPTH_NESTING,
  type SpinLock,
  scanPtes,
  spinLock,
  spinTrylock,
  spinUnlock,
  upWrite,
  type Vma,
} from '@ptlab/core';
import { doSetPmd } from './fault.js';
import { folioPut } from './folio.js';
import { findPmdOrThpOrNone, type ScanResult } from './khugepaged.js';
import { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from './mmu-notifier.js';
import {
  COLLAPSE_BEFORE_UFFD_FIX,
  COLLAPSE_PTE_CLEAR,
  COLLAPSE_UFFD_FIX_V2_TRYLOCK,
  COLLAPSE_WITHOUT_LOCKLESS_SYNC,
} from './mutants.js';

/** filemap_lock_folio() — mm/filemap.c: find the folio, take a reference, lock it, recheck it is still there. */
export function* filemapLockFolio(
  ctx: Ctx,
  mapping: AddressSpace,
  index: number,
): KGen<Folio | null> {
  for (;;) {
    // filemap_get_entry() + folio_try_get(): the reference is taken in the same step.
    yield ctx.stepDynamic(
      () => `filemap_get_entry(${mapping.id}, ${index})`,
      () => {
        const f = mapping.folioAt(index);
        return f ? [rd(mapping.pageCacheObj), f.refsObj] : rd(mapping.pageCacheObj);
      },
    );
    const folio = mapping.folioAt(index);
    if (!folio) return null;
    assertEffectWrites(ctx, folio.refsObj, 'folio_try_get()');
    folio.refcount++; // folio_try_get(): the page cache holds a reference, so this cannot fail
    yield* downWrite(ctx, folio.lock);
    yield ctx.step(() => `recheck ${folio.id} still in ${mapping.id}`, mapping.pageCacheObj, 'r');
    if (mapping.folioAt(index) === folio) return folio;
    // Truncated while we waited for the lock: drop it and look again.
    yield* upWrite(ctx, folio.lock);
    yield* folioPut(ctx, folio);
  }
}

/** set_huge_pmd() — mm/khugepaged.c: do_set_pmd() with the folio locked and mmap_lock held. */
function* setHugePmd(
  ctx: Ctx,
  vma: Vma,
  haddr: number,
  pmdp: PmdPtr,
  folio: Folio,
): KGen<ScanResult> {
  // do_set_pmd() here also takes the reference set_huge_pmd()'s get_page() takes.
  const r = yield* ctx.call('set_huge_pmd', doSetPmd(ctx, vma, haddr, pmdp, folio));
  return r === 0 ? 'SCAN_SUCCEED' : 'SCAN_FAIL';
}

/**
 * collapse_pte_mapped_thp(mm, addr, install_pmd) — mm/khugepaged.c: if every
 * present PTE of the PMD range maps the matching subpage of the page-cache THP,
 * clear them, remove the table (pte_free_defer()), and optionally map the THP
 * with a huge pmd. Caller holds mmap_read_lock().
 */
export function* collapsePteMappedThp(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  installPmd: boolean,
): KGen<ScanResult> {
  return yield* ctx.call('collapse_pte_mapped_thp', collapse(ctx, mm, addr, installPmd));
}

function* collapse(ctx: Ctx, mm: Mm, addr: number, installPmd: boolean): KGen<ScanResult> {
  const c = ctx.k.config;
  const PMD_SIZE = pmdSize(ctx);
  const haddr = addr - (addr % PMD_SIZE);
  // mmap_assert_locked(mm)
  if (!mm.mmapLock.readers.has(ctx.cpu) && mm.mmapLock.writer !== ctx.cpu)
    bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: mmap_assert_locked(): mmap_lock of ${mm.id} not held`,
    );

  // First check VMA found, in case page tables are being torn down.
  const vma = mm.vmaAt(haddr);
  if (!vma?.file || haddr < vma.start || haddr + PMD_SIZE > vma.end) return 'SCAN_VMA_CHECK';

  // Fast check before locking page if already PMD-mapped.
  let found = yield* findPmdOrThpOrNone(ctx, mm, haddr);
  if (found.result === 'SCAN_PMD_MAPPED') return found.result;

  // thp_vma_allowable_order(): a file VMA of a config with THP.
  if (!c.thp) return 'SCAN_VMA_CHECK';
  // Keep pmd pgtable for uffd-wp; see comment in retract_page_tables().
  if (vma.flags.uffdWp) return 'SCAN_PTE_UFFD_WP';

  const index = vma.pgoff + Math.floor((haddr - vma.start) / c.PAGE_SIZE); // linear_page_index()
  const folio = yield* ctx.call('filemap_lock_folio', filemapLockFolio(ctx, vma.file, index));
  if (!folio) return 'SCAN_PAGE_NULL';

  let result: ScanResult;
  if (folio.nrPages !== c.PTRS_PER_PTE || folio.index !== index) {
    result = 'SCAN_PAGE_COMPOUND';
  } else {
    found = yield* findPmdOrThpOrNone(ctx, mm, haddr);
    if (found.result === 'SCAN_SUCCEED')
      result = yield* collapseTable(ctx, vma, haddr, found.pmdp, folio, installPmd);
    else if (found.result === 'SCAN_PMD_NONE')
      // All pte entries have been removed and pmd cleared: just update the pmd mapping.
      result = installPmd ? yield* setHugePmd(ctx, vma, haddr, found.pmdp, folio) : 'SCAN_SUCCEED';
    else result = found.result;
  }
  // drop_folio:
  yield* upWrite(ctx, folio.lock);
  yield* folioPut(ctx, folio);
  return result;
}

/** State of one collapse_pte_mapped_thp() call that its abort path unwinds. */
interface Collapse {
  readonly vma: Vma;
  readonly mm: Mm;
  readonly haddr: number;
  readonly pmdp: PmdPtr;
  readonly folio: Folio;
  nrPtes: number;
  startPte: PtePtr | null;
  ptl: SpinLock | null;
  pml: SpinLock | null;
  notified: boolean;
}

/** Steps 1-5, from a pmd that points to a page table; returns the result with the folio still locked. */
function* collapseTable(
  ctx: Ctx,
  vma: Vma,
  haddr: number,
  pmdp: PmdPtr,
  folio: Folio,
  installPmd: boolean,
): KGen<ScanResult> {
  const mm = vma.mm;
  const s: Collapse = {
    vma,
    mm,
    haddr,
    pmdp,
    folio,
    nrPtes: 0,
    startPte: null,
    ptl: null,
    pml: null,
    notified: false,
  };
  const PMD_SIZE = pmdSize(ctx);

  const m = yield* pteOffsetMapLock(ctx, mm, pmdp, haddr);
  if (!m) return 'SCAN_FAIL'; // mmap_lock + page lock should prevent this
  s.startPte = m.pte;
  s.ptl = m.ptl;

  // step 1: check all mapped PTEs are to the right huge page
  const bad = yield* checkPtes(ctx, s, 'step 1: check all mapped PTEs are to the right huge page');
  if (bad) return yield* abort(ctx, s, bad);
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  s.startPte = null;

  yield* mmuNotifierInvalidateRangeStart(ctx, mm, haddr, haddr + PMD_SIZE);
  s.notified = true;

  if (ctx.k.has(COLLAPSE_UFFD_FIX_V2_TRYLOCK)) {
    const r = yield* clearAndRemoveV2Trylock(ctx, s);
    if (r !== null) return r;
  } else {
    const r = yield* clearAndRemove(ctx, s);
    if (r !== null) return r;
  }

  // step 5: install pmd entry
  return installPmd ? yield* setHugePmd(ctx, vma, haddr, pmdp, folio) : 'SCAN_SUCCEED';
}

/** A present PTE that does not map the matching subpage, or a swap entry: the abort result. */
function* checkPtes(ctx: Ctx, s: Collapse, what: string): KGen<ScanResult | null> {
  const a = ctx.k.arch;
  const table = s.startPte?.table;
  if (!table) return bug('kernel-bug', `${ctx.cpu.name} ${ctx.fn}: ${what} without a mapped table`);
  const ptes = yield* scanPtes(ctx, table, what);
  for (let i = 0; i < ptes.length; i++) {
    const pte = ptes[i] ?? a.pteEmpty;
    if (a.pteNone(pte)) continue;
    if (!a.ptePresent(pte)) return 'SCAN_PTE_NON_PRESENT'; // page swapped out, abort
    // vm_normal_page(): uprobe, debugger or MAP_PRIVATE COW put another page here.
    if (a.ptePfn(pte) !== s.folio.pfn + i) return 'SCAN_FAIL';
  }
  return null;
}

/**
 * step 2: clear page table and adjust rmap — under the ptl, which was dropped
 * after step 1 for the mmu_notifier, so recheck each entry: page lock stops
 * more PTEs of the folio being faulted in, but not COW, swap-out or migration.
 */
function* clearPtes(ctx: Ctx, s: Collapse): KGen<ScanResult | null> {
  const a = ctx.k.arch;
  const table = s.startPte?.table;
  if (!table) return bug('kernel-bug', `${ctx.cpu.name} ${ctx.fn}: step 2 without a mapped table`);
  const ptes = yield* scanPtes(ctx, table, 'step 2: read the PTEs under ptl');
  for (let i = 0; i < ptes.length; i++) {
    const pte = ptes[i] ?? a.pteEmpty;
    if (a.pteNone(pte)) continue;
    if (!a.ptePresent(pte)) return 'SCAN_PTE_NON_PRESENT';
    if (a.ptePfn(pte) !== s.folio.pfn + i) return 'SCAN_FAIL';
    // Must clear entry, or a racing truncate may re-remove it. TLB flush can be
    // left until pmdp_collapse_flush() does it.
    const ptep = { table, index: i };
    if (ctx.k.has(COLLAPSE_PTE_CLEAR)) yield* ctx.call('pte_clear', pteClear(ctx, s.mm, ptep));
    else yield* ctx.call('ptep_clear', ptepGetAndClear(ctx, s.mm, ptep));
    assertEffectWrites(ctx, s.folio.refsObj, 'folio_remove_rmap_pte()');
    s.folio.mapcount--; // folio_remove_rmap_pte()
    s.nrPtes++;
  }
  return null;
}

/** step 3: set proper refcount and mm_counters. */
function* step3(ctx: Ctx, s: Collapse): KGen {
  if (s.nrPtes) {
    const n = s.nrPtes;
    yield ctx.step(
      () => `folio_ref_sub(${s.folio.id}, ${n}); add_mm_counter(${s.mm.id}, -${n})`,
      [s.folio.refsObj, s.mm.countersObj],
    );
    assertEffectWrites(ctx, s.folio.refsObj, 'folio_ref_sub()');
    s.folio.refcount -= n; // folio_ref_sub()
    addMmCounter(s.mm, mmCounterFile(s.folio), -n);
  }
}

/** The proposed fix of docs/kernel-findings.md's collapse-one-lock-no-recheck: a kernel patch or the arch's variant. */
function oneLockRecheck(ctx: Ctx): boolean {
  return (
    ctx.k.has(COLLAPSE_RECHECK_PMD_ONE_LOCK) ||
    (ctx.k.arch as { variant?: string }).variant === COLLAPSE_RECHECK_PMD_ONE_LOCK
  );
}

/** step 4 tail: the table is off the pmd under pml (+ptl); free it once readers are done. */
function* removeTable(ctx: Ctx, s: Collapse): KGen {
  const pml = s.pml;
  const ptl = s.ptl;
  if (!pml || !ptl)
    return bug('kernel-bug', `${ctx.cpu.name} ${ctx.fn}: step 4 without pml and ptl`);
  const pgt: PmdVal = yield* pmdpCollapseFlush(ctx, s.vma, s.haddr, s.pmdp);
  // v1 ("[PATCH 10/12]") had no pmdp_get_lockless_sync() here; v2 added it "to issue missing interrupt if PAE".
  if (!ctx.k.has(COLLAPSE_WITHOUT_LOCKLESS_SYNC)) yield* pmdpGetLocklessSync(ctx);
  if (s.startPte) {
    // v6.13: pte_unmap_unlock(start_pte, ptl); if (ptl != pml) spin_unlock(pml).
    yield* pteUnmapUnlock(ctx, s.startPte, ptl);
    s.startPte = null;
    if (ptl !== pml) yield* spinUnlock(ctx, pml);
  } else {
    if (ptl !== pml) yield* spinUnlock(ctx, ptl);
    yield* spinUnlock(ctx, pml);
  }
  yield* mmuNotifierInvalidateRangeEnd(ctx, s.mm, s.haddr, s.haddr + pmdSize(ctx));
  if (!pgt.table)
    return bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: pmdp_collapse_flush() returned pmd 0x${pgt.raw.toString(16)}, which points to no page table: pmd_pgtable() of it is garbage`,
    );
  mmDecNrPtes(ctx, s.mm);
  yield* ctx.call(
    'page_table_check_pte_clear_range',
    pageTableCheckPteClearRange(ctx, s.mm, pgt.table),
  );
  yield* ctx.call('pte_free_defer', ctx.k.arch.pteFreeDefer(ctx, s.mm, pgt.table.pa));
}

/** Steps 2-4 as merged (v6.6): uffd private takes pml before step 2 and never drops the ptl. */
function* clearAndRemove(ctx: Ctx, s: Collapse): KGen<ScanResult | null> {
  const { mm, pmdp, vma } = s;
  /*
   * pmd_lock covers a wider range than ptl, and (if split from mm's
   * page_table_lock) ptl nests inside pml. userfaultfd's mfill_atomic_pte() on
   * a private VMA inserts a valid as-if-COWed PTE without even looking up the
   * page cache, so the folio lock does not protect from it: we must not drop
   * ptl before pgt_pmd is removed, so uffd private needs pml taken now.
   */
  if (vma.uffdArmed && !vma.flags.shared && !ctx.k.has(COLLAPSE_BEFORE_UFFD_FIX))
    s.pml = yield* pmdLock(ctx, mm, pmdp);

  const nm = yield* pteOffsetMapNolock(ctx, mm, pmdp, s.haddr);
  if (!nm) return yield* abort(ctx, s, 'SCAN_FAIL'); // mmap_lock + page lock should prevent this
  s.startPte = nm.pte;
  s.ptl = nm.ptl;
  if (!s.pml) yield* spinLock(ctx, nm.ptl);
  else if (nm.ptl !== s.pml) yield* spinLock(ctx, nm.ptl, SINGLE_DEPTH_NESTING);
  // v6.13 ("mm: khugepaged: collapse_pte_mapped_thp() use pte_offset_map_rw_nolock()", Qi
  // Zheng): the table is the one mapped only if the pmd still holds pgt_pmd under the ptl; and
  // start_pte stays mapped (RCU held) until step 4, which rechecks again after taking pml.
  const v613 = kernelAtLeast(ctx.k.config, 'v6.13');
  if (v613 && (yield* pmdpGetLockless(ctx, pmdp)).raw !== nm.pmdval.raw)
    return yield* abort(ctx, s, 'SCAN_FAIL');

  const bad = yield* clearPtes(ctx, s);
  if (bad) return yield* abort(ctx, s, bad);

  if (!v613) {
    yield* pteUnmap(ctx, nm.pte);
    s.startPte = null;
  }
  if (!s.pml) yield* spinUnlock(ctx, nm.ptl);

  yield* step3(ctx, s);

  // step 4: remove empty page table
  if (!s.pml) {
    s.pml = yield* pmdLock(ctx, mm, pmdp);
    const oneLock = nm.ptl === s.pml;
    if (!oneLock) yield* spinLock(ctx, nm.ptl, SINGLE_DEPTH_NESTING);
    // v6.13: the ptl was dropped, so PT_RECLAIM may have freed the table: flush_tlb_mm(), unlock.
    // The kernel rechecks only when ptl != pml; with one lock, step 2 dropped it all the same
    // (the collapse-one-lock-no-recheck kernel finding), which the proposed fix also rechecks.
    if (
      v613 &&
      (!oneLock || oneLockRecheck(ctx)) &&
      (yield* pmdpGetLockless(ctx, pmdp)).raw !== nm.pmdval.raw
    ) {
      yield* flushTlbMm(ctx, mm);
      s.nrPtes = 0; // step 3 is done: the unlock path, not abort's
      return yield* abort(ctx, s, 'SCAN_FAIL');
    }
  }
  yield* removeTable(ctx, s);
  return null;
}

/**
 * Steps 2-4 of the trylock v2 (mm-unstable, Aug 2023): retake the ptl of step 1
 * (Peter Xu: is it still valid?), and on pml contention drop it, take pml then
 * ptl, and for uffd private go back and empty the table again. Step 3 resets
 * nr_ptes, so an abort on that second pass does not flush_tlb_mm().
 */
function* clearAndRemoveV2Trylock(ctx: Ctx, s: Collapse): KGen<ScanResult | null> {
  const { mm, pmdp, vma } = s;
  const ptl = s.ptl;
  if (!ptl) return bug('kernel-bug', `${ctx.cpu.name} ${ctx.fn}: no ptl from step 1`);
  yield* spinLock(ctx, ptl);
  for (;;) {
    // recheck:
    const pte = yield* pteOffsetMap(ctx, pmdp, s.haddr);
    if (!pte)
      return bug(
        'kernel-bug',
        `${ctx.cpu.name} ${ctx.fn}: VM_BUG_ON(!start_pte): pte_offset_map() failed on the recheck pass (mmap_lock + page lock should prevent this)`,
      );
    s.startPte = pte;

    const bad = yield* clearPtes(ctx, s);
    if (bad) return yield* abort(ctx, s, bad);
    yield* pteUnmap(ctx, pte);
    s.startPte = null;

    yield* step3(ctx, s);
    s.nrPtes = 0;

    // step 4: remove empty page table
    if (!s.pml) {
      const pml = pmdLockptr(ctx, mm, pmdp);
      s.pml = pml;
      if (pml !== ptl && !(yield* spinTrylock(ctx, pml))) {
        yield* spinUnlock(ctx, ptl);
        yield* spinLock(ctx, pml);
        yield* spinLock(ctx, ptl, SINGLE_DEPTH_NESTING);
        // uffd private needs rechecking: the ptl was dropped.
        if (vma.uffdArmed && !vma.flags.shared) continue;
      }
    }
    break;
  }
  yield* removeTable(ctx, s);
  return null;
}

/** abort: — undo what steps 2/3 left half done, unlock, end the notifier. */
function* abort(ctx: Ctx, s: Collapse, result: ScanResult): KGen<ScanResult> {
  if (s.nrPtes) {
    yield* flushTlbMm(ctx, s.mm);
    yield* step3(ctx, s);
  }
  const ptl = s.ptl;
  if (s.startPte && ptl) yield* pteUnmapUnlock(ctx, s.startPte, ptl);
  if (s.pml && s.pml !== ptl) yield* spinUnlock(ctx, s.pml);
  if (s.notified) yield* mmuNotifierInvalidateRangeEnd(ctx, s.mm, s.haddr, s.haddr + pmdSize(ctx));
  return result;
}
