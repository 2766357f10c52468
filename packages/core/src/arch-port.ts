/**
 * The one interface an architecture package implements. An ArchPort names its
 * configs and historical variants and creates an ArchImpl per config; the
 * reference port is @ptlab/arch-x86, and GenericArch (arch-generic.ts) gives
 * every member a kernel-faithful default so a port overrides only what its
 * kernel overrides.
 */
import type { CheckId } from './checks.js';
import type { Ctx } from './context.js';
import type { Mm, Vma } from './mm.js';
import type { PmdPtr, PmdVal, PtePtr } from './pgtable.js';
import type { KGen } from './step.js';

/** One kernel configuration of an architecture: the constants that change the answer. */
export interface ArchConfig {
  /** `<arch>-<variant>`, e.g. `x86-64`, `s390-2k`. */
  readonly id: string;
  /** The package's arch name, e.g. `x86`. */
  readonly arch: string;
  readonly description: string;
  /** Kernel release whose behaviour is modelled, e.g. `v6.6`. */
  readonly kernel: string;
  readonly PAGE_SIZE: number;
  readonly PTRS_PER_PTE: number;
  /** Entries in the model's pmd table (upper levels are folded). */
  readonly PTRS_PER_PMD: number;
  /** sizeof(pte_t). */
  readonly pteSize: 4 | 8;
  /** PTE tables packed into one page (s390 v6.6: 2, powerpc 64K radix: 256, sparc32: 16). */
  readonly tablesPerPage: number;
  /** CONFIG_PGTABLE_LEVELS */
  readonly levels: number;
  /** USE_SPLIT_PTE_PTLOCKS / CONFIG_SPLIT_PTE_PTLOCKS */
  readonly splitPtePtlocks: boolean;
  /** USE_SPLIT_PMD_PTLOCKS / CONFIG_SPLIT_PMD_PTLOCKS */
  readonly splitPmdPtlocks: boolean;
  /** CONFIG_TRANSPARENT_HUGEPAGE available (khugepaged, pte_free_defer). */
  readonly thp: boolean;
  /** hugetlb pages mapped at PTE level (pte_alloc_huge/pte_offset_huge users). */
  readonly hugetlbPteLevel: boolean;
  /** CONFIG_MMU_GATHER_RCU_TABLE_FREE */
  readonly rcuTableFree: boolean;
  /** Remote TLB flushes interrupt the other CPUs (IPI) rather than broadcast. */
  readonly tlbFlushIpi: boolean;
  /** CONFIG_GUP_GET_PXX_LOW_HIGH: pmds are read as two 32-bit halves. */
  readonly pmdLowHigh: boolean;
  /** CONFIG_PT_RECLAIM (v6.14): empty PTE tables reclaimed on MADV_DONTNEED. */
  readonly ptReclaim: boolean;
  /**
   * CONFIG_PAGE_TABLE_CHECK (mm/page_table_check.c, booted with
   * page_table_check=on): per-page anon/file map counters, BUG at page free
   * when non-zero. Only where the arch selects ARCH_SUPPORTS_PAGE_TABLE_CHECK:
   * x86_64 (v5.17), arm64 and riscv (v6.0). Absent means off.
   */
  readonly pageTableCheck?: boolean;
  /** First page frame number handed out (high pfns make PAE's upper halves matter). */
  readonly pfnBase?: number;
  /**
   * Distance between the fresh pfns the page allocator hands out (default 1).
   * x86-32 PAE uses 2^20 (4 GB): every page then shares its low 32 physical
   * address bits with the others, the adversarial HIGHPTE placement under
   * which a pmd read as two halves can combine one table's pmd_low with
   * another value's pmd_high ("[PATCH v3 02/13]": "a faint risk").
   */
  readonly pfnStride?: number;
}

/** Entry encodings and predicates (arch/<arch>/include/asm/pgtable*.h). */
export interface EntryEncoding {
  /** Value of an empty PTE slot (s390: _PAGE_INVALID, not zero). */
  readonly pteEmpty: number;
  readonly pmdEmpty: number;
  pteNone(pte: number): boolean;
  ptePresent(pte: number): boolean;
  ptePfn(pte: number): number;
  mkPte(pfn: number, prot: { write: boolean }): number;
  pmdNone(pmd: number): boolean;
  pmdPresent(pmd: number): boolean;
  pmdTransHuge(pmd: number): boolean;
  pmdBad(pmd: number): boolean;
  /** pmd_populate(): a pmd pointing at the PTE table at `pa`. */
  mkPmdTable(pa: number): number;
  /** pmd_page_vaddr()/pmd_pgtable(): the table a pmd points to. */
  pmdTablePa(pmd: number): number;
  mkPmdHuge(pfn: number): number;
}

