/**
 * The detectors of the simulated kernel. Each has a stable id, a description a
 * kernel developer recognises, and tests in test/checks.test.ts showing it fire
 * and stay silent. A detector raises a Finding by throwing BugFound from inside
 * the simulated kernel; the explorer catches it and keeps the schedule.
 */
export const CHECKS = {
  'use-after-free': {
    description:
      'A CPU read or wrote memory, a struct page field or a page table after it went back to the allocator (or was handed out again): what KASAN or a poisoned page would show.',
  },
  'double-free': {
    description: 'A page was freed twice (free_pages on a page already free).',
  },
  'page-leak': {
    description:
      'A page was still allocated at teardown with nothing left that owns it (a page table or folio nobody will free).',
  },
  'pte-not-a-pte': {
    description:
      'A page-table walker read a word that is not a page-table entry (a list pointer, poison, data) from a table it reached through a pmd: the table was not kept a valid, empty table.',
  },
  'rcu-head-reused': {
    description:
      'call_rcu() on an rcu_head that is already queued: the second callback overwrites the first (one rcu_head shared by several table fragments).',
  },
  'union-clobbered': {
    description:
      'A struct page/ptdesc union member was used after another member sharing its storage overwrote it (e.g. pt_list after pt_rcu_head).',
  },
  'sleep-in-atomic': {
    description:
      'A function that may sleep ran in atomic context: interrupts off, a spinlock held, inside rcu_read_lock(), or in an RCU callback (softirq).',
  },
  'rcu-unbalanced': {
    description:
      'rcu_read_lock()/rcu_read_unlock() (and so pte_offset_map()/pte_unmap()) did not balance: a path ended inside a read-side section, or unlocked one it never entered.',
  },
  'context-leak': {
    description:
      'A path returned still holding a spinlock or sleeping lock, or with interrupts disabled.',
  },
  'synchronize-rcu-in-reader': {
    description:
      'synchronize_rcu() inside an RCU read-side critical section: the grace period can never end.',
  },
  deadlock: {
    description:
      'No CPU can make progress (every unfinished path waits on a lock, an IPI or a grace period), or a CPU takes a lock it already holds.',
  },
  'lock-order': {
    description:
      'Two lock classes taken in both orders, or a lock of a class already held taken without a nesting annotation (lockdep).',
  },
  'pte-write-without-ptl': {
    description:
      'A PTE was modified without holding the lock of the page table that contains it (pte_lockptr of exactly that table).',
  },
  'write-to-detached-table': {
    description:
      'A PTE was written into a page table that no pmd points to any more (a retracted table): the write is lost, or maps a page nothing will unmap.',
  },
  'bad-rss-counter': {
    description:
      'check_mm(): an rss counter of an mm was non-zero when the mm was freed ("BUG: Bad rss-counter state").',
  },
  'pgtables-bytes': {
    description:
      'check_mm(): mm->pgtables_bytes non-zero when the mm was freed (a missing mm_dec_nr_ptes()).',
  },
  'stale-tlb': {
    description:
      'A CPU used a TLB entry whose PTE (or huge pmd) had been cleared by a path that has since finished without flushing the TLB (e.g. collapse_pte_mapped_thp() aborting after ptep_clear() without flush_tlb_mm()): the CPU still reaches a page the kernel thinks it unmapped.',
  },
  'secondary-mmu-stale': {
    description:
      'A secondary MMU (an IOMMU walking the CPU page tables, a KVM-like mmu_notifier subscriber) used a translation it had cached, a page-table pointer or a page, after the page tables stopped mapping it, and no mmu_notifier invalidation of that range reached it.',
  },
  'page-table-check': {
    description:
      'CONFIG_PAGE_TABLE_CHECK (mm/page_table_check.c) BUG: a page was freed while its anon/file map counters were non-zero (a leaf entry removed with raw pte_clear() instead of ptep_clear(), so never un-accounted), a counter went negative, an anon page was mapped writable twice, or a page was counted as both anon and file.',
  },
  'wrong-page': {
    description:
      'A user access through the page tables or a TLB reached a page other than the one the mapping holds at that address (the page-cache page at that file offset, or the private COWed page): memory does not read back intact.',
  },
  'torn-pmd-read': {
    description:
      'A pmd read locklessly as two 32-bit halves (CONFIG_GUP_GET_PXX_LOW_HIGH: x86-32 PAE) combined the pmd_low of one value with the pmd_high of another and was used as a page-table pointer to no page table: the IRQ-disabled pmdp_get_lockless() window was not held (pmdp_get_lockless_start/end) or not waited out (pmdp_get_lockless_sync()) between the pmd being cleared and set again.',
  },
  'kernel-bug': {
    description:
      'The modelled kernel code oopsed: a path reached a state its own code treats as impossible — a BUG_ON()/VM_BUG_ON() whose condition can in fact hold ("kernel BUG at mm/..."), a NULL or garbage pointer followed (a pte_offset_map() result used as if it could not fail, pte_lockptr() of a pmd that maps no table). A finding, not a ptlab error: it is reported with its step and trace like any other.',
  },
  'bad-page-state': {
    description:
      'free_page_is_bad() (mm/page_alloc.c, on with CONFIG_DEBUG_VM): a page was freed with a PAGE_FLAGS_CHECK_AT_FREE flag still set, e.g. PG_active left over from a "free deferred" mark: "BUG: Bad page state ... page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set", and the page is not freed.',
  },
  'bogus-pmd': {
    description:
      'pmd_populate() made a pmd point at memory that is not a live PTE table — pmd_pgtable() of a none pmd (physical page 0), or a table already freed or waiting for its grace period: the MMU and every walker would use that page as a page table.',
  },
  'bad-pmd': {
    description:
      '__pte_offset_map() read a pmd_bad() value and called pmd_clear_bad(): pmd_ERROR() prints "mm/pgtable-generic.c: bad pmd ..." and the live entry is cleared without a lock (a table it pointed to leaks). No correct path creates a bad pmd: a corrupted or torn entry, or a pmd the arch\'s own pmd_bad() rejects.',
  },
  'wrong-ptl': {
    description:
      'A path read-modify-wrote the PTEs of one page table under the lock of another (or of none): pte_lockptr(mm, pmd) re-reads *pmd, so after pte_offset_map() it names the lock of whatever the pmd points to now; pte_offset_map_nolock() names the lock of exactly the table it mapped.',
  },
  'zapped-range-mapped': {
    description:
      'A zap of a range (zap_pte_range() for munmap, exit, MADV_DONTNEED or truncate) finished with the table locked, and an entry of the range still maps a page: the range must map nothing after the zap (oracles.ts).',
  },
  'rss-mismatch': {
    description:
      "With every task done, an mm's rss counters (MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES) differ from what its page tables map: a path mapped or unmapped a page without add_mm_counter(). check_mm() would report a sum only after exit (oracles.ts).",
  },
} as const satisfies Record<string, { description: string }>;

