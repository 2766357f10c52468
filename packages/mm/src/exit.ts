import {
  type AddressSpace,
  addMmCounter,
  bug,
  type Ctx,
  checkRssMatchesMappings,
  checkZappedEmpty,
  downWrite,
  type KGen,
  type Mm,
  mmCounterFile,
  mmDecNrPtes,
  mmdrop,
  pmdClearUnlocked,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pmdSize,
  pteOffsetMapLock,
  ptepGetAndClear,
  pteUnmapUnlock,
  rd,
  rssCheckFootprint,
  scanPtes,
  spinUnlock,
  tlbFinishMmu,
  tlbGatherMmu,
  upWrite,
  type Vma,
} from '@ptlab/core';
import { folioPut, folioUnmapped } from './folio.js';
import { unmapHugepageRange } from './hugetlb.js';
import { ZAP_MAP_CANNOT_FAIL } from './mutants.js';

/** zap_pmd_range() → zap_huge_pmd() / zap_pte_range() — mm/memory.c: unmap every page of the range. */
export function* zapVma(ctx: Ctx, vma: Vma): KGen {
  const mm = vma.mm;
  const a = ctx.k.arch;
  const PMD_SIZE = pmdSize(ctx);
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  for (let base = vma.start - (vma.start % PMD_SIZE); base < vma.end; base += PMD_SIZE) {
    const pmdp = pmdOffset(ctx, mm, base);
    const pmdval = yield* pmdpGet(ctx, pmdp);
    if (a.pmdNone(pmdval.raw)) continue;
    if (a.pmdTransHuge(pmdval.raw)) {
      const pml = yield* pmdLock(ctx, mm, pmdp);
      const old = yield* pmdpGetAndClear(ctx, mm, pmdp);
      // zap_huge_pmd(): the rmap and rss go under the pmd lock, in the clearing step's effect.
      const folio = ctx.k.folioOf(a.ptePfn(old.raw));
      if (folio) {
        folioUnmapped(ctx, folio);
        addMmCounter(mm, mmCounterFile(folio), -folio.nrPages);
      }
      yield* spinUnlock(ctx, pml);
      continue;
    }
    const m = yield* pteOffsetMapLock(ctx, mm, pmdp, base);
    if (!m && ctx.k.has(ZAP_MAP_CANNOT_FAIL)) zapNullDeref(ctx);
    if (!m) continue;
    const lo = Math.max(vma.start, base);
    const hi = Math.min(vma.end, base + PMD_SIZE);
    // ptep_get() of every entry in one step: the ptl is held, so no writer can change them
    // in between; only entries that are not pte_none() are cleared, one step each.
    const now = yield* scanPtes(ctx, m.pte.table, 'zap_pte_range(): ptep_get()');
    for (let addr = lo; addr < hi; addr += PAGE_SIZE) {
      const index = Math.floor(addr / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE;
      if (a.pteNone(now[index] ?? a.pteEmpty)) continue;
      const old = yield* ptepGetAndClear(ctx, mm, { table: m.pte.table, index });
      if (a.pteNone(old) || !a.ptePresent(old)) continue;
      const folio = ctx.k.folioOf(a.ptePfn(old));
      if (folio) {
        folioUnmapped(ctx, folio);
        addMmCounter(mm, folio.mapping ? mmCounterFile(folio) : 1, -1);
      }
    }
    // The range is zapped under the ptl (oracle; the last step was on the table).
    const i0 = Math.floor(lo / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE;
    checkZappedEmpty(ctx, m.pte.table, i0, i0 + (hi - lo) / PAGE_SIZE);
    yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  }
}

/** zap_pte_range() before v6.5 (ZAP_MAP_CANNOT_FAIL): the NULL start_pte is used. */
export function zapNullDeref(ctx: Ctx): never {
  bug(
    'kernel-bug',
    `${ctx.cpu.name} ${ctx.fn}: Unable to handle kernel NULL pointer dereference: pte_offset_map_lock() found no table (zap_pmd_range() saw one just before; retracted since) and zap_pte_range() reads ptep_get(pte) through NULL`,
  );
}

/**
 * unlink_file_vma() — mm/mmap.c: free_pgtables() hides each vma from rmap
 * under i_mmap_lock_write() before freeing its tables, so a walker holding
 * i_mmap_rwsem (rmap, khugepaged's retract_page_tables()) never sees them go.
 */
export function* unlinkFileVma(ctx: Ctx, f: AddressSpace, vma: Vma): KGen {
  yield* downWrite(ctx, f.iMmapRwsem);
  const i = f.iMmap.indexOf(vma);
  if (i >= 0) f.iMmap.splice(i, 1);
  yield* upWrite(ctx, f.iMmapRwsem);
}

/** free_pgtables() → free_pgd_range() → free_pte_range() — mm/memory.c: no ptl, vmas detached. */
function* freePgtables(ctx: Ctx, mm: Mm): KGen {
  const tlb = tlbGatherMmu(mm, true);
  const a = ctx.k.arch;
  const pmdTable = mm.pmdTable;
  if (!pmdTable) return;
  // free_pgd_range() walks the pmd table: one read of the whole table finds the slots that
  // point at a table (reading every empty slot in a step of its own would only slow the search).
  yield ctx.step('free_pgd_range(): walk the pmd table', rd(ctx.k.pt.pageOf(pmdTable)), 'r');
  const t = ctx.k.pt.deref(ctx, pmdTable, 'free_pgtables()');
  const linked = ctx.k.pt
    .live()
    .filter((x) => x.kind === 'pte' && x.linkedFrom?.startsWith(`${t.label}[`))
    .map((x) => Number(x.linkedFrom?.slice(t.label.length + 1, -1)))
    .sort((x, y) => x - y);
  for (const i of linked) {
    const pmdp = { table: pmdTable, index: i, mm };
    const old = yield* pmdClearUnlocked(ctx, pmdp);
    if (old.table) {
      mmDecNrPtes(ctx, mm);
      yield* ctx.call('pte_free_tlb', a.pteFreeTlb(ctx, tlb, old.table.pa));
    }
  }
  yield* tlbFinishMmu(ctx, tlb);
}

/** exit_mmap() — mm/mmap.c, then mmput()'s mmdrop(). */
export function* exitMmap(ctx: Ctx, mm: Mm): KGen {
  yield* ctx.call('exit_mmap', exitMmapBody(ctx, mm));
  yield* mmdrop(ctx, mm);
}

/** The body of exitMmap(). */
function* exitMmapBody(ctx: Ctx, mm: Mm): KGen {
  yield ctx.step(() => `mm_users-- of ${mm.id}`, mm.countersObj);
  mm.users--;
  yield* downWrite(ctx, mm.mmapLock);
  // unmap_single_vma(): hugetlb vmas are unmapped by __unmap_hugepage_range().
  for (const vma of mm.vmas)
    yield* ctx.call(
      'unmap_vmas',
      vma.flags.hugetlb ? unmapHugepageRange(ctx, vma) : zapVma(ctx, vma),
    );
  // The vmas leave the mm (vma_iter_clear / remove_vma under mmap_write_lock).
  yield ctx.step(() => `detach the vmas of ${mm.id}`, [mm.vmasObj, ...mm.vmas.map((v) => v.obj)]);
  for (const vma of mm.vmas) vma.detached = true;
  for (const vma of mm.vmas) {
    const f = vma.file;
    if (f) yield* ctx.call('unlink_file_vma', unlinkFileVma(ctx, f, vma));
  }
  yield* ctx.call('free_pgtables', freePgtables(ctx, mm));
  yield* upWrite(ctx, mm.mmapLock);
}

/** truncate_inode_pages() — mm/truncate.c: drop the page cache's references (after every mapping is gone). */
export function truncateInodePages(ctx: Ctx, mapping: AddressSpace): KGen {
  return ctx.call('truncate_inode_pages', truncateInodePagesBody(ctx, mapping));
}

/** The body of truncateInodePages(). */
function* truncateInodePagesBody(ctx: Ctx, mapping: AddressSpace): KGen {
  yield ctx.step(() => `find_get_entries(${mapping.id})`, mapping.pageCacheObj, 'r');
  for (const [index, folio] of [...mapping.pageCache]) {
    yield ctx.step(() => `filemap_remove_folio(${folio.id})`, mapping.pageCacheObj);
    mapping.pageCache.delete(index);
    yield* folioPut(ctx, folio);
  }
}

/** Scenario teardown: every mm exits, every file is truncated, every RCU callback has run. */
export function* teardownAll(ctx: Ctx): KGen {
  // An mm whose last user already exited (an exit_mmap thread) is not exited twice. Every
  // task is done: a quiescent point, where each mm's rss must equal what it maps (oracle).
  yield ctx.stepDynamic(
    'teardown: which mms are still in use; rss against the page tables',
    () => [...ctx.k.mms.map((mm) => rd(mm.countersObj)), ...rssCheckFootprint(ctx)],
    'r',
  );
  checkRssMatchesMappings(ctx);
  for (const mm of ctx.k.mms) if (!mm.freed && mm.users > 0) yield* exitMmap(ctx, mm);
  for (const f of ctx.k.files) yield* truncateInodePages(ctx, f);
  // No rcu_barrier(): the run ends only when nothing can run, so every callback whose grace
  // period can end has run before the leak check. (A barrier step here would only add orders
  // the explorer must rule out: it cannot pass before the callbacks it waits for.)
}
