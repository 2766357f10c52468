/**
 * Historical arm/arm64 code the seeds show to be wrong, as policies the port
 * switches in by variant id (create(config, variant)).
 */
import {
  type ArchVariant,
  bug,
  type Ctx,
  type KGen,
  type Mm,
  type PmdPtr,
  type PtePtr,
  pmdOffset,
  pmdpGet,
  pteAlloc,
  pteLockptr,
  pteOffsetMap,
  pteUnmap,
  type SpinLock,
  type Vma,
} from '@ptlab/core';
import { adjustPte, doAdjustPte, doPteLock, doPteUnlock } from './arm-fault.js';
import { arm64HugePteAlloc, contPteSize } from './arm-hugetlb.js';
import type { ArmPgalloc } from './arm-pgalloc.js';

export const ARM_ADJUST_PTE_LOCKPTR = 'arm-adjust-pte-lockptr';
export const ARM64_HUGETLB_UNBALANCED_MAP = 'arm64-hugetlb-unbalanced-map';
export const ARM_ADJUST_PTE_CANNOT_FAIL = 'arm-adjust-pte-cannot-fail';
export type ArmVariantId =
  | typeof ARM_ADJUST_PTE_LOCKPTR
  | typeof ARM64_HUGETLB_UNBALANCED_MAP
  | typeof ARM_ADJUST_PTE_CANNOT_FAIL;

/** What a variant replaces; the v6.6 kernel is ARM_MAINLINE. */
export interface ArmPolicy {
  /** adjust_pte() — arch/arm/mm/fault-armv.c */
  adjustPte(a: ArmPgalloc, ctx: Ctx, vma: Vma, addr: number): KGen<boolean>;
  /** huge_pte_alloc() — arch/arm64/mm/hugetlbpage.c */
  hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null>;
}

export const ARM_MAINLINE: ArmPolicy = {
  adjustPte,
  hugePteAlloc: arm64HugePteAlloc,
};

/**
 * pte_lockptr(mm, pmd) — include/linux/mm.h — as the v6.5 adjust_pte() calls
 * it after pte_offset_map(): with split ptlocks it dereferences *pmd again, so
 * it names the lock of whatever the pmd points to now. A none or huge pmd has
 * no ptlock at all (ptlock_ptr() of pmd_page() of that value is a field of an
 * unrelated struct page): that is the wrong lock too.
 */
function* pteLockptrRereadingPmd(ctx: Ctx, mm: Mm, addr: number, mapped: PtePtr): KGen<SpinLock> {
  if (!ctx.k.config.splitPtePtlocks) return mm.pageTableLock;
  const now = yield* pmdpGet(ctx, pmdOffset(ctx, mm, addr));
  if (!now.table) {
    const what = ctx.k.arch.pmdNone(now.raw) ? 'none' : 'a huge pmd';
    const t = ctx.k.pt.get(mapped.table.pa);
    bug(
      'wrong-ptl',
      `${ctx.cpu.name} ${ctx.fn}: pte_lockptr(mm, pmd) re-read *pmd after pte_offset_map() mapped ${mapped.table.label} and found ${what} (0x${now.raw.toString(16)}): the "ptl" is ptlock_ptr() of a page that is no page table, not the lock of ${mapped.table.label}`,
      t?.deferredAt ? [t.deferredAt] : [],
    );
  }
  return pteLockptr(ctx, mm, now);
}

/**
 * adjust_pte() before "[PATCH v3 03/13] arm: adjust_pte() use
 * pte_offset_map_nolock()" — arch/arm/mm/fault-armv.c as "[PATCH v2 01/23]
 * arm: allow pte_offset_map[_lock]() to fail" left it (v6.5): pte =
 * pte_offset_map(pmd, address); if (!pte) return 0; ptl =
 * pte_lockptr(vma->vm_mm, pmd); do_pte_lock(ptl). Without split ptlocks
 * pte_lockptr() is &mm->page_table_lock and this equals the fix.
 */
function* adjustPteLockptr(a: ArmPgalloc, ctx: Ctx, vma: Vma, addr: number): KGen<boolean> {
  const mm = vma.mm;
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmd = yield* pmdpGet(ctx, pmdp);
  if (a.pmdNone(pmd.raw) || a.pmdBad(pmd.raw) || a.pmdTransHuge(pmd.raw)) return false;
  const pte = yield* pteOffsetMap(ctx, pmdp, addr);
  if (!pte) return false;
  const ptl = yield* ctx.call('pte_lockptr', pteLockptrRereadingPmd(ctx, mm, addr, pte));
  yield* doPteLock(ctx, ptl);
  const ret = yield* ctx.call('do_adjust_pte', doAdjustPte(a, ctx, vma, addr, pte, ptl));
  yield* doPteUnlock(ctx, ptl);
  yield* pteUnmap(ctx, pte);
  return ret;
}

/**
 * adjust_pte() before "[PATCH v2 01/23] arm: allow pte_offset_map[_lock]() to
 * fail" (v6.4, arch/arm/mm/fault-armv.c): ptl = pte_lockptr(vma->vm_mm, pmd);
 * pte = pte_offset_map(pmd, address) — read as if it could not fail —
 * do_pte_lock(ptl); do_adjust_pte(); do_pte_unlock(ptl); pte_unmap(pte). The
 * lock is named from *pmd before the map reads *pmd again.
 */