export type CheckId = keyof typeof CHECKS;

/** One step of the run that a finding points at as a cause. */
export interface RelatedEvent {
  readonly step: number;
  readonly cpu: string;
  readonly fn: string;
  readonly what: string;
}

/**
 * A RelatedEvent as recorded while a run goes on (struct page's freedAt, a
 * TLB entry's fill): `what` may be a function, so the text is built only if a
 * finding ever points at it.
 */
export interface LazyEvent {
  readonly step: number;
  readonly cpu: string;
  readonly fn: string;
  readonly what: string | (() => string);
}

/** The text of a recorded event. */
export function eventWhat(e: LazyEvent): string {
  return typeof e.what === 'string' ? e.what : e.what();
}

/** A recorded event as plain data (for findings, traces and reports). */
export function materialise(e: LazyEvent): RelatedEvent {
  return { step: e.step, cpu: e.cpu, fn: e.fn, what: eventWhat(e) };
}

/** A check fired: what, where, and the earlier events that set it up. */
export interface Finding {
  readonly check: CheckId;
  readonly message: string;
  /** Step number at which the check fired (index into the executed steps). */
  readonly step: number;
  readonly cpu: string;
  readonly fn: string;
  readonly related: readonly RelatedEvent[];
}

/** Thrown inside the simulated kernel when a check fires. */
export class BugFound extends Error {
  readonly check: CheckId;
  readonly related: readonly RelatedEvent[];
  constructor(check: CheckId, message: string, related: readonly LazyEvent[] = []) {
    super(`${check}: ${message}`);
    this.name = 'BugFound';
    this.check = check;
    this.related = related.map(materialise);
  }
}

/** Raise a finding. Kept as a function so call sites read like the kernel's BUG()/WARN(). */
export function bug(check: CheckId, message: string, related: readonly LazyEvent[] = []): never {
  throw new BugFound(check, message, related);
}
