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
} as const satisfies Record<string, { description: string }>;

export type CheckId = keyof typeof CHECKS;

/** One step of the run that a finding points at as a cause. */
export interface RelatedEvent {
  readonly step: number;
  readonly cpu: string;
  readonly fn: string;
  readonly what: string;
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
  constructor(check: CheckId, message: string, related: readonly RelatedEvent[] = []) {
    super(`${check}: ${message}`);
    this.name = 'BugFound';
    this.check = check;
    this.related = related;
  }
}

/** Raise a finding. Kept as a function so call sites read like the kernel's BUG()/WARN(). */
export function bug(check: CheckId, message: string, related: readonly RelatedEvent[] = []): never {
  throw new BugFound(check, message, related);
}