function* adjustPteCannotFail(a: ArmPgalloc, ctx: Ctx, vma: Vma, addr: number): KGen<boolean> {
  const mm = vma.mm;
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmd = yield* pmdpGet(ctx, pmdp);
  if (a.pmdNone(pmd.raw) || a.pmdBad(pmd.raw) || a.pmdTransHuge(pmd.raw)) return false;
  // pte_lockptr(vma->vm_mm, pmd): one more read of *pmd.
  const now = yield* pmdpGet(ctx, pmdp);
  const ptl =
    ctx.k.config.splitPtePtlocks && now.table ? pteLockptr(ctx, mm, now) : mm.pageTableLock;
  const pte = yield* pteOffsetMap(ctx, pmdp, addr);
  if (!pte)
    bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: Unable to handle kernel NULL pointer dereference: pte_offset_map(pmd) found no table (retracted since the pmd was checked) and do_adjust_pte() reads *ptep`,
    );
  yield* doPteLock(ctx, ptl);
  const ret = yield* ctx.call('do_adjust_pte', doAdjustPte(a, ctx, vma, addr, pte, ptl));
  yield* doPteUnlock(ctx, ptl);
  yield* pteUnmap(ctx, pte);
  return ret;
}

/**
 * huge_pte_alloc() before "[PATCH v2 03/23] arm64/hugetlb: pte_alloc_huge()
 * pte_offset_huge()" — arch/arm64/mm/hugetlbpage.c (v6.4): CONT_PTE_SIZE took
 * ptep = pte_alloc_map(mm, pmdp, addr) = pte_alloc() then pte_offset_map(),
 * and hugetlb never calls pte_unmap(): once pte_offset_map() takes
 * rcu_read_lock() (v6.5/v6.6) every hugetlb fault leaves one held.
 */
function* hugePteAllocUnbalanced(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  size: number,
): KGen<PtePtr | null> {
  if (size !== contPteSize(ctx)) return yield* arm64HugePteAlloc(ctx, mm, addr, size);
  const pmdp = pmdOffset(ctx, mm, addr);
  return yield* ctx.call('pte_alloc_map', pteAllocMap(ctx, mm, pmdp, addr));
}

/** pte_alloc_map() — include/linux/mm.h: pte_alloc(), then pte_offset_map(). */
function* pteAllocMap(ctx: Ctx, mm: Mm, pmdp: PmdPtr, addr: number): KGen<PtePtr | null> {
  const pmd = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(pmd.raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0) return null;
  return yield* pteOffsetMap(ctx, pmdp, addr);
}

export const ARM_VARIANT_POLICIES: Readonly<Record<ArmVariantId, ArmPolicy>> = {
  [ARM_ADJUST_PTE_LOCKPTR]: { ...ARM_MAINLINE, adjustPte: adjustPteLockptr },
  [ARM64_HUGETLB_UNBALANCED_MAP]: { ...ARM_MAINLINE, hugePteAlloc: hugePteAllocUnbalanced },
  [ARM_ADJUST_PTE_CANNOT_FAIL]: { ...ARM_MAINLINE, adjustPte: adjustPteCannotFail },
};

export const ARM_VARIANTS: readonly ArchVariant[] = [
  {
    id: ARM_ADJUST_PTE_LOCKPTR,
    description:
      'adjust_pte() maps the alias with pte_offset_map() and then takes pte_lockptr(mm, pmd), which re-reads *pmd: after a retract (and a refill) it locks another table, or none, while it read-modify-writes the table it mapped. Only observable with split ptlocks (without them pte_lockptr() is mm->page_table_lock); arm-lpae is the arm config with split ptlocks and THP.',
    seed: 'seeds/004: "[PATCH v3 03/13] arm: adjust_pte() use pte_offset_map_nolock()" (and "[PATCH v2 01/23] arm: allow pte_offset_map[_lock]() to fail" for the v6.5 form)',
    configs: ['arm-lpae'],
    expect: 'caught',
    checks: ['wrong-ptl'],
  },
  {
    id: ARM64_HUGETLB_UNBALANCED_MAP,
    description:
      'arm64 huge_pte_alloc() maps a CONT_PTE hugetlb table with pte_alloc_map() (pte_offset_map()) and never pte_unmap()s it: with rcu_read_lock() in pte_offset_map() every hugetlb fault returns inside an RCU read-side section.',
    seed: 'seeds/004: "[PATCH v2 03/23] arm64/hugetlb: pte_alloc_huge() pte_offset_huge()"',
    configs: ['arm64-4k'],
    expect: 'caught',
    checks: ['rcu-unbalanced', 'sleep-in-atomic'],
  },
  {
    id: ARM_ADJUST_PTE_CANNOT_FAIL,
    description:
      'adjust_pte() as in v6.4: ptl = pte_lockptr(mm, pmd) first, then pte = pte_offset_map(pmd, address) used without a NULL check: once khugepaged retracts tables without mmap_lock, the map can fail under it (NULL pointer dereference in do_adjust_pte()), or map a table other than the one whose lock it took.',
    seed: 'upstream "arm: allow pte_offset_map[_lock]() to fail" (Hugh Dickins, v6.5; seeds/004 "[PATCH v2 01/23]"), arch/arm/mm/fault-armv.c; made necessary by "[PATCH v3 09/13] mm/khugepaged: retract_page_tables() without mmap or vma lock"',
    configs: ['arm-lpae'],
    expect: 'caught',
    checks: ['kernel-bug', 'wrong-ptl'],
  },
];