/** The mmu_gather the free paths are handed. */
export type { MmuGather } from './tlb.js';

import type { MmuGather } from './tlb.js';

/** What an arch implements for one config. Optional members are hooks only some arches have. */
export interface ArchImpl extends EntryEncoding {
  readonly config: ArchConfig;
  /** init_new_context(): arch state in mm->context. */
  initContext(ctx: Ctx, mm: Mm): void;
  /** Arch teardown at __mmdrop() (e.g. powerpc pte_frag_destroy()). */
  destroyContext(ctx: Ctx, mm: Mm): KGen;
  /** pte_alloc_one(): a new user PTE table, its physical address, or null on OOM. */
  pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null>;
  /** pte_free(): free a user PTE table now. */
  pteFree(ctx: Ctx, mm: Mm | null, pa: number): KGen;
  /** pte_free_defer(): free a retracted table once a grace period has passed. */
  pteFreeDefer(ctx: Ctx, mm: Mm, pa: number): KGen;
  /** pte_alloc_one_kernel(). */
  pteAllocOneKernel(ctx: Ctx, mm: Mm): KGen<number | null>;
  /** pte_free_kernel(). */
  pteFreeKernel(ctx: Ctx, mm: Mm, pa: number): KGen;
  /** __pte_free_tlb(): hand a table of a torn-down range to the mmu_gather. */
  pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen;
  /** __tlb_remove_table(): free one gathered table (after the grace period, or the flush). */
  tlbRemoveTableFree(ctx: Ctx, pa: number): KGen;
  /** tlb_remove_table_one(): free one table when no batch page could be had. */
  tlbRemoveTableOne(ctx: Ctx, pa: number): KGen;
  /** huge_pte_alloc() — arch hugetlbpage.c; PTE-level sizes use pte_alloc_huge(). */
  hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null>;
  /** huge_pte_offset() — arch hugetlbpage.c; PTE-level sizes use pte_offset_huge(). */
  hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null>;
  /** Page sizes the arch's hugetlb supports at PTE level (empty: none). */
  readonly hugetlbPteSizes: readonly number[];
  /** pmdp_collapse_flush() override (powerpc book3s64). */
  pmdpCollapseFlush?(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen<PmdVal>;
  /** update_mmu_cache() (mips, ...): runs after a PTE is installed, with the caller's ptep. */
  updateMmuCache?(ctx: Ctx, vma: Vma, addr: number, ptep: PtePtr): KGen;
  /** adjust_pte() (arm VIVT cache coherency); returns whether it adjusted. */
  adjustPte?(ctx: Ctx, vma: Vma, addr: number): KGen<boolean>;
  /** assert_pte_locked() (powerpc, DEBUG_VM). */
  assertPteLocked?(ctx: Ctx, mm: Mm, addr: number): KGen;
  /**
   * Overrides of the generic pmdp_get_lockless_start()/_end()/_sync()
   * (mm/pgtable-generic.c, include/linux/pgtable.h). No v6.6 arch overrides
   * them; a historical variant does (x86 PAE before "[PATCH v3 02/13]", or a
   * retract_page_tables() without pmdp_get_lockless_sync()). Absent: generic.
   */
  pmdpGetLocklessStart?(ctx: Ctx): KGen;
  pmdpGetLocklessEnd?(ctx: Ctx): KGen;
  pmdpGetLocklessSync?(ctx: Ctx): KGen;
  /**
   * Work the arch's page-fault handler does under mmap_lock after find_vma()
   * and before handle_mm_fault() (sparc64 do_sparc64_fault() reading the
   * faulting instruction with get_user_insn()).
   */
  beforeHandleMmFault?(ctx: Ctx, vma: Vma, addr: number, write: boolean): KGen;
}

/** A named alternative implementation: a historical mistake the suite must catch, or a design that must pass. */
export interface ArchVariant {
  readonly id: string;
  readonly description: string;
  /** Where it comes from: seed file and message, or kernel commit. */
  readonly seed: string;
  /** Config ids it applies to. */
  readonly configs: readonly string[];
  /** `caught`: the suite must find a bug; `pass`: an alternative correct design. */
  readonly expect: 'caught' | 'pass';
  /**
   * The check(s) that ARE this bug: the detector its mistake must trip (a
   * kill by another check is a kill for another reason). Empty for `pass`.
   * Optional for third-party ports; every built-in variant declares it.
   */
  readonly checks?: readonly CheckId[];
}

export interface ArchPort {
  /** Architecture name, e.g. `s390`. */
  readonly arch: string;
  readonly configs: readonly ArchConfig[];
  readonly variants: readonly ArchVariant[];
  /** The implementation for one config, optionally as one of `variants`. */
  create(config: ArchConfig, variant?: string): ArchImpl;
}
