/**
 * powerpc entry encodings and page-table hooks: book3s64 hash and radix
 * (arch/powerpc/include/asm/book3s/64/{pgtable,hash,hash-64k,radix}.h) and the
 * 8xx (arch/powerpc/include/asm/nohash/32/pte-8xx.h), pmdp_collapse_flush()
 * (arch/powerpc/mm/book3s64/{hash,radix}_pgtable.c) and assert_pte_locked()
 * (arch/powerpc/mm/pgtable.c).
 *
 * Entries are stored as doubles (53 bits), so book3s64's high flag bits are
 * moved down, keeping their meaning: _PAGE_PRESENT (bit 63) is model bit 51,
 * _PAGE_PTE (bit 62) bit 50, H_PAGE_HASHPTE (_RPAGE_RPN43, bit 55) bit 49,
 * H_PAGE_BUSY (_RPAGE_RPN44, bit 56) bit 48; the real page number field sits
 * below bit 48. Low bits keep their kernel values.
 */
import {
  bug,
  type Ctx,
  type EntryEncoding,
  flushTlbRange,
  type KGen,
  localIrqRestore,
  localIrqSave,
  type Mm,
  ModelError,
  type PmdPtr,
  type PmdVal,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pmdSize,
  pteOffsetMap,
  pteOffsetMapNolock,
  pteUnmap,
  scanPtes,
  smpCallFunction,
  type Vma,
} from '@ptlab/core';
import type { PowerpcConsts } from './powerpc-configs.js';

/** Is power-of-two `bit` set in `v` (entries can exceed 32 bits, so no `&`). */
export function hasBit(v: number, bit: number): boolean {
  return Math.floor(v / bit) % 2 === 1;
}

/** `v & ~(b1 | b2 | ...)` for power-of-two bits. */
export function clearBits(v: number, bits: readonly number[]): number {
  let r = v;
  for (const b of bits) if (hasBit(r, b)) r -= b;
  return r;
}

/** book3s64 bits (asm/book3s/64/pgtable.h, hash-64k.h), high ones at their model positions. */
export const BOOK3S64 = {
  /** _PAGE_PRESENT: 0x8000000000000000 (bit 63) in the kernel. */
  PRESENT: 2 ** 51,
  /** _PAGE_PTE: 0x4000000000000000 (bit 62): a leaf entry (pte or huge pmd). */
  PTE: 2 ** 50,
  /** H_PAGE_HASHPTE = _RPAGE_RPN43: the pte has an HPTE in the hash table. */
  H_PAGE_HASHPTE: 2 ** 49,
  /** H_PAGE_BUSY = _RPAGE_RPN44: pte and hash entry being updated. */
  H_PAGE_BUSY: 2 ** 48,
  /** Where the model's real page number field ends. */
  RPN_LIMIT: 2 ** 48,
  /** H_PAGE_THP_HUGE = H_PAGE_4K_PFN = _RPAGE_RPN1. */
  H_PAGE_THP_HUGE: 0x2000,
  /** H_PAGE_COMBO = _RPAGE_RPN0: a 64K pte made of 4K HPTEs. */
  H_PAGE_COMBO: 0x1000,
  ACCESSED: 0x100,
  DIRTY: 0x80,
  READ: 0x4,
  WRITE: 0x2,
} as const;

/** _PAGE_HPTEFLAGS = H_PTE_NONE_MASK (hash-64k.h): bits hash__pte_none() ignores. */
export const H_PTE_NONE_MASK = [
  BOOK3S64.H_PAGE_BUSY,
  BOOK3S64.H_PAGE_HASHPTE,
  BOOK3S64.H_PAGE_COMBO,
] as const;
/** RADIX_PTE_NONE_MASK = _PAGE_DIRTY | _PAGE_ACCESSED (radix.h): "an empty PTE can still have a R or C writeback". */
export const RADIX_PTE_NONE_MASK = [BOOK3S64.DIRTY, BOOK3S64.ACCESSED] as const;

