/**
 * Walkers that lock the PTE table another mapping's pmd points to while
 * holding their own ptl — the callers "[PATCH v3 03/13] arm: adjust_pte() use
 * pte_offset_map_nolock()" and "[PATCH v3 13/13] mm/pgtable: notes on
 * pte_offset_map[_lock]()" are about: pte_offset_map_nolock() returns the
 * lock of exactly the table it mapped, even if *pmd changes afterwards, and
 * that is the lock to take.
 *
 * The arm VIVT cache-coherency walk (update_mmu_cache() → make_coherent() →
 * adjust_pte(), arch/arm/mm/fault-armv.c) is an arch hook (ArchImpl.adjustPte);
 * on arches without it the same shape is the generic pte_offset_map_nolock()
 * user below.
 */
import {
  type Ctx,
  downRead,
  type KGen,
  type Mm,
  pmdOffset,
  pteOffsetMapLock,
  pteOffsetMapNolock,
  ptepGetUnderPtl,
  pteUnmap,
  pteUnmapUnlock,
  SINGLE_DEPTH_NESTING,
  type SpinLock,
  spinLock,
  spinUnlock,
  upRead,
  type Vma,
} from '@ptlab/core';

/**
 * A pte_offset_map_nolock() user that takes the lock it was given before it
 * looks, nested inside a ptl it already holds — the shape of mm/memory.c
 * copy_pte_range() (source side), mm/mremap.c move_ptes() (destination side)
 * and mm/khugepaged.c collapse_pte_mapped_thp() (v6.6): map, take exactly the
 * returned ptl (unless it is the one held: no split ptlocks), read the pte
 * under it, unlock, unmap. Returns whether the pte was present.
 */
export function* ptlOfMappedTableUser(
  ctx: Ctx,
  vma: Vma,
  addr: number,
  held: SpinLock | null,
): KGen<boolean> {
  const mm = vma.mm;
  const m = yield* pteOffsetMapNolock(ctx, mm, pmdOffset(ctx, mm, addr), addr);
  if (!m) return false;
  const nested = m.ptl !== held;
  if (nested) yield* spinLock(ctx, m.ptl, held ? SINGLE_DEPTH_NESTING : 0);
  const pte = yield* ptepGetUnderPtl(ctx, m.pte, m.ptl, 'read pte under the ptl of its table');
  if (nested) yield* spinUnlock(ctx, m.ptl);
  yield* pteUnmap(ctx, m.pte);
  const a = ctx.k.arch;
  return !a.pteNone(pte) && a.ptePresent(pte);
}

/** The other VM_MAYSHARE vmas of `vma`'s mm mapping the file page at `addr`, with their address for it. */
function aliasesOf(ctx: Ctx, vma: Vma, addr: number): { vma: Vma; addr: number }[] {
  const file = vma.file;
  if (!file) return [];
  const PAGE_SIZE = ctx.k.config.PAGE_SIZE;
  const pgoff = vma.pgoff + Math.floor((addr - vma.start) / PAGE_SIZE);
  const out: { vma: Vma; addr: number }[] = [];
  for (const mpnt of file.iMmap) {
    const pages = Math.floor((mpnt.end - mpnt.start) / PAGE_SIZE);
    if (pgoff < mpnt.pgoff || pgoff >= mpnt.pgoff + pages) continue;
    if (mpnt.mm !== vma.mm || mpnt === vma || !mpnt.flags.shared || mpnt.detached) continue;
    out.push({ vma: mpnt, addr: mpnt.start + (pgoff - mpnt.pgoff) * PAGE_SIZE });
  }
  return out;
}

/**
 * The aliasing walk update_mmu_cache() does after a shared write fault at
 * `addr` in `mm`, on a VIVT cache — arch/arm/mm/fault-armv.c make_coherent()
 * → adjust_pte(): under mmap_read_lock() and holding the ptl of its own pte
 * (pte_offset_map_lock(), as update_mmu_cache()'s callers do), visit every
 * other shared mapping of the same page in this mm and lock its pte's table
 * with arch.adjustPte(); on an arch without that hook, with the generic
 * pte_offset_map_nolock() user. Returns the number of aliases whose pte was
 * present. Models the walk, not the fault before it (the page is not
 * installed: the pte may be none) nor the cache maintenance.
 */
export function* coherencyWalk(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  return yield* ctx.call('update_mmu_cache', coherencyWalkBody(ctx, mm, addr));
}

/** The body of coherencyWalk(). */
function* coherencyWalkBody(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  yield* downRead(ctx, mm.mmapLock);
  const vma = mm.vmaAt(addr);
  let aliases = 0;
  if (vma) {
    const own = yield* pteOffsetMapLock(ctx, mm, pmdOffset(ctx, mm, addr), addr);
    // No table (retracted under us): the fault would return and be retried.
    if (own) {
      const hook = ctx.k.arch.adjustPte;
      for (const alias of aliasesOf(ctx, vma, addr)) {
        const present = hook
          ? yield* ctx.call('adjust_pte', hook.call(ctx.k.arch, ctx, alias.vma, alias.addr))
          : yield* ctx.call(
              'pte_offset_map_nolock_user',
              ptlOfMappedTableUser(ctx, alias.vma, alias.addr, own.ptl),
            );
        if (present) aliases++;
      }
      yield* pteUnmapUnlock(ctx, own.pte, own.ptl);
    }
  }
  yield* upRead(ctx, mm.mmapLock);
  return aliases;
}
