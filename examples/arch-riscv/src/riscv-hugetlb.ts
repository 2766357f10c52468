/**
 * riscv hugetlb page-table helpers — arch/riscv/mm/hugetlbpage.c (v6.5+).
 *
 * PMD_SIZE (2M) and PUD_SIZE (1G) pages are leaf entries at those levels; the
 * Svnapot sizes (only 64K, NAPOT_CONT64KB_ORDER, in v6.6-v6.13) are 16
 * contiguous PTEs of a normal PTE table, reached with pte_alloc_huge() and
 * pte_offset_huge() (pte_offset_kernel(): no RCU, nothing to unmap).
 * hugetlb PTE tables are never retracted by khugepaged; they go in
 * free_pgtables() with mmap_lock held for write.
 */
import {
  type Ctx,
  type GenericArch,
  type KGen,
  type Mm,
  ModelError,
  type PmdPtr,
  type PtePtr,
  pmdOffset,
  pmdpGet,
  pmdpGetLockless,
  pmdSize,
  pteAlloc,
  pteAllocHuge,
  pteOffsetHuge,
  pteOffsetMap,
  ptepGet,
} from '@ptlab/core';
import { RISCV_HUGETLB_UNBALANCED_MAP } from './riscv-variants.js';

/** enum napot_cont_order — arch/riscv/include/asm/pgtable-64.h: only 64KB (order 4). */
export const NAPOT_CONT_ORDERS: readonly number[] = [4];

/** napot_cont_size(order) = BIT(order + PAGE_SHIFT) — arch/riscv/include/asm/pgtable-64.h */
export function napotContSize(pageSize: number, order: number): number {
  return pageSize * 2 ** order;
}

/** The hugetlb sizes riscv maps at PTE level (for_each_napot_order()). */
export function napotSizes(pageSize: number): number[] {
  return NAPOT_CONT_ORDERS.map((o) => napotContSize(pageSize, o));
}

/** PUD_SIZE — arch/riscv/include/asm/pgtable-64.h: PUD_SHIFT 30. */
const PUD_SIZE = 2 ** 30;

function napotOrderOf(ctx: Ctx, sz: number): number | undefined {
  return NAPOT_CONT_ORDERS.find((o) => napotContSize(ctx.k.config.PAGE_SIZE, o) === sz);
}

/** addr & napot_cont_mask(order) */
function napotAlign(addr: number, sz: number): number {
  return addr - (addr % sz);
}

function pudNotModelled(what: string): never {
  throw new ModelError(
    'arch-riscv',
    `${what}: PUD_SIZE hugetlb pages live in the pud, and the model folds every level above the pmd`,
  );
}

/** pte_alloc_map() — include/linux/mm.h: pte_alloc() ? NULL : pte_offset_map(); the caller owes a pte_unmap(). */
function* pteAllocMap(ctx: Ctx, mm: Mm, pmdp: PmdPtr, addr: number): KGen<PtePtr | null> {
  const cur = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(cur.raw) && (yield* pteAlloc(ctx, mm, pmdp)) !== 0) return null;
  return yield* pteOffsetMap(ctx, pmdp, addr);
}

/** huge_pte_alloc() — arch/riscv/mm/hugetlbpage.c */
export function* riscvHugePteAlloc(
  arch: GenericArch,
  ctx: Ctx,
  mm: Mm,
  addr: number,
  sz: number,
): KGen<PtePtr | null> {
  // pgd_offset(), p4d_alloc(), pud_alloc(): folded into the model's one pmd table per mm.
  if (sz === PUD_SIZE) pudNotModelled('huge_pte_alloc()');
  const pmdp = pmdOffset(ctx, mm, addr);
  if (sz === pmdSize(ctx)) {
    // (pte_t *)pmd_alloc(); huge_pmd_share() for shared PMD_SIZE mappings is not modelled.
    yield* pmdpGetLockless(ctx, pmdp); // ptep_get_lockless(pte) for WARN_ON_ONCE(pte_present && !pte_huge)
    return pmdp;
  }
  const order = napotOrderOf(ctx, sz);
  if (order === undefined) return null;
  const base = napotAlign(addr, sz);
  const pte =
    arch.variant === RISCV_HUGETLB_UNBALANCED_MAP
      ? yield* ctx.call('pte_alloc_map', pteAllocMap(ctx, mm, pmdp, base))
      : yield* ctx.call('pte_alloc_huge', pteAllocHuge(ctx, mm, pmdp, base));
  // ptep_get_lockless(pte) for WARN_ON_ONCE(pte_present(pteval) && !pte_huge(pteval)): a read, not a check here.
  if (pte) yield* ptepGet(ctx, pte, 'ptep_get_lockless()');
  return pte;
}

/** huge_pte_offset() — arch/riscv/mm/hugetlbpage.c: tests pmd_present() (not pmd_none() as mm/hugetlb.c does). */
export function* riscvHugePteOffset(
  arch: GenericArch,
  ctx: Ctx,
  mm: Mm,
  addr: number,
  sz: number,
): KGen<PtePtr | null> {
  // pgd_present(), p4d_present(), pud_present(): folded, always present.
  if (sz === PUD_SIZE) pudNotModelled('huge_pte_offset()');
  const pmdp = pmdOffset(ctx, mm, addr);
  if (sz === pmdSize(ctx)) return pmdp; // must be pmd huge, non-present or none
  const pmdval = yield* pmdpGet(ctx, pmdp);
  if (!arch.pmdPresent(pmdval.raw)) return null;
  if (napotOrderOf(ctx, sz) === undefined) return null;
  return yield* ctx.call('pte_offset_huge', pteOffsetHuge(ctx, pmdp, napotAlign(addr, sz)));
}
