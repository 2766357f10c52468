import {
  type Ctx,
  downWrite,
  type KGen,
  type Mm,
  type MmuGather,
  mmDecNrPtes,
  pmdClearUnlocked,
  pmdOffset,
  pmdpGet,
  pmdSize,
  rd,
  tlbFinishMmu,
  tlbGatherMmu,
  upWrite,
  type Vma,
} from '@ptlab/core';
import { unlinkFileVma, zapVma } from './exit.js';
import { unmapHugepageRange } from './hugetlb.js';
import { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from './mmu-notifier.js';
import { unmapBegin, unmapEnd } from './user-access.js';

/**
 * munmap() of the whole vma containing `addr` — mm/mmap.c (v6.6):
 * __vm_munmap() → do_vmi_munmap() → do_vmi_align_munmap(): under
 * mmap_write_lock() the vma leaves the mm's tree (detached), then
 * unmap_region() zaps its pages (unmap_vmas()) and free_pgtables() unlinks
 * it from its file (unlink_file_vma(), i_mmap_lock_write) and frees its PTE
 * tables (free_pgd_range() → free_pte_range() → pte_free_tlb(): no ptl, as
 * at exit) through an mmu_gather, finished by tlb_finish_mmu().
 *
 * Simplified: v6.6 downgrades mmap_lock to read before unmap_region()
 * (`unlock` true, as munmap(2) passes); the model keeps it for write, which
 * only keeps out faults and other mmap_lock readers of this mm for longer.
 * The vma's PTE tables are its own (scenario vmas are PMD-aligned and never
 * share a pmd slot), so floor and ceiling never keep a table.
 */
export function* munmapVma(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  return yield* ctx.call('munmap', munmapVmaBody(ctx, mm, addr));
}

/** The body of munmapVma(). */
function* munmapVmaBody(ctx: Ctx, mm: Mm, addr: number): KGen<number> {
  yield* downWrite(ctx, mm.mmapLock);
  yield ctx.step(() => `vma_find(${mm.id}, 0x${addr.toString(16)})`, rd(mm.vmasObj), 'r');
  const vma = mm.vmas.find((v) => !v.detached && v.start <= addr && addr < v.end);
  if (!vma) {
    yield* upWrite(ctx, mm.mmapLock);
    return 0; // munmap() of an unmapped range succeeds
  }
  // vms_gather_munmap_vmas() / vma_iter_clear(): the vma leaves the mm.
  yield ctx.step(() => `detach vma 0x${vma.start.toString(16)} of ${mm.id}`, [mm.vmasObj, vma.obj]);
  mm.vmas.splice(mm.vmas.indexOf(vma), 1);
  vma.detached = true;
  unmapBegin(mm, vma);
  // unmap_region(): unmap_vmas() (inside an MMU_NOTIFY_UNMAP invalidate range, so a
  // secondary MMU drops what it cached), then free_pgtables().
  yield* mmuNotifierInvalidateRangeStart(ctx, mm, vma.start, vma.end);
  yield* ctx.call(
    'unmap_vmas',
    vma.flags.hugetlb ? unmapHugepageRange(ctx, vma) : zapVma(ctx, vma),
  );
  yield* mmuNotifierInvalidateRangeEnd(ctx, mm, vma.start, vma.end);
  const f = vma.file;
  if (f) yield* ctx.call('unlink_file_vma', unlinkFileVma(ctx, f, vma));
  const tlb = tlbGatherMmu(mm, false);
  yield* ctx.call('free_pgd_range', freePgdRangeOfVma(ctx, mm, vma, tlb));
  yield* tlbFinishMmu(ctx, tlb);
  // The tables are gone: an access to the range walks to nothing (no step of its own:
  // nothing can reach a page of the range through the page tables any more).
  unmapEnd(mm, vma);
  yield* upWrite(ctx, mm.mmapLock);
  return 0;
}

/** free_pgd_range() over the vma's PMD slots — mm/memory.c: free_pmd_range() → free_pte_range(). */
function* freePgdRangeOfVma(ctx: Ctx, mm: Mm, vma: Vma, tlb: MmuGather): KGen {
  const a = ctx.k.arch;
  const PMD_SIZE = pmdSize(ctx);
  for (let base = vma.start; base < vma.end; base += PMD_SIZE) {
    // free_pmd_range(): pmd_none_or_clear_bad() skips an empty slot; free_pte_range():
    // pmd_pgtable(*pmd), pmd_clear(), pte_free_tlb(), mm_dec_nr_ptes().
    const pmdp = pmdOffset(ctx, mm, base);
    if (a.pmdNone((yield* pmdpGet(ctx, pmdp)).raw)) continue;
    const old = yield* pmdClearUnlocked(ctx, pmdp);
    if (!old.table) continue;
    mmDecNrPtes(ctx, mm);
    yield* ctx.call('pte_free_tlb', a.pteFreeTlb(ctx, tlb, old.table.pa));
  }
}
