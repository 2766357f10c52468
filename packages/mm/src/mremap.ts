/**
 * mremap(old, PMD_SIZE, PMD_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, new) of one
 * PMD-sized, PMD-aligned extent of a file vma — mm/mremap.c (v6.6 with
 * "mm/mremap: fix move_normal_pmd/retract_page_tables race"): mremap_to() →
 * move_vma(): copy_vma() links the new vma into the file's i_mmap, then
 * move_page_tables() moves the whole PTE table with move_normal_pmd() (the
 * pmd entry itself, under both pmd locks and the file's rmap lock), else
 * falls back to the PTE level; finally the old range is unmapped
 * (do_vmi_munmap(): zap, unlink_file_vma(), free_pgtables()).
 *
 * Simplified: within one mm, one extent, no anon_vma (anon collapse is not
 * modelled), CONFIG_HAVE_MOVE_PMD and arch_supports_page_table_move(); the
 * PTE-level move_ptes() is modelled only as far as this scenario reaches it
 * (the old table is gone: pte_offset_map_lock() fails, -EAGAIN, the pmd is
 * none and the extent is done).
 */
import {
  type Ctx,
  downWrite,
  flushTlbRange,
  type KGen,
  type Mm,
  ModelError,
  pmdClear,
  pmdLock,
  pmdOffset,
  pmdPopulate,
  pmdpGet,
  pmdSize,
  pteAlloc,
  pteOffsetMapLock,
  pteUnmapUnlock,
  spinUnlock,
  upWrite,
  Vma,
} from '@ptlab/core';
import { MREMAP_MOVE_PMD_UNCHECKED } from './mutants.js';

const EINVAL = 22;

/**
 * move_normal_pmd() — mm/mremap.c: both pmd locks (one here: the model has one
 * pmd table), pmd = *old_pmd, and — since the fix — bail if it no longer points
 * to a page table (khugepaged's retract_page_tables() cleared it between
 * get_old_pmd() and take_rmap_locks()); else pmd_clear(old_pmd),
 * pmd_populate(new_pmd, pmd_pgtable(pmd)), flush_tlb_range() of the old range.
 */
function* moveNormalPmd(ctx: Ctx, oldVma: Vma, oldAddr: number, newAddr: number): KGen<boolean> {
  const mm = oldVma.mm;
  const a = ctx.k.arch;
  const oldPmdp = pmdOffset(ctx, mm, oldAddr);
  const newPmdp = pmdOffset(ctx, mm, newAddr);
  // if (WARN_ON_ONCE(!pmd_none(*new_pmd))) return false;
  if (!a.pmdNone((yield* pmdpGet(ctx, newPmdp)).raw)) return false;
  // old_ptl = pmd_lock(old_pmd); new_ptl = pmd_lockptr(new_pmd): the same pmd table, the same lock.
  const pml = yield* pmdLock(ctx, mm, oldPmdp);
  const pmd = yield* pmdpGet(ctx, oldPmdp);
  // Racing with collapse? (the fix)
  if (!ctx.k.has(MREMAP_MOVE_PMD_UNCHECKED) && (!pmd.table || a.pmdTransHuge(pmd.raw))) {
    yield* spinUnlock(ctx, pml);
    return false;
  }
  yield* pmdClear(ctx, mm, oldPmdp);
  // pmd_populate(mm, new_pmd, pmd_pgtable(pmd)): of a none pmd, physical page 0.
  yield* pmdPopulate(ctx, mm, newPmdp, a.pmdTablePa(pmd.raw));
  yield* flushTlbRange(ctx, mm, oldAddr, oldAddr + pmdSize(ctx));
  yield* spinUnlock(ctx, pml);
  return true;
}

/**
 * move_page_tables() — mm/mremap.c, for one PMD extent: get_old_pmd() (none:
 * nothing to move); a huge pmd is not modelled; a table: move_pgt_entry(
 * NORMAL_PMD) takes the rmap lock (i_mmap_lock_write()) around
 * move_normal_pmd(); if that declined, the PTE level: pte_alloc(new_pmd), then
 * move_ptes(), whose pte_offset_map_lock() of the old pmd fails (-EAGAIN), and
 * "again" finds the old pmd none.
 */
