import { bug, type LazyEvent } from './checks.js';
import { type ObjId, pageObj } from './deps.js';
import type { SpinLock } from './locks.js';

/** Page flags the model uses (include/linux/page-flags.h). */
export const PG = {
  active: 1 << 0,
  /** PageTable page type (__folio_set_pgtable). */
  table: 1 << 1,
  reserved: 1 << 2,
} as const;

/**
 * A word of struct page shared by a union. Writing one member clobbers the
 * others: reading `pt_list` after `pt_rcu_head` was written is a finding.
 */
export class UnionSlot<M extends string> {
  private occupant: M | null = null;
  private value: unknown = undefined;
  private writtenAt: LazyEvent | null = null;
  readonly where: string;

  constructor(where: string) {
    this.where = where;
  }

  write(member: M, value: unknown, at: LazyEvent | null): void {
    this.occupant = member;
    this.value = value;
    this.writtenAt = at;
  }

  /** Read `member`; if another member overwrote it since, that is union-clobbered. */
  read<T>(member: M): T | undefined {
    if (this.occupant !== null && this.occupant !== member) {
      bug(
        'union-clobbered',
        `${this.where}: ${member} read, but ${this.occupant} (sharing its storage) overwrote it` +
          (this.writtenAt ? ` at step ${this.writtenAt.step} (${this.writtenAt.fn})` : ''),
        this.writtenAt ? [this.writtenAt] : [],
      );
    }
    return this.value as T | undefined;
  }

  /** Who holds the storage now (for allocator bookkeeping and tests). */
  get holder(): M | null {
    return this.occupant;
  }

  /** Where the holder was written, if known (for stories and the trace viewer). */
  get writer(): LazyEvent | null {
    return this.writtenAt;
  }

  clear(): void {
    this.occupant = null;
    this.value = undefined;
    this.writtenAt = null;
  }
}

/** Members overlaying words 1-2 of struct page / struct ptdesc (mm_types.h, v6.6). */
export type LruMember = 'lru' | 'pt_list' | 'pt_rcu_head' | 'pmd_huge_pte';
/** Members overlaying word 4: index / pt_mm / pt_frag_refcount. */
export type IndexMember = 'index' | 'pt_mm' | 'pt_frag_refcount';

/** struct page, as a page-table page sees it: struct ptdesc (include/linux/mm_types.h). */
export class PageMeta {
  readonly pfn: number;
  /** Dependency object of this page: struct page, its memory, the page tables in it (deps.ts). */
  readonly obj: ObjId;
  allocated = false;
  /** Bumped on every allocation: a pointer derived from an older generation is stale. */
  gen = 0;
  flags = 0;
  /** _refcount (s390 v6.6 keeps AA/PP bits in its top byte). */
  refcount = 0;
  owner = '';
  readonly lru: UnionSlot<LruMember>;
  readonly index: UnionSlot<IndexMember>;
  /** ptdesc->ptl: the split PTE lock, (re)initialised by ptlock_init(). */
  ptl: SpinLock | null = null;
  allocatedAt: LazyEvent | null = null;
  freedAt: LazyEvent | null = null;

  constructor(pfn: number) {
    this.pfn = pfn;
    this.obj = pageObj(pfn);
    this.lru = new UnionSlot(`page pfn ${pfn}`);
    this.index = new UnionSlot(`page pfn ${pfn}`);
  }

  testFlag(f: number): boolean {
    return (this.flags & f) !== 0;
  }
  setFlag(f: number): void {
    this.flags |= f;
  }
  /** TestClearPageActive() and friends: clear and say whether it was set. */
  testClearFlag(f: number): boolean {
    const was = (this.flags & f) !== 0;
    this.flags &= ~f;
    return was;
  }
}
