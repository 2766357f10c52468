/**
 * The one interface an architecture package implements. An ArchPort names its
 * configs and historical variants and creates an ArchImpl per config; the
 * reference port is @ptlab/arch-x86, and GenericArch (arch-generic.ts) gives
 * every member a kernel-faithful default so a port overrides only what its
 * kernel overrides.
 *
 * In what context each ArchImpl hook runs matters as much as what it does,
 * because the checks see it: a hook that may sleep (takes a sleeping
 * lock, calls synchronize_rcu(), mmdrop()s the last reference) inside an RCU
 * callback is `sleep-in-atomic`. The `Context:` line of each member says
 * where the kernel paths of the suite call it from.
 *
 * @module
 */
import type { CheckId } from './checks.js';
import type { Ctx } from './context.js';
import type { Mm, Vma } from './mm.js';
import type { PmdPtr, PmdVal, PtePtr } from './pgtable.js';
import type { KGen } from './step.js';

/**
 * One kernel configuration of an architecture: the constants that change the
 * answer. `validatePort()` (@ptlab/conformance) checks every field before
 * anything is allocated for it; each field's doc names the kernel symbol it
 * stands for, and a port's docs should name where its values come from.
 */
export interface ArchConfig {
  /** `<arch>-<variant>`, e.g. `x86-64`, `s390-2k`: lower-case letters and digits joined by `-`, unique across every loaded port. */
  readonly id: string;
  /** The package's arch name, e.g. `x86`. */
  readonly arch: string;
  /** One line: what this config is, for `ptlab list` and reports. */
  readonly description: string;
  /** Kernel release whose behaviour is modelled, e.g. `v6.6`. */
  readonly kernel: string;
  /** PAGE_SIZE, in bytes: a power of two, 4 KiB..256 KiB. Physical addresses are `pfn * PAGE_SIZE`. */
  readonly PAGE_SIZE: number;
  /** PTRS_PER_PTE: entries in one PTE table (at least 16). */
  readonly PTRS_PER_PTE: number;
  /** Entries in the model's pmd table (upper levels are folded). */
  readonly PTRS_PER_PMD: number;
  /** sizeof(pte_t). */
  readonly pteSize: 4 | 8;
  /**
   * PTE tables packed into one page (s390 v6.6: 2, powerpc 64K radix: 256, sparc32: 16).
   * Above 1, the tables of a page share its struct page, and with it the one
   * `pt_rcu_head` (see PageMeta.lru): GenericArch's pteFreeDefer() and, under
   * `ptReclaim`, tlbRemoveTableOne() queue that head once per table, so such a
   * port must override both (defer the page once, or keep an rcu_head per
   * fragment elsewhere) or two tables of one page trip `rcu-head-reused`.
   */
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
  /**
   * hugetlb pages of PMD_SIZE, mapped by one huge pmd (huge_pte_alloc()
   * returns the pmd): CONFIG_HUGETLB_PAGE with a PMD-sized hstate. Absent: none.
   */
  readonly hugetlbPmdLevel?: boolean;
  /**
   * CONFIG_MMU_GATHER_RCU_TABLE_FREE: tables of a torn-down range are freed
   * from an RCU callback (tlb_remove_table_rcu(), softirq), so
   * ArchImpl.tlbRemoveTableFree runs there; without it they are freed after the
   * TLB flush in tlb_finish_mmu(), in process context.
   */
  readonly rcuTableFree: boolean;
  /**
   * Remote TLB flushes interrupt the other CPUs (IPI) rather than broadcast.
   * With IPIs a flush also waits out every IRQ-disabled walker (gup_fast), the
   * guarantee "semi RCU" table freeing relies on; broadcast flushes (s390 IDTE,
   * arm64 TLBI, paravirt hypercalls) wait for nobody.
   */
  readonly tlbFlushIpi: boolean;
  /** CONFIG_GUP_GET_PXX_LOW_HIGH: pmds are read as two 32-bit halves. */
  readonly pmdLowHigh: boolean;
  /**
   * CONFIG_PT_RECLAIM (v6.14): empty PTE tables reclaimed on MADV_DONTNEED,
   * through __pte_free_tlb(); and tlb_remove_table_one() frees with call_rcu()
   * on the table's pt_rcu_head instead of an IPI and an immediate free.
   */
  readonly ptReclaim: boolean;
  /**
   * CONFIG_PAGE_TABLE_CHECK (mm/page_table_check.c, booted with
   * page_table_check=on): per-page anon/file map counters, BUG at page free
   * when non-zero. Only where the arch selects ARCH_SUPPORTS_PAGE_TABLE_CHECK:
   * x86_64 (v5.17), arm64 and riscv (v6.0). Absent means off.
   */
  readonly pageTableCheck?: boolean;
  /**
   * CONFIG_HAVE_FAST_GUP (HAVE_GUP_FAST from v6.10). Absent means on.
   * Without it (sparc32) get_user_pages_fast() takes the slow path under
   * mmap_read_lock(): no lockless walk.
   */
  readonly gupFast?: boolean;
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

/**
 * Entry encodings and predicates (arch/<arch>/include/asm/pgtable*.h).
 * Entries are JavaScript numbers, exact up to 2^53: encodings take flag bits
 * with `%` and PFNs with division, never with the 32-bit `&` on a whole entry
 * (the model hands out pfns around 2^30). Pure functions: they take no step
 * and may be called from any context. `useEncoding()` installs one on a
 * GenericArch.
 */
export interface EntryEncoding {
  /** Value of an empty PTE slot (s390: _PAGE_INVALID, not zero); new tables are filled with it. */
  readonly pteEmpty: number;
  /** Value of an empty pmd slot. */
  readonly pmdEmpty: number;
  /** pte_none() */
  pteNone(pte: number): boolean;
  /** pte_present() */
  ptePresent(pte: number): boolean;
  /** pte_pfn() */
  ptePfn(pte: number): number;
  /** mk_pte()/pfn_pte(): a present user PTE for `pfn`. */
  mkPte(pfn: number, prot: { write: boolean }): number;
  /** pmd_none() */
  pmdNone(pmd: number): boolean;
  /** pmd_present() */
  pmdPresent(pmd: number): boolean;
  /** pmd_trans_huge() */
  pmdTransHuge(pmd: number): boolean;
  /** pmd_bad(): not none, not huge and not a table pointer (`__pte_offset_map()` clears it as pmd_clear_bad()). */
  pmdBad(pmd: number): boolean;
  /** pmd_populate(): a pmd pointing at the PTE table at `pa`. */
  mkPmdTable(pa: number): number;
  /** pmd_page_vaddr()/pmd_pgtable(): the table a pmd points to. */
  pmdTablePa(pmd: number): number;
  /** pfn_pmd() + pmd_mkhuge(): a huge pmd mapping `pfn`. */
  mkPmdHuge(pfn: number): number;
}

/** The mmu_gather the free paths are handed. */
export type { MmuGather } from './tlb.js';

import type { MmuGather } from './tlb.js';

/**
 * What an arch implements for one config. Optional members are hooks only
 * some arches have. `create()` returns a fresh one for every schedule the
 * explorer runs, so it may keep per-boot state in fields, but nothing shared
 * with another instance; per-mm state goes in `mm.context`.
 *
 * Members returning {@link KGen} are generator functions. Every effect on
 * shared state comes after a `yield ctx.step(what, footprint)` whose
 * footprint names every object it touches (see Ctx.step); the explorer's
 * partial-order reduction trusts footprints, so an effect outside its step or
 * an object left out makes a verdict unsound. The core primitives (allocPage,
 * freePage, spinLock, callRcu, pmdpGet, ...) declare their own footprints.
 * Tables must be reported to `ctx.k.pt`: `constructed()` when handed out,
 * `deferred()` when their free is deferred, `released()` when their memory may
 * be reused; a table installed without `constructed()` is the `bogus-pmd`
 * finding.
 */
export interface ArchImpl extends EntryEncoding {
  /** The config this instance was created for. */
  readonly config: ArchConfig;
  /**
   * init_new_context(): arch state in mm->context.
   *
   * Context: setup, when an mm is created, before any task runs; takes no step.
   */
  initContext(ctx: Ctx, mm: Mm): void;
  /**
   * Arch teardown at __mmdrop() (e.g. powerpc pte_frag_destroy()).
   *
   * Context: whoever drops the last mm_count reference: process context at mm
   * exit, or a workqueue after mmdrop_async(). __mmdrop() may sleep, so an RCU
   * callback that mmdrop()s the last reference (s390's first pte_free_defer())
   * is `sleep-in-atomic`.
   */
  destroyContext(ctx: Ctx, mm: Mm): KGen;
  /**
   * pte_alloc_one(): a new user PTE table, its physical address, or null on OOM.
   * The table must be `ctx.k.pt.constructed()` (GenericArch's
   * pagetablePteCtor() does it), filled with `pteEmpty`, with its ptlock.
   *
   * Context: process context (faults, UFFDIO_COPY, collapse); may sleep.
   */
  pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null>;
  /**
   * pte_free(): free a user PTE table now. `mm` is null when called without one
   * (from an RCU callback or __tlb_remove_table()).
   *
   * Context: process context when called directly; in softirq when GenericArch's
   * pte_free_defer() callback (pte_free_now) calls it after the grace period.
   * Must not sleep in either case.
   */
  pteFree(ctx: Ctx, mm: Mm | null, pa: number): KGen;
  /**
   * pte_free_defer(): free a table khugepaged retracted once an RCU grace
   * period has passed, because lockless walkers (pte_offset_map() users under
   * rcu_read_lock(), gup_fast with IRQs off) may still be reading it. Until
   * then the table must stay a valid, empty page table: its memory, struct
   * page and ptlock untouched.
   *
   * Context: process context: retract_page_tables() (holding i_mmap_rwsem
   * for read) and collapse_pte_mapped_thp(), after the pmd was cleared and
   * flushed and its spinlocks released. The callback it queues with callRcu() runs later, in softirq on the
   * rcu task's CPU: it must not sleep, and it may not reuse an rcu_head still
   * queued (`rcu-head-reused`). Where tables share a page
   * ({@link ArchConfig.tablesPerPage} > 1), the page's one pt_rcu_head is shared too.
   */
  pteFreeDefer(ctx: Ctx, mm: Mm, pa: number): KGen;
  /** pte_alloc_one_kernel(): a kernel PTE table (no ptlock, not accounted). Context: process context. */
  pteAllocOneKernel(ctx: Ctx, mm: Mm): KGen<number | null>;
  /** pte_free_kernel(): free a kernel PTE table now. Context: process context. */
  pteFreeKernel(ctx: Ctx, mm: Mm, pa: number): KGen;
  /**
   * __pte_free_tlb(): hand a table of a torn-down range (zap with PT_RECLAIM,
   * free_pgtables()) to the mmu_gather, to be freed after the TLB flush or,
   * with MMU_GATHER_RCU_TABLE_FREE, after a grace period.
   *
   * Context: process context, after the pmd pointing to the table was
   * cleared and its locks released (free_pgtables() at exit, PT_RECLAIM's
   * free_pte()), before the TLB flush.
   */
  pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen;
  /**
   * __tlb_remove_table(): free one gathered table.
   *
   * Context: with {@link ArchConfig.rcuTableFree}, from the batch's RCU
   * callback tlb_remove_table_rcu(), in softirq (must not sleep); without it,
   * from tlb_finish_mmu() after the TLB flush, in process context; and from
   * tlbRemoveTableOne().
   */
  tlbRemoveTableFree(ctx: Ctx, pa: number): KGen;
  /**
   * tlb_remove_table_one(): free one table when no batch page could be had
   * (tlb_remove_table() with MMU_GATHER_RCU_TABLE_FREE, under GFP_NOWAIT).
   * Before v6.14: IPI every CPU (tlb_remove_table_sync_one()), then free at
   * once, which only IRQ-disabled walkers wait for ("semi RCU"). With
   * {@link ArchConfig.ptReclaim}: call_rcu() on the table's pt_rcu_head, whose
   * callback runs in softirq. A port whose tables share a page must override it
   * as it does pteFreeDefer().
   *
   * Context: process context, inside the mmu_gather.
   */
  tlbRemoveTableOne(ctx: Ctx, pa: number): KGen;
  /**
   * huge_pte_alloc() — arch hugetlbpage.c; PTE-level sizes use pte_alloc_huge(),
   * which maps the table (rcu_read_lock() held until pte_unmap()).
   *
   * Context: process context (hugetlb_fault()), mmap_lock held for read.
   */
  hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null>;
  /**
   * huge_pte_offset() — arch hugetlbpage.c; PTE-level sizes use
   * pte_offset_huge(); null when no table is there.
   *
   * Context: process context, as hugePteAlloc().
   */
  hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null>;
  /** Page sizes the arch's hugetlb supports at PTE level (empty: none; riscv Svnapot and arm64 contiguous PTEs: 64K). */
  readonly hugetlbPteSizes: readonly number[];
  /**
   * pmdp_collapse_flush() override (powerpc book3s64).
   *
   * Context: process context, pmd lock and the table's ptlock held: must not sleep.
   */
  pmdpCollapseFlush?(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen<PmdVal>;
  /**
   * update_mmu_cache() (mips, ...): runs after a PTE is installed, with the caller's ptep.
   *
   * Context: process context, the PTE's ptlock held and the table mapped: must not sleep.
   */
  updateMmuCache?(ctx: Ctx, vma: Vma, addr: number, ptep: PtePtr): KGen;
  /**
   * update_mmu_cache_pmd() (mips): runs after do_set_pmd() installs a huge
   * pmd, with that pmd. Absent: the generic no-op.
   *
   * Context: process context, the pmd lock held: must not sleep.
   */
  updateMmuCachePmd?(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen;
  /**
   * adjust_pte() (arm VIVT cache coherency); returns whether it adjusted.
   *
   * Context: process context, from update_mmu_cache() after a shared write
   * fault, holding mmap_lock for read and the ptlock of the faulting PTE, whose
   * table is mapped (so inside rcu_read_lock()): must not sleep. It walks the
   * other mappings' tables itself.
   */
  adjustPte?(ctx: Ctx, vma: Vma, addr: number): KGen<boolean>;
  /** assert_pte_locked() (powerpc, DEBUG_VM). Context: process context, where the caller claims to hold the ptlock. */
  assertPteLocked?(ctx: Ctx, mm: Mm, addr: number): KGen;
  /**
   * Overrides of the generic pmdp_get_lockless_start()/_end()/_sync()
   * (mm/pgtable-generic.c, include/linux/pgtable.h). No v6.6 arch overrides
   * them; a historical variant does (x86 PAE before "[PATCH v3 02/13]", or a
   * retract_page_tables() without pmdp_get_lockless_sync()). Absent: generic.
   */
  pmdpGetLocklessStart?(ctx: Ctx): KGen;
  /** See pmdpGetLocklessStart. */
  pmdpGetLocklessEnd?(ctx: Ctx): KGen;
  /** See pmdpGetLocklessStart. */
  pmdpGetLocklessSync?(ctx: Ctx): KGen;
  /**
   * Work the arch's page-fault handler does under mmap_lock after find_vma()
   * and before handle_mm_fault() (sparc64 do_sparc64_fault() reading the
   * faulting instruction with get_user_insn()).
   */
  beforeHandleMmFault?(ctx: Ctx, vma: Vma, addr: number, write: boolean): KGen;
}

/**
 * A named alternative implementation: a historical mistake the suite must
 * catch, or a design that must pass. `ArchPort.create(config, id)` returns it;
 * the code that differs tests the instance's variant (GenericArch.variant).
 */
export interface ArchVariant {
  /** Unique among the port's variants; it names the mutant in reports (`--mutant`). */
  readonly id: string;
  /** One line: what the variant does differently. */
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
   * validatePort() refuses an id that is no check (see CHECKS).
   */
  readonly checks?: readonly CheckId[];
  /**
   * Every point where this variant's code can run differently from the
   * mainline port's first records it: `ctx.k.reach(id)`, or `ctx.k.has(id)`
   * where mm code tests the id. Then a verified clean cell that never
   * recorded it proves the variant's cell too, and conformance does not
   * search it again (mutant reach, docs/model.md). ptlab honours it for its
   * own ports and for ports the vitest binding runs, not for an arch module
   * the CLI loads (it is that module's word about its own code).
   */
  readonly reachRecorded?: boolean;
}

/**
 * What an arch package exports (as its default export, or an export named
 * `port`): its configs, its variants, and a factory. `ptlab init-arch <name>`
 * scaffolds one; docs/porting-an-arch.md walks through it.
 */
export interface ArchPort {
  /** Architecture name, e.g. `s390`; every config's `arch` is this. */
  readonly arch: string;
  /** The configs the suite runs on, in the order reports list them (at least one). */
  readonly configs: readonly ArchConfig[];
  /** Historical variants and alternative designs (empty if none). */
  readonly variants: readonly ArchVariant[];
  /**
   * The implementation for one config, optionally as one of `variants`.
   * Called again for every schedule (each boots a fresh kernel): no state may
   * be shared between the instances it returns. A throw is reported as the
   * cell's error, naming the port.
   */
  create(config: ArchConfig, variant?: string): ArchImpl;
}
