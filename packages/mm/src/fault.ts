import {
  addMmCounter,
  bug,
  type Ctx,
  downRead,
  downWrite,
  FOLIO_ALLOC,
  type Folio,
  type KGen,
  MM_ANONPAGES,
  type Mm,
  ModelError,
  mmCounterFile,
  type PmdPtr,
  type PtePtr,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdSize,
  pteAlloc,
  pteLockptr,
  pteOffsetMap,
  pteOffsetMapLock,
  pteOffsetMapNolock,
  ptepGet,
  ptepGetUnderPtl,
  pteUnmap,
  pteUnmapUnlock,
  rd,
  type SpinLock,
  setPmdHuge,
  setPteAt,
  spinLock,
  spinUnlock,
  upRead,
  upWrite,
  type Vma,
} from '@ptlab/core';
import { folioMapped, folioPut } from './folio.js';
import { hugetlbFault } from './hugetlb.js';
import { FAULT_PTE_LOCKPTR } from './mutants.js';

/** vm_fault_t results the model distinguishes. */
export type VmFault =
  | 0
  | 'VM_FAULT_NOPAGE'
  | 'VM_FAULT_FALLBACK'
  | 'VM_FAULT_OOM'
  | 'VM_FAULT_SIGBUS';

/** Bound on "return to user and fault again" retries, so a livelock shows as a failed fault, not a hang. */
const MAX_RETRIES = 4;

/**
 * A user read or write fault on a file (shmem) mapping, retried the way the
 * hardware retries a fault that returned without mapping anything:
 * do_user_addr_fault() → handle_mm_fault() → handle_pte_fault() — mm/memory.c.
 * Returns whether the address ended up mapped.
 */
export function* handleUserFault(ctx: Ctx, mm: Mm, addr: number, write: boolean): KGen<boolean> {
  return yield* ctx.call('do_user_addr_fault', handleUserFaultBody(ctx, mm, addr, write));
}

/** The body of handleUserFault(). */
function* handleUserFaultBody(ctx: Ctx, mm: Mm, addr: number, write: boolean): KGen<boolean> {
  for (let i = 0; i < MAX_RETRIES; i++) {
    yield* downRead(ctx, mm.mmapLock);
    const vma = mm.vmaAt(addr);
    let r: VmFault = 'VM_FAULT_SIGBUS';
    // The arch's fault handler may look at the page tables itself first (sparc64 get_user_insn()).
    const archHook = ctx.k.arch.beforeHandleMmFault;
    if (vma && archHook) yield* archHook.call(ctx.k.arch, ctx, vma, addr, write);
    // handle_mm_fault(): hugetlb vmas go to hugetlb_fault().
    if (vma?.flags.hugetlb) r = yield* ctx.call('handle_mm_fault', hugetlbFault(ctx, vma, addr));
    else if (vma) r = yield* ctx.call('handle_mm_fault', handlePteFault(ctx, vma, addr, write));
    yield* upRead(ctx, mm.mmapLock);
    if (r === 0) return true;
    if (r === 'VM_FAULT_SIGBUS' || r === 'VM_FAULT_OOM') return false;
    ctx.k.note(() => `fault returned ${r}: retry`);
  }
  return false;
}

/**
 * handle_pte_fault() — mm/memory.c (v6.5+): pte_offset_map_nolock(), NULL
 * means retry; a PTE already present is rechecked under the ptl of exactly
 * the table mapped (pte_same()), then ptep_set_access_flags() — a no-op here:
 * the model's PTEs carry no young/dirty state to update.
 */
function* handlePteFault(ctx: Ctx, vma: Vma, addr: number, write: boolean): KGen<VmFault> {
  const mm = vma.mm;
  const a = ctx.k.arch;
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmdval = yield* pmdpGet(ctx, pmdp);
  if (a.pmdTransHuge(pmdval.raw)) return 0; // already mapped by a huge pmd
  if (!a.pmdNone(pmdval.raw)) {
    const m = ctx.k.has(FAULT_PTE_LOCKPTR)
      ? yield* mapThenLockptr(ctx, mm, pmdp, addr)
      : yield* pteOffsetMapNolock(ctx, mm, pmdp, addr);
    if (!m) return 'VM_FAULT_NOPAGE';
    const orig = yield* ptepGet(ctx, m.pte, 'ptep_get_lockless(vmf->pte)');
    if (a.pteNone(orig)) yield* pteUnmap(ctx, m.pte);
    else {
      // vmf->ptl: spin_lock(); if (!pte_same(ptep_get(vmf->pte), entry)) update_mmu_tlb() and unlock.
      const ptl = m.ptl ?? (yield* ctx.call('pte_lockptr', pteLockptrNow(ctx, mm, pmdp, m.pte)));
      yield* spinLock(ctx, ptl);
      yield* ptepGetUnderPtl(
        ctx,
        m.pte,
        ptl,
        'handle_pte_fault(): pte_same(ptep_get(vmf->pte), entry)',
      );
      yield* pteUnmapUnlock(ctx, m.pte, ptl);
      return 0; // present already: nothing to do for a read
    }
  }
  // do_pte_missing(): vma_is_anonymous() → do_anonymous_page(), else do_fault().
  if (!vma.file)
    return yield* ctx.call('do_anonymous_page', doAnonymousPage(ctx, vma, addr, pmdp, write));
  return yield* ctx.call('do_fault', doReadFault(ctx, vma, addr, pmdp, write));
}