/** 8xx bits (asm/nohash/32/pte-8xx.h). */
export const PTE_8XX = {
  PRESENT: 0x0001,
  ACCESSED: 0x0020,
  DIRTY: 0x0100,
  /** _PAGE_RO: write-protect ("Supervisor RO, User no access" when alone). */
  RO: 0x0600,
  PMD_PRESENT: 0x0001,
  PMD_USER: 0x0040,
  /** _PMD_BAD */
  PMD_BAD: 0x0f90,
} as const;

/** book3s64 hash or radix entries. */
export class Book3s64Encoding implements EntryEncoding {
  readonly pteEmpty = 0;
  readonly pmdEmpty = 0;
  private readonly hash: boolean;
  private readonly pageSize: number;
  private readonly fragSize: number;
  private readonly nls: number;

  constructor(c: PowerpcConsts, pageSize: number) {
    this.hash = c.mmu === 'hash';
    this.pageSize = pageSize;
    this.fragSize = c.PTE_FRAG_SIZE;
    this.nls = c.pmdNls;
  }

  /** pte_none() → hash__pte_none() / radix__pte_none(): ignore H_PTE_NONE_MASK / RADIX_PTE_NONE_MASK. */
  pteNone(pte: number): boolean {
    return clearBits(pte, this.hash ? H_PTE_NONE_MASK : RADIX_PTE_NONE_MASK) === 0;
  }
  /** pte_present(): _PAGE_PRESENT (| _PAGE_INVALID, not modelled). */
  ptePresent(pte: number): boolean {
    return hasBit(pte, BOOK3S64.PRESENT);
  }
  /** pte_pfn(): (pte & PTE_RPN_MASK) >> PAGE_SHIFT. */
  ptePfn(pte: number): number {
    return Math.floor((pte % BOOK3S64.RPN_LIMIT) / this.pageSize);
  }
  /** pfn_pte(pfn, PAGE_SHARED or PAGE_READONLY). */
  mkPte(pfn: number, prot: { write: boolean }): number {
    return (
      BOOK3S64.PRESENT +
      BOOK3S64.PTE +
      pfn * this.pageSize +
      BOOK3S64.ACCESSED +
      BOOK3S64.READ +
      (prot.write ? BOOK3S64.WRITE : 0)
    );
  }
  /** pmd_none(): !pmd_raw(pmd). */
  pmdNone(pmd: number): boolean {
    return pmd === 0;
  }
  pmdPresent(pmd: number): boolean {
    return hasBit(pmd, BOOK3S64.PRESENT);
  }
  /** pmd_trans_huge(): present and hash__pmd_trans_huge() (_PAGE_PTE|H_PAGE_THP_HUGE) / radix__ (_PAGE_PTE). */
  pmdTransHuge(pmd: number): boolean {
    if (!this.pmdPresent(pmd) || !hasBit(pmd, BOOK3S64.PTE)) return false;
    return !this.hash || hasBit(pmd, BOOK3S64.H_PAGE_THP_HUGE);
  }
  /** pmd_bad(): H_PMD_BAD_BITS (offset within the table size) / RADIX_PMD_BAD_BITS (incl. _PAGE_PTE). */
  pmdBad(pmd: number): boolean {
    if (this.pmdNone(pmd)) return false;
    return (
      hasBit(pmd, BOOK3S64.PTE) ||
      !this.pmdPresent(pmd) ||
      (pmd % BOOK3S64.RPN_LIMIT) % this.fragSize !== this.nls
    );
  }
  /** pmd_populate(): __pgtable_ptr_val(pte) | PMD_VAL_BITS (_PAGE_PRESENT, plus RADIX_PTE_INDEX_SIZE on radix). */
  mkPmdTable(pa: number): number {
    return BOOK3S64.PRESENT + pa + this.nls;
  }
  /** pmd_page_vaddr()/pmd_pgtable(): the fragment's address. */
  pmdTablePa(pmd: number): number {
    const low = pmd % BOOK3S64.RPN_LIMIT;
    return low - (low % this.fragSize);
  }
  /** pmd_mkhuge(pfn_pmd()): hash__pmd_mkhuge() adds H_PAGE_THP_HUGE. */
  mkPmdHuge(pfn: number): number {
    return (
      BOOK3S64.PRESENT +
      BOOK3S64.PTE +
      pfn * this.pageSize +
      BOOK3S64.ACCESSED +
      BOOK3S64.READ +
      (this.hash ? BOOK3S64.H_PAGE_THP_HUGE : 0)
    );
  }
}

