/**
 * ioctl(UFFDIO_COPY) — mfill_atomic() and friends, mm/userfaultfd.c (v6.6).
 *
 * Into a private shmem VMA, UFFDIO_COPY does not look at the page cache at
 * all: it allocates a page, copies the user's data into it and installs it as
 * an anonymous, as-if-COWed PTE, protected only by mmap_read_lock() and
 * pte_offset_map_lock(). That is what makes it race with khugepaged: the folio
 * lock of the THP being collapsed does not stop it (Jann Horn's reproducer,
 * seeds/004). One page per call; -EAGAIN goes back to userspace, which retries.
 */
import {
  addMmCounter,
  assertEffectWrites,
  bug,
  type Ctx,
  downRead,
  FOLIO_ALLOC,
  type Folio,
  type KGen,
  MM_ANONPAGES,
  type Mm,
  mmCounterFile,
  type PmdPtr,
  pmdOffset,
  pmdpGet,
  pmdpGetLockless,
  pteAlloc,
  pteOffsetMapLock,
  ptepGet,
  pteUnmapUnlock,
  setPteAt,
  upRead,
  type Vma,
} from '@ptlab/core';
import { folioPut } from './folio.js';
import { UFFD_BUG_ON_YANKED_TABLE, UFFD_MAP_CANNOT_FAIL } from './mutants.js';

export const ENOENT = 2;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EEXIST = 17;
export const EINVAL = 22;

/** How many times the model's userspace retries an ioctl that returned -EAGAIN. */
const MAX_RETRIES = 4;

/**
 * UFFDIO_COPY of one page at `dst` — userfaultfd_copy() → mfill_atomic_copy():
 * returns 0 or -errno; like a well-behaved monitor, retries on -EAGAIN.
 */
export function* uffdioCopy(ctx: Ctx, mm: Mm, dst: number): KGen<number> {
  return yield* ctx.call('userfaultfd_copy', uffdioCopyBody(ctx, mm, dst));
}

/** The body of uffdioCopy(). */
function* uffdioCopyBody(ctx: Ctx, mm: Mm, dst: number): KGen<number> {
  let r = -EAGAIN;
  for (let i = 0; i < MAX_RETRIES && r === -EAGAIN; i++) {
    if (i) ctx.k.note('UFFDIO_COPY returned -EAGAIN: userspace retries');
    r = yield* ctx.call('mfill_atomic', mfillAtomic(ctx, mm, dst));
  }
  return r;
}

/** find_dst_vma() — mm/userfaultfd.c: the vma must contain dst and be registered with a userfaultfd. */
function findDstVma(mm: Mm, dst: number): Vma | null {
  const vma = mm.vmaAt(dst);
  return vma?.uffdArmed ? vma : null;
}

/** mfill_atomic() — mm/userfaultfd.c (mmap_changing and hugetlb not modelled). */
function* mfillAtomic(ctx: Ctx, mm: Mm, dst: number): KGen<number> {
  yield* downRead(ctx, mm.mmapLock);
  const r = yield* mfillAtomicLocked(ctx, mm, dst);
  yield* upRead(ctx, mm.mmapLock);
  return r;
}