/**
 * do_anonymous_page() — mm/memory.c (v6.6), for a write fault on a private
 * anonymous vma: pte_alloc(), anon_vma_prepare(), a zeroed folio, then under
 * the ptl the pte must still be none (else the folio goes back, and the fault
 * returns 0 to be retried); inc_mm_counter(MM_ANONPAGES),
 * folio_add_new_anon_rmap(), set_pte_at(), update_mmu_cache(). Not modelled:
 * a read fault, which maps the zero page (pte_mkspecial()), and the
 * userfaultfd_missing() hand-off (as for file faults). A shared anonymous
 * vma is shmem (the scenario schema refuses one without a file).
 */
function* doAnonymousPage(
  ctx: Ctx,
  vma: Vma,
  addr: number,
  pmdp: PmdPtr,
  write: boolean,
): KGen<VmFault> {
  if (!write)
    throw new ModelError(
      'mm/memory',
      'a read fault on an anonymous vma maps the zero page (do_anonymous_page(): pte_mkspecial()), which is not modelled',
    );
  const mm = vma.mm;
  const a = ctx.k.arch;
  if (a.pmdNone((yield* pmdpGet(ctx, pmdp)).raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0)
    return 'VM_FAULT_OOM';
  // anon_vma_prepare(): what retract_page_tables() checks, before and under the ptl.
  yield ctx.step(() => `vma->anon_vma = anon_vma of ${mm.id}`, vma.obj);
  vma.anonVma = true;
  yield ctx.step('vma_alloc_zeroed_movable_folio()', FOLIO_ALLOC);
  const folio = ctx.k.createFolio(`anon#${ctx.k.folios.length}@${mm.id}`, 0, null, 0);
  const m = yield* pteOffsetMapLock(ctx, mm, pmdp, addr);
  if (!m) {
    yield* folioPut(ctx, folio); // release
    return 0;
  }
  if (!a.pteNone(yield* ptepGet(ctx, m.pte))) {
    // vmf_pte_changed(): update_mmu_tlb() (no-op here), release.
    yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
    yield* folioPut(ctx, folio);
    return 0;
  }
  addMmCounter(mm, MM_ANONPAGES, 1);
  folio.mapcount++; // folio_add_new_anon_rmap(): the new folio's reference becomes the mapping's
  yield* setPteAt(ctx, mm, m.pte, a.mkPte(folio.pfn, { write: true }));
  const hook = a.updateMmuCache;
  if (hook) yield* ctx.call('update_mmu_cache', hook.call(a, ctx, vma, addr, m.pte));
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  return 0;
}

/**
 * handle_pte_fault() before "mm/memory: handle_pte_fault() use
 * pte_offset_map_nolock()" (v6.5): vmf->pte = pte_offset_map(vmf->pmd, addr),
 * then vmf->orig_pte = *vmf->pte as if the map could not fail; the ptl is
 * taken later with pte_lockptr(mm, vmf->pmd) (pteLockptrNow()).
 */
function* mapThenLockptr(
  ctx: Ctx,
  _mm: Mm,
  pmdp: PmdPtr,
  addr: number,
): KGen<{ pte: PtePtr; ptl: null }> {
  const pte = yield* pteOffsetMap(ctx, pmdp, addr);
  if (!pte)
    bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: Unable to handle kernel NULL pointer dereference: pte_offset_map(vmf->pmd) found no table (retracted since the pmd was checked) and vmf->orig_pte = *vmf->pte reads through NULL`,
    );
  return { pte, ptl: null };
}

/**
 * pte_lockptr(mm, vmf->pmd) — include/linux/mm.h, as the pre-v6.5
 * handle_pte_fault() calls it after mapping: with split ptlocks it re-reads
 * *pmd, so it names the lock of whatever the pmd points to now (a none or huge
 * pmd has no ptlock at all: ptlock_ptr() of an unrelated struct page).
 */
function* pteLockptrNow(ctx: Ctx, mm: Mm, pmdp: PmdPtr, mapped: PtePtr): KGen<SpinLock> {
  if (!ctx.k.config.splitPtePtlocks) return mm.pageTableLock;
  const now = yield* pmdpGet(ctx, pmdp);
  if (!now.table) {
    const t = ctx.k.pt.get(mapped.table.pa);
    bug(
      'wrong-ptl',
      `${ctx.cpu.name} ${ctx.fn}: pte_lockptr(mm, vmf->pmd) re-read *pmd after pte_offset_map() mapped ${mapped.table.label} and found ${ctx.k.arch.pmdNone(now.raw) ? 'none' : 'a huge pmd'} (0x${now.raw.toString(16)}): the "ptl" is ptlock_ptr() of a page that is no page table, not the lock of ${mapped.table.label}`,
      t?.deferredAt ? [t.deferredAt] : [],
    );
  }
  return pteLockptr(ctx, mm, now);
}

/** do_read_fault()/do_shared_fault() → __do_fault() → shmem_fault() → finish_fault() — mm/memory.c */
function* doReadFault(
  ctx: Ctx,
  vma: Vma,
  addr: number,
  pmdp: PmdPtr,
  _write: boolean,
): KGen<VmFault> {
  const file = vma.file;
  if (!file) return 'VM_FAULT_SIGBUS';
  const pgoff = vma.pgoff + Math.floor((addr - vma.start) / ctx.k.config.PAGE_SIZE);
  for (;;) {
    // shmem_fault() → shmem_get_folio_gfp() — mm/shmem.c (v6.6): filemap_get_entry(), then
    // folio_lock() (waits while khugepaged holds the new THP locked, or truncate holds it).
    yield ctx.step(() => `filemap_get_entry(${file.id}, ${pgoff})`, rd(file.pageCacheObj), 'r');
    const folio = file.folioAt(pgoff);
    if (!folio) return 'VM_FAULT_SIGBUS';
    yield* ctx.call('shmem_fault', downWrite(ctx, folio.lock));
    // "Has the folio been truncated or swapped out?": folio->mapping != mapping → unlock, repeat.
    yield ctx.step(() => `recheck folio->mapping of ${folio.id}`, rd(file.pageCacheObj), 'r');
    if (file.folioAt(pgoff) !== folio) {
      yield* upWrite(ctx, folio.lock);
      continue;
    }
    const r = yield* ctx.call('finish_fault', finishFault(ctx, vma, addr, pmdp, folio, pgoff));
    yield* upWrite(ctx, folio.lock);
    return r;
  }
}

/** finish_fault() — mm/memory.c (v6.6) */
function* finishFault(
  ctx: Ctx,
  vma: Vma,
  addr: number,
  pmdp: PmdPtr,
  folio: Folio,
  pgoff: number,
): KGen<VmFault> {
  const mm = vma.mm;
  const a = ctx.k.arch;
  const cur = yield* pmdpGet(ctx, pmdp);
  if (a.pmdNone(cur.raw)) {
    if (folio.order > 0 && ctx.k.config.thp) {
      const r = yield* ctx.call('do_set_pmd', doSetPmd(ctx, vma, addr, pmdp, folio));
      if (r !== 'VM_FAULT_FALLBACK') return r;
    }
    if ((yield* pteAlloc(ctx, mm, pmdp)) !== 0) return 'VM_FAULT_OOM';
  }
  const m = yield* pteOffsetMapLock(ctx, mm, pmdp, addr);
  if (!m) return 'VM_FAULT_NOPAGE';
  const pte = yield* ptepGet(ctx, m.pte);
  if (a.pteNone(pte)) {
    const page = folio.pfn + (pgoff - folio.index);
    yield* setPteAt(ctx, mm, m.pte, a.mkPte(page, { write: vma.flags.shared }));
    folioMapped(ctx, folio);
    addMmCounter(mm, mmCounterFile(folio), 1);
    const hook = a.updateMmuCache;
    if (hook) yield* ctx.call('update_mmu_cache', hook.call(a, ctx, vma, addr, m.pte));
  }
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  return 0;
}

/**
 * do_set_pmd() — mm/memory.c (v6.6): map a PMD-sized folio with a huge pmd if
 * the pmd is still none under pmd_lock(), then update_mmu_cache_pmd().
 */
export function* doSetPmd(
  ctx: Ctx,
  vma: Vma,
  addr: number,
  pmdp: PmdPtr,
  folio: Folio,
): KGen<VmFault> {
  const PMD_SIZE = pmdSize(ctx);
  const haddr = addr - (addr % PMD_SIZE);
  const ptesPerPmd = ctx.k.config.PTRS_PER_PTE;
  if (folio.nrPages !== ptesPerPmd || haddr < vma.start || haddr + PMD_SIZE > vma.end)
    return 'VM_FAULT_FALLBACK';
  const mm = vma.mm;
  const pml = yield* pmdLock(ctx, mm, pmdp);
  const cur = yield* pmdpGet(ctx, pmdp);
  if (!ctx.k.arch.pmdNone(cur.raw)) {
    yield* spinUnlock(ctx, pml);
    return 'VM_FAULT_FALLBACK';
  }
  yield* setPmdHuge(ctx, mm, pmdp, folio.pfn);
  folioMapped(ctx, folio);
  addMmCounter(mm, mmCounterFile(folio), folio.nrPages);
  // update_mmu_cache_pmd(vma, haddr, vmf->pmd), still under the pmd lock (a no-op on most arches).
  const a = ctx.k.arch;
  const hook = a.updateMmuCachePmd;
  if (hook) yield* ctx.call('update_mmu_cache_pmd', hook.call(a, ctx, vma, haddr, pmdp));
  yield* spinUnlock(ctx, pml);
  return 0;
}