/** 8xx entries (32-bit). No THP: a pmd is never a huge leaf. */
export class Nohash8xxEncoding implements EntryEncoding {
  readonly pteEmpty = 0;
  readonly pmdEmpty = 0;
  private readonly pageSize: number;

  constructor(pageSize: number) {
    this.pageSize = pageSize;
  }

  /** pte_none() — asm/nohash/pgtable.h: (pte & ~_PTE_NONE_MASK) == 0, _PTE_NONE_MASK 0 on 8xx. */
  pteNone(pte: number): boolean {
    return pte === 0;
  }
  ptePresent(pte: number): boolean {
    return hasBit(pte, PTE_8XX.PRESENT);
  }
  /** pte_pfn(): pte >> PTE_RPN_SHIFT (PAGE_SHIFT). */
  ptePfn(pte: number): number {
    return Math.floor(pte / this.pageSize);
  }
  /** pfn_pte(pfn, PAGE_SHARED / PAGE_READONLY): _PAGE_BASE (PRESENT|ACCESSED), _PAGE_RO when read-only. */
  mkPte(pfn: number, prot: { write: boolean }): number {
    return pfn * this.pageSize + PTE_8XX.PRESENT + PTE_8XX.ACCESSED + (prot.write ? 0 : PTE_8XX.RO);
  }
  pmdNone(pmd: number): boolean {
    return pmd === 0;
  }
  pmdPresent(pmd: number): boolean {
    return hasBit(pmd, PTE_8XX.PMD_PRESENT);
  }
  pmdTransHuge(_pmd: number): boolean {
    return false;
  }
  /** pmd_bad(): pmd_val(pmd) & _PMD_BAD. */
  pmdBad(pmd: number): boolean {
    const low = pmd % this.pageSize;
    return [0x0800, 0x0400, 0x0200, 0x0100, 0x0080, 0x0010].some((b) => hasBit(low, b));
  }
  /** pmd_populate() — asm/nohash/32/pgalloc.h: __pa(pte) | _PMD_USER | _PMD_PRESENT. */
  mkPmdTable(pa: number): number {
    return pa + PTE_8XX.PMD_USER + PTE_8XX.PMD_PRESENT;
  }
  pmdTablePa(pmd: number): number {
    return pmd - (pmd % this.pageSize);
  }
  mkPmdHuge(_pfn: number): number {
    throw new ModelError('arch-powerpc', 'ppc32-8xx has no transparent huge pmds');
  }
}

/**
 * serialize_against_pte_lookup() — arch/powerpc/mm/book3s64/pgtable.c:
 * smp_call_function_many(mm_cpumask(mm), do_serialize, mm, 1), so every CPU
 * walking this mm's tables with interrupts off (hash_page(), gup_fast) has
 * finished before the caller goes on.
 */
export function* serializeAgainstPteLookup(ctx: Ctx, mm: Mm): KGen {
  yield* ctx.call(
    'serialize_against_pte_lookup',
    smpCallFunction(ctx, [...mm.cpumask], 'do_serialize', null),
  );
}

/**
 * hash__pmdp_collapse_flush() — arch/powerpc/mm/book3s64/hash_pgtable.c:
 * clear the pmd, IPI every CPU of the mm (a hash_page() in flight may still be
 * inserting HPTEs from a ptep it looked up), then invalidate the HPTEs of the range.
 */
export function* hashPmdpCollapseFlush(
  ctx: Ctx,
  vma: Vma,
  addr: number,
  pmdp: PmdPtr,
): KGen<PmdVal> {
  const old = yield* pmdpGetAndClear(ctx, vma.mm, pmdp);
  yield* serializeAgainstPteLookup(ctx, vma.mm);
  ctx.k.reach(POWERPC_HASH_FLUSH_UNBALANCED_MAP);
  const unbalanced =
    (ctx.k.arch as { variant?: string }).variant === POWERPC_HASH_FLUSH_UNBALANCED_MAP;
  yield* ctx.call(
    'flush_hash_table_pmd_range',
    flushHashTablePmdRange(ctx, vma.mm, old, addr, unbalanced),
  );
  return old;
}