function* mfillAtomicLocked(ctx: Ctx, mm: Mm, dst: number): KGen<number> {
  const a = ctx.k.arch;
  const vma = findDstVma(mm, dst);
  if (!vma) return -ENOENT;
  // Only anonymous and shmem VMAs (the model's files are shmem).
  if (vma.file && !vma.file.shmem) return -EINVAL;
  // Ensure the dst_vma has an anon_vma, or this page would get a NULL anon_vma.
  if (!vma.flags.shared) yield* ctx.call('anon_vma_prepare', anonVmaPrepare(ctx, vma));

  const pmdp = pmdOffset(ctx, mm, dst); // mm_alloc_pmd()
  const dstPmdval = yield* pmdpGetLockless(ctx, pmdp);
  // If the dst_pmd is mapped as THP don't override it and just be strict.
  if (a.pmdTransHuge(dstPmdval.raw)) return -EEXIST;
  if (a.pmdNone(dstPmdval.raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0) return -ENOMEM;
  // If a huge pmd materialized from under us fail.
  if (a.pmdTransHuge((yield* pmdpGet(ctx, pmdp)).raw)) return -EFAULT;
  if (ctx.k.has(UFFD_BUG_ON_YANKED_TABLE)) {
    // v6.6..v6.10: BUG_ON(pmd_none(*dst_pmd)); BUG_ON(pmd_trans_huge(*dst_pmd));
    for (const [what, holds] of [
      ['pmd_none', (v: number) => a.pmdNone(v)],
      ['pmd_trans_huge', (v: number) => a.pmdTransHuge(v)],
    ] as const) {
      const now = yield* pmdpGet(ctx, pmdp);
      if (holds(now.raw))
        bug(
          'kernel-bug',
          `${ctx.cpu.name} ${ctx.fn}: kernel BUG at mm/userfaultfd.c: BUG_ON(${what}(*dst_pmd)) (pmd 0x${now.raw.toString(16)}): the table __pte_alloc() saw or installed was retracted since`,
        );
    }
  }
  /*
   * v6.6 had BUG_ON(pmd_none(*dst_pmd)) here; Jann Horn's "userfaultfd: don't
   * BUG_ON() if khugepaged yanks our page table" (Fixes: 1d65b771bc08, v6.11,
   * stable) removed it: "For shmem mappings, khugepaged is allowed to remove
   * page tables under us; pte_offset_map_lock() will deal with that."
   */
  return yield* ctx.call('mfill_atomic_pte', mfillAtomicPte(ctx, vma, pmdp, dst));
}

/** __anon_vma_prepare() — mm/rmap.c: what retract_page_tables() checks, before and under the ptl. */
function* anonVmaPrepare(ctx: Ctx, vma: Vma): KGen {
  yield ctx.step(() => `vma->anon_vma = anon_vma of ${vma.mm.id}`, vma.obj);
  vma.anonVma = true;
}

/** mfill_atomic_pte() — mm/userfaultfd.c, MFILL_ATOMIC_COPY. */
function* mfillAtomicPte(ctx: Ctx, vma: Vma, pmdp: PmdPtr, dst: number): KGen<number> {
  if (!vma.flags.shared) {
    // Fill a hole in a MAP_PRIVATE shmem mapping with anonymous memory directly.
    return yield* ctx.call('mfill_atomic_pte_copy', mfillAtomicPteCopy(ctx, vma, pmdp, dst));
  }
  return yield* ctx.call('shmem_mfill_atomic_pte', shmemMfillAtomicPte(ctx, vma, pmdp, dst));
}

/** mfill_atomic_pte_copy() — mm/userfaultfd.c: a new anon page with the user's data. */
function* mfillAtomicPteCopy(ctx: Ctx, vma: Vma, pmdp: PmdPtr, dst: number): KGen<number> {
  // vma_alloc_folio(); copy_from_user() into it (data, nobody else sees it yet).
  yield ctx.step('vma_alloc_folio()', FOLIO_ALLOC);
  const folio = ctx.k.createFolio(`anon#${ctx.k.folios.length}@${vma.mm.id}`, 0, null, 0);
  const ret = yield* ctx.call(
    'mfill_atomic_install_pte',
    mfillAtomicInstallPte(ctx, vma, pmdp, dst, folio, false),
  );
  if (ret) yield* folioPut(ctx, folio); // out_release
  return ret;
}

/**
 * shmem_mfill_atomic_pte() — mm/shmem.c, reduced: the new page must go into
 * the page cache (-EEXIST if a folio is already there), then it is mapped.
 */
function* shmemMfillAtomicPte(ctx: Ctx, vma: Vma, pmdp: PmdPtr, dst: number): KGen<number> {
  const mapping = vma.file;
  if (!mapping) return -EINVAL;
  const index = vma.pgoff + Math.floor((dst - vma.start) / ctx.k.config.PAGE_SIZE);
  yield ctx.step(
    () => `shmem_add_to_page_cache(${mapping.id}, ${index})`,
    [mapping.pageCacheObj, FOLIO_ALLOC],
  );
  if (mapping.folioAt(index)) return -EEXIST;
  const folio = ctx.k.createFolio(`${mapping.id}:uffd@${index}`, 0, mapping, index);
  const ret = yield* ctx.call(
    'mfill_atomic_install_pte',
    mfillAtomicInstallPte(ctx, vma, pmdp, dst, folio, true),
  );
  if (ret) {
    // out_delete_from_cache: filemap_remove_folio(), then the page goes.
    yield ctx.step(() => `filemap_remove_folio(${folio.id})`, mapping.pageCacheObj);
    mapping.pageCache.delete(index);
    yield* folioPut(ctx, folio);
  }
  return ret;
}

/** mfill_atomic_install_pte() — mm/userfaultfd.c: map `folio` at dst under the table's ptl. */
function* mfillAtomicInstallPte(
  ctx: Ctx,
  vma: Vma,
  pmdp: PmdPtr,
  dst: number,
  folio: Folio,
  pageInCache: boolean,
): KGen<number> {
  const a = ctx.k.arch;
  const mm = vma.mm;
  // VM_WRITE is assumed; a page-cache page in a private mapping is mapped read-only.
  const writable = !(pageInCache && !vma.flags.shared);
  const pte = a.mkPte(folio.pfn, { write: writable });

  const m = yield* pteOffsetMapLock(ctx, mm, pmdp, dst);
  if (!m && ctx.k.has(UFFD_MAP_CANNOT_FAIL))
    bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: Unable to handle kernel NULL pointer dereference: pte_offset_map_lock() found no table (retracted since __pte_alloc()) and pte_none(ptep_get(dst_pte)) reads through NULL`,
    );
  if (!m) return -EAGAIN;
  // We allow to overwrite a pte marker (pte_none_mostly()); markers are not modelled.
  const cur = yield* ptepGet(ctx, m.pte);
  if (!a.pteNone(cur)) {
    yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
    return -EEXIST;
  }
  yield* setPteAt(ctx, mm, m.pte, pte);
  // The kernel takes the rmap and rss just before set_pte_at(), under the same ptl: the model
  // does it in set_pte_at()'s effect, whose footprint names the folio (no other CPU can tell).
  assertEffectWrites(ctx, folio.refsObj, 'mfill_atomic_install_pte(): rmap');
  if (pageInCache) {
    // page_add_file_rmap(), and the mapping's reference.
    folio.mapcount++;
    folio.refcount++;
  } else {
    folio.mapcount++; // page_add_new_anon_rmap(): the new page's reference becomes the mapping's
  }
  addMmCounter(mm, pageInCache ? mmCounterFile(folio) : MM_ANONPAGES, 1); // inc_mm_counter(mm_counter())
  const hook = a.updateMmuCache;
  if (hook) yield* ctx.call('update_mmu_cache', hook.call(a, ctx, vma, dst, m.pte));
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  return 0;
}