function* movePageTables(ctx: Ctx, oldVma: Vma, oldAddr: number, newAddr: number): KGen {
  const a = ctx.k.arch;
  const mm = oldVma.mm;
  const mapping = oldVma.file;
  if (!mapping) throw new ModelError('mm/mremap', 'mremap of an anonymous vma is not modelled');
  const oldPmdp = pmdOffset(ctx, mm, oldAddr);
  for (let again = 0; again < 4; again++) {
    const old = yield* pmdpGet(ctx, oldPmdp); // get_old_pmd()
    if (a.pmdNone(old.raw)) return;
    if (a.pmdTransHuge(old.raw))
      throw new ModelError('mm/mremap', 'moving a huge pmd (move_huge_pmd()) is not modelled');
    // move_pgt_entry(NORMAL_PMD, ..., need_rmap_locks = true): take_rmap_locks()
    yield* downWrite(ctx, mapping.iMmapRwsem);
    const moved = yield* ctx.call('move_normal_pmd', moveNormalPmd(ctx, oldVma, oldAddr, newAddr));
    yield* upWrite(ctx, mapping.iMmapRwsem);
    if (moved) return;
    // PTE level: if (pte_alloc(new_vma->vm_mm, new_pmd)) break; move_ptes() (-EAGAIN: goto again).
    if ((yield* pteAlloc(ctx, mm, pmdOffset(ctx, mm, newAddr))) !== 0) return;
    const m = yield* pteOffsetMapLock(ctx, mm, oldPmdp, oldAddr);
    if (m) {
      // A table came back under the old pmd: moving its PTEs one by one is not modelled.
      yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
      throw new ModelError('mm/mremap', 'move_ptes() of a populated table is not modelled');
    }
  }
}

/**
 * The old range's unmap after the move — do_vmi_munmap(): unmap_region() zaps
 * it (its pmd is none now, or maps nothing), unlink_file_vma() takes the vma
 * off i_mmap, free_pgtables() finds no table to free.
 */
function* unmapOld(ctx: Ctx, oldVma: Vma): KGen {
  const mm = oldVma.mm;
  const a = ctx.k.arch;
  const pmd = yield* pmdpGet(ctx, pmdOffset(ctx, mm, oldVma.start));
  if (!a.pmdNone(pmd.raw))
    throw new ModelError(
      'mm/mremap',
      'unmapping an old range that still maps a table is not modelled',
    );
  yield ctx.step(() => `detach the old vma of ${mm.id}`, [mm.vmasObj, oldVma.obj]);
  oldVma.detached = true;
  const j = mm.vmas.indexOf(oldVma);
  if (j >= 0) mm.vmas.splice(j, 1);
  const f = oldVma.file;
  if (f) {
    yield* downWrite(ctx, f.iMmapRwsem);
    const i = f.iMmap.indexOf(oldVma);
    if (i >= 0) f.iMmap.splice(i, 1);
    yield* upWrite(ctx, f.iMmapRwsem);
  }
}

/**
 * mremap(oldAddr, PMD_SIZE, PMD_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, newAddr)
 * — mm/mremap.c, under mmap_write_lock(). 0 or -EINVAL.
 */
export function* mremapMovePmd(ctx: Ctx, mm: Mm, oldAddr: number, newAddr: number): KGen<number> {
  return yield* ctx.call('mremap', mremapMovePmdBody(ctx, mm, oldAddr, newAddr));
}

/** The body of mremapMovePmd(). */
function* mremapMovePmdBody(ctx: Ctx, mm: Mm, oldAddr: number, newAddr: number): KGen<number> {
  const PMD_SIZE = pmdSize(ctx);
  if (oldAddr % PMD_SIZE || newAddr % PMD_SIZE) return -EINVAL;
  yield* downWrite(ctx, mm.mmapLock);
  const vma = mm.vmaAt(oldAddr);
  if (!vma || vma.start !== oldAddr || vma.end !== oldAddr + PMD_SIZE || mm.vmaAt(newAddr)) {
    yield* upWrite(ctx, mm.mmapLock);
    return -EINVAL;
  }
  // copy_vma() → vma_link(): the new vma is in i_mmap before any table moves.
  const nv = new Vma(mm, newAddr, newAddr + PMD_SIZE, vma.flags, vma.file, vma.pgoff);
  nv.anonVma = vma.anonVma;
  yield ctx.step(() => `copy_vma(): link the new vma of ${mm.id}`, [mm.vmasObj, nv.obj]);
  mm.vmas.push(nv);
  const f = vma.file;
  if (f) {
    yield* downWrite(ctx, f.iMmapRwsem);
    f.iMmap.push(nv);
    yield* upWrite(ctx, f.iMmapRwsem);
  }
  yield* ctx.call('move_page_tables', movePageTables(ctx, vma, oldAddr, newAddr));
  yield* ctx.call('do_vmi_munmap', unmapOld(ctx, vma));
  yield* upWrite(ctx, mm.mmapLock);
  return 0;
}