/** The variant id of flush_hash_table_pmd_range() before "powerpc: allow pte_offset_map[_lock]() to fail". */
export const POWERPC_HASH_FLUSH_UNBALANCED_MAP = 'powerpc-hash-flush-unbalanced-map';

/**
 * flush_hash_table_pmd_range() — arch/powerpc/mm/book3s64/hash_tlb.c (v6.5+),
 * called by hash__pmdp_collapse_flush() with &pmd, a copy of the old pmd on
 * its stack: local_irq_save(); start_pte = pte_offset_map(pmd, addr) (the
 * detached table, under rcu_read_lock()); if NULL goto out; every pte with
 * H_PAGE_HASHPTE gets hpte_need_flush() (the model keeps no HPTEs: one scan of
 * the table, then the range flush); pte_unmap(); local_irq_restore(). Before
 * v6.5 (`unbalanced`) there was neither the NULL check nor the pte_unmap().
 */
export function* flushHashTablePmdRange(
  ctx: Ctx,
  mm: Mm,
  pmd: PmdVal,
  addr: number,
  unbalanced: boolean,
): KGen {
  yield* localIrqSave(ctx);
  const start = yield* pteOffsetMap(ctx, pmd, addr);
  if (start) {
    yield* scanPtes(
      ctx,
      start.table,
      'flush_hash_table_pmd_range(): pte_val(*pte) & H_PAGE_HASHPTE',
    );
    if (!unbalanced) yield* pteUnmap(ctx, start);
  }
  // arch_leave_lazy_mmu_mode(): the batched hpte_need_flush()es.
  yield* flushTlbRange(ctx, mm, addr, addr + pmdSize(ctx));
  yield* localIrqRestore(ctx);
}

/**
 * radix__pmdp_collapse_flush() — arch/powerpc/mm/book3s64/radix_pgtable.c:
 * clear the pmd, then radix__flush_tlb_collapsed_pmd() (a broadcast tlbie; the
 * serialize_against_pte_lookup() IPI was removed for radix in v6.1).
 */
export function* radixPmdpCollapseFlush(
  ctx: Ctx,
  vma: Vma,
  addr: number,
  pmdp: PmdPtr,
): KGen<PmdVal> {
  const old = yield* pmdpGetAndClear(ctx, vma.mm, pmdp);
  yield* ctx.call(
    'radix__flush_tlb_collapsed_pmd',
    flushTlbRange(ctx, vma.mm, addr, addr + pmdSize(ctx)),
  );
  return old;
}

/**
 * assert_pte_locked() — arch/powerpc/mm/pgtable.c (CONFIG_DEBUG_VM, from
 * pte_update()), as of "[PATCH v3 04/13] powerpc: assert_pte_locked() use
 * pte_offset_map_nolock()" with its "fix": a none pmd returns (khugepaged
 * clears the pmd before it clears ptes), otherwise map with
 * pte_offset_map_nolock(), BUG if that fails, assert_spin_locked(ptl), unmap.
 * assert_spin_locked() checks that the lock is held, not by whom.
 */
export function* assertPteLocked(ctx: Ctx, mm: Mm, addr: number): KGen {
  const pmdp = pmdOffset(ctx, mm, addr);
  const pmd = yield* pmdpGet(ctx, pmdp);
  if (ctx.k.arch.pmdNone(pmd.raw)) return;
  const m = yield* pteOffsetMapNolock(ctx, mm, pmdp, addr);
  if (!m) {
    bug(
      'pte-write-without-ptl',
      `${ctx.cpu.name} ${ctx.fn}: assert_pte_locked(0x${addr.toString(16)}): BUG_ON(!pte): pte_offset_map_nolock() failed on pmd 0x${pmd.raw.toString(16)}`,
    );
  }
  if (m.ptl.owner === null) {
    bug(
      'pte-write-without-ptl',
      `${ctx.cpu.name} ${ctx.fn}: assert_pte_locked(0x${addr.toString(16)}): assert_spin_locked(${m.ptl.id}) failed: a pte of ${m.pte.table.label} is updated without its ptl`,
    );
  }
  yield* pteUnmap(ctx, m.pte);
}
