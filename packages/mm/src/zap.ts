/**
 * Zapping user mappings of a file range, as truncate does it: no mmap_lock,
 * only the file's i_mmap_rwsem (to find the vmas) and each table's ptl —
 * unmap_mapping_range() → zap_page_range_single() → zap_pmd_range() →
 * zap_pte_range() / zap_huge_pmd(), mm/memory.c and mm/huge_memory.c (v6.6);
 * truncate_pagecache() → truncate_inode_pages(), mm/truncate.c.
 *
 * This is the "racing truncate" of collapse_pte_mapped_thp()'s comment "Must
 * clear entry, or a racing truncate may re-remove it": zap_pte_range() maps
 * the table with pte_offset_map_lock() and retries the pmd when that fails
 * (the table was retracted under it), and unmaps whatever PTE it finds.
 *
 * Not modelled: splitting a huge pmd for a partial range (a ModelError), i_size
 * (after truncation the empty page cache is what faults see), the mmu_gather's
 * page batching beyond "references are dropped after the TLB flush".
 */
import {
  type AddressSpace,
  addMmCounter,
  assertEffectWrites,
  type Ctx,
  checkZappedEmpty,
  downRead,
  downWrite,
  type Folio,
  type KGen,
  MM_ANONPAGES,
  type MmuGather,
  ModelError,
  mmCounterFile,
  type PmdPtr,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pmdSize,
  pteOffsetMapLock,
  ptepGetAndClear,
  pteUnmapUnlock,
  rd,
  scanPtes,
  spinUnlock,
  tlbFinishMmu,
  tlbGatherMmu,
  upRead,
  upWrite,
  type Vma,
} from '@ptlab/core';
import { folioPut } from './folio.js';
import { unmapHugepageRange } from './hugetlb.js';
import { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from './mmu-notifier.js';

/** Bound on zap_pmd_range()'s "retry this pmd" loop, so a livelock shows as an error, not a hang. */
const MAX_PMD_RETRIES = 8;

/** struct zap_details, reduced: only zap PTEs of this folio (unmap_mapping_folio()). */
interface ZapDetails {
  readonly singleFolio: Folio | null;
}

/** The page references an mmu_gather drops once the TLB is flushed (tlb_batch_pages_flush()). */
type PageBatch = Folio[];

/** zap_pte_range() — mm/memory.c: returns how far it got (`addr` itself if the table could not be mapped). */
function* zapPteRange(
  ctx: Ctx,
  vma: Vma,
  pmdp: PmdPtr,
  addr: number,
  end: number,
  details: ZapDetails,
  batch: PageBatch,
): KGen<number> {
  const a = ctx.k.arch;
  const mm = vma.mm;
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  const m = yield* pteOffsetMapLock(ctx, mm, pmdp, addr);
  if (!m) return addr;
  const ptes = yield* scanPtes(ctx, m.pte.table, 'zap_pte_range(): read the PTEs under ptl');
  for (let va = addr; va < end; va += PAGE_SIZE) {
    const index = Math.floor(va / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE;
    const pte = ptes[index] ?? a.pteEmpty;
    if (a.pteNone(pte) || !a.ptePresent(pte)) continue;
    const folio = ctx.k.folioOf(a.ptePfn(pte));
    if (details.singleFolio && folio !== details.singleFolio) continue; // should_zap_folio()
    yield* ptepGetAndClear(ctx, mm, { table: m.pte.table, index }); // ptep_get_and_clear_full()
    if (!folio) continue;
    assertEffectWrites(ctx, folio.refsObj, 'folio_remove_rmap_pte()');
    folio.mapcount--; // folio_remove_rmap_pte()
    addMmCounter(mm, folio.mapping ? mmCounterFile(folio) : MM_ANONPAGES, -1);
    batch.push(folio); // __tlb_remove_page(): the reference goes after the flush
  }
  // The whole range is zapped under the ptl (oracle; the last step was on the table). Not
  // for unmap_mapping_folio(), which zaps one folio's entries only.
  if (!details.singleFolio) {
    const i0 = Math.floor(addr / PAGE_SIZE) % ctx.k.config.PTRS_PER_PTE;
    checkZappedEmpty(ctx, m.pte.table, i0, i0 + Math.ceil((end - addr) / PAGE_SIZE));
  }
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  return end;
}

/** zap_huge_pmd() — mm/huge_memory.c: false when the pmd is no longer huge under pmd_lock. */
function* zapHugePmd(ctx: Ctx, vma: Vma, pmdp: PmdPtr, batch: PageBatch): KGen<boolean> {
  const a = ctx.k.arch;
  const mm = vma.mm;
  const pml = yield* pmdLock(ctx, mm, pmdp); // __pmd_trans_huge_lock()
  if (!a.pmdTransHuge((yield* pmdpGet(ctx, pmdp)).raw)) {
    yield* spinUnlock(ctx, pml);
    return false;
  }
  const old = yield* pmdpGetAndClear(ctx, mm, pmdp); // pmdp_huge_get_and_clear_full()
  const folio = ctx.k.folioOf(a.ptePfn(old.raw));
  if (folio) {
    assertEffectWrites(ctx, folio.refsObj, 'folio_remove_rmap_pmd()');
    folio.mapcount--; // folio_remove_rmap_pmd()
    addMmCounter(mm, mmCounterFile(folio), -folio.nrPages);
    batch.push(folio);
  }
  yield* spinUnlock(ctx, pml);
  return true;
}

/** zap_pmd_range() — mm/memory.c: retry a pmd whose table went away under zap_pte_range(). */
function* zapPmdRange(
  ctx: Ctx,
  vma: Vma,
  start: number,
  end: number,
  details: ZapDetails,
  batch: PageBatch,
): KGen {
  const a = ctx.k.arch;
  const PMD_SIZE = pmdSize(ctx);
  for (let addr = start; addr < end; ) {
    const next = Math.min(addr - (addr % PMD_SIZE) + PMD_SIZE, end);
    const pmdp = pmdOffset(ctx, vma.mm, addr);
    for (let tries = 0; ; tries++) {
      if (tries === MAX_PMD_RETRIES)
        throw new ModelError(
          'mm/zap',
          `zap_pmd_range() retried pmd ${pmdp.index} without progress`,
        );
      const v = yield* pmdpGet(ctx, pmdp);
      if (a.pmdTransHuge(v.raw)) {
        if (next - addr !== PMD_SIZE)
          throw new ModelError('mm/zap', 'splitting a huge pmd for a partial zap is not modelled');
        if (yield* ctx.call('zap_huge_pmd', zapHugePmd(ctx, vma, pmdp, batch))) break;
        continue;
      }
      if (a.pmdNone(v.raw)) break;
      const got = yield* ctx.call(
        'zap_pte_range',
        zapPteRange(ctx, vma, pmdp, addr, next, details, batch),
      );
      if (got === next) break;
      ctx.k.note(
        () => `zap_pte_range() could not map the table of pmd ${pmdp.index}: retry the pmd`,
      );
    }
    addr = next;
  }
}

/** zap_page_range_single() — mm/memory.c: notifier, mmu_gather, unmap_single_vma(), flush, free. */
function* zapPageRangeSingle(
  ctx: Ctx,
  vma: Vma,
  start: number,
  end: number,
  details: ZapDetails,
): KGen {
  const mm = vma.mm;
  const tlb: MmuGather = tlbGatherMmu(mm, false);
  const batch: PageBatch = [];
  yield* mmuNotifierInvalidateRangeStart(ctx, mm, start, end);
  // unmap_single_vma(): a hugetlb vma is unmapped by __unmap_hugepage_range(), a huge page at a time.
  yield* ctx.call(
    'unmap_single_vma',
    vma.flags.hugetlb
      ? unmapHugepageRange(ctx, vma, start, end)
      : zapPmdRange(ctx, vma, start, end, details, batch),
  );
  yield* mmuNotifierInvalidateRangeEnd(ctx, mm, start, end);
  yield* tlbFinishMmu(ctx, tlb);
  for (const f of batch) yield* folioPut(ctx, f);
}

/**
 * The vmas' address ranges that map file pages [first, first + nr) of
 * `mapping` (vma_interval_tree_foreach + the clamping in
 * unmap_mapping_range_tree()).
 */
function* zapMappingRange(
  ctx: Ctx,
  mapping: AddressSpace,
  first: number,
  nr: number,
  details: ZapDetails,
): KGen {
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  yield* downRead(ctx, mapping.iMmapRwsem); // i_mmap_lock_read()
  for (const vma of [...mapping.iMmap]) {
    const vmaPages = (vma.end - vma.start) / PAGE_SIZE;
    const lo = Math.max(first, vma.pgoff);
    const hi = Math.min(first + nr, vma.pgoff + vmaPages);
    if (lo >= hi) continue;
    const start = vma.start + (lo - vma.pgoff) * PAGE_SIZE;
    const end = vma.start + (hi - vma.pgoff) * PAGE_SIZE;
    yield* ctx.call('zap_page_range_single', zapPageRangeSingle(ctx, vma, start, end, details));
  }
  yield* upRead(ctx, mapping.iMmapRwsem);
}

/** File pages [first, first + nr) of a mapping: the range a hole punch covers. */
export interface PageRange {
  readonly first: number;
  readonly nr: number;
}

/** The whole file (ftruncate(fd, 0)). */
const WHOLE_FILE: PageRange = { first: 0, nr: Number.MAX_SAFE_INTEGER };

/** unmap_mapping_range(mapping, start, len, even_cows = 1) — mm/memory.c: every mapping of the range (default: the whole file). */
export function* unmapMappingRange(
  ctx: Ctx,
  mapping: AddressSpace,
  range: PageRange = WHOLE_FILE,
): KGen {
  yield* ctx.call(
    'unmap_mapping_range',
    zapMappingRange(ctx, mapping, range.first, range.nr, { singleFolio: null }),
  );
}

/**
 * unmap_mapping_folio() — mm/memory.c: the mappings of one folio only. The
 * kernel reads folio->mapping; its caller here has just checked, with the
 * folio locked, that the folio is still in `mapping`.
 */
function* unmapMappingFolio(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen {
  yield* zapMappingRange(ctx, mapping, folio.index, folio.nrPages, { singleFolio: folio });
}

/**
 * truncate_inode_pages_range() — mm/truncate.c: lock each folio of the range, unmap it
 * if something still maps it, delete it from the page cache, drop its reference.
 */
function* truncateInodePagesLocked(ctx: Ctx, mapping: AddressSpace, range: PageRange): KGen {
  yield ctx.step(() => `find_get_entries(${mapping.id})`, mapping.pageCacheObj, 'r');
  const folios = [...mapping.pageCache.values()]
    .filter((f) => f.index < range.first + range.nr && f.index + f.nrPages > range.first)
    .sort((x, y) => x.index - y.index);
  for (const folio of folios) {
    // find_get_entries(): a reference, then folio_lock() (waits for khugepaged).
    yield ctx.step(
      () => `find_get_entries(${mapping.id}, ${folio.index})`,
      [rd(mapping.pageCacheObj), folio.refsObj],
    );
    if (mapping.pageCache.get(folio.index) !== folio) continue;
    assertEffectWrites(ctx, folio.refsObj, 'find_get_entries()');
    folio.refcount++;
    yield* downWrite(ctx, folio.lock);
    // folio->mapping == mapping, folio_mapped(): rechecked with the folio locked.
    yield ctx.step(
      () => `recheck ${folio.id} in ${mapping.id}, folio_mapped()`,
      [rd(mapping.pageCacheObj), rd(folio.refsObj)],
      'r',
    );
    if (mapping.pageCache.get(folio.index) === folio) {
      // truncate_inode_folio() → truncate_cleanup_folio()
      if (folio.mapcount > 0)
        yield* ctx.call('unmap_mapping_folio', unmapMappingFolio(ctx, mapping, folio));
      yield ctx.step(() => `filemap_remove_folio(${folio.id})`, mapping.pageCacheObj);
      mapping.pageCache.delete(folio.index);
      yield* folioPut(ctx, folio); // the page cache's reference
    }
    yield* upWrite(ctx, folio.lock);
    yield* folioPut(ctx, folio); // folio_batch_release()
  }
}

/**
 * ftruncate(fd, 0) on a shmem file → truncate_pagecache() — mm/truncate.c:
 * unmap, drop the page cache, unmap again (a fault may have mapped a page
 * between the first unmap and its removal). With a range, a hole punch:
 * truncate_pagecache_range() — mm/truncate.c, as fallocate(PUNCH_HOLE) does.
 */
export function* truncatePagecache(
  ctx: Ctx,
  mapping: AddressSpace,
  range: PageRange = WHOLE_FILE,
): KGen {
  yield* ctx.call(
    range === WHOLE_FILE ? 'truncate_pagecache' : 'truncate_pagecache_range',
    truncatePagecacheBody(ctx, mapping, range),
  );
}

/** The body of truncatePagecache(). */
function* truncatePagecacheBody(ctx: Ctx, mapping: AddressSpace, range: PageRange): KGen {
  yield* unmapMappingRange(ctx, mapping, range);
  yield* ctx.call('truncate_inode_pages', truncateInodePagesLocked(ctx, mapping, range));
  yield* unmapMappingRange(ctx, mapping, range);
}
