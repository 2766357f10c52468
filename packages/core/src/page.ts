import { bug, type LazyEvent } from './checks.js';
import { type ObjId, pageObj } from './deps.js';
import type { SpinLock } from './locks.js';

/**
 * Page flags the model uses (include/linux/page-flags.h), bits of
 * PageMeta.flags. PG_active and PG_reserved are in PAGE_FLAGS_CHECK_AT_FREE:
 * freeing a page with either set is the `bad-page-state` finding (s390 v6.6
 * marks a half-table pending with PG_active, powerpc's fragment code once
 * left it set).
 */
export const PG = {
  /** PG_active (a page-table page: "freeing deferred", s390 and powerpc). */
  active: 1 << 0,
  /** PageTable page type (__folio_set_pgtable). */
  table: 1 << 1,
  /** PG_reserved */
  reserved: 1 << 2,
} as const;

/**
 * Words of struct page shared by a union. Writing one member clobbers the
 * others: reading `pt_list` after `pt_rcu_head` was written is a finding
 * (`union-clobbered`), naming the step that overwrote it. That is how the
 * model catches code that keeps a page on a list through `pt_list` (or
 * `lru`) while its rcu_head is queued: call_rcu() writes the same storage.
 * Reading the member that was written last, or a slot nobody wrote, is fine.
 */
export class UnionSlot<M extends string> {
  private occupant: M | null = null;
  private value: unknown = undefined;
  private writtenAt: LazyEvent | null = null;
  readonly where: string;

  constructor(where: string) {
    this.where = where;
  }

  /** Store `value` as `member`: the slot's other members are clobbered from now on. `at`: the step, for the finding. */
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

  /** Forget the occupant (the page is freshly allocated). */
  clear(): void {
    this.occupant = null;
    this.value = undefined;
    this.writtenAt = null;
  }
}

/**
 * Members overlaying words 1-2 of struct page / struct ptdesc (mm_types.h,
 * v6.6), one storage: `lru` (a page on an LRU or free list), `pt_list` (a
 * page-table page on an arch list: s390's pgtable_list, powerpc's fragment
 * lists), `pt_rcu_head` (the rcu_head pte_free_defer() and
 * tlb_remove_table_one() queue: `pageRcuHead(page)`), `pmd_huge_pte` (the
 * deposited PTE table of a huge pmd). Only one is live at a time.
 */
export type LruMember = 'lru' | 'pt_list' | 'pt_rcu_head' | 'pmd_huge_pte';
/**
 * Members overlaying word 4, one storage: `index` (page->index), `pt_mm` (the
 * mm of a pgd/pmd page, x86), `pt_frag_refcount` (powerpc: fragments of the
 * page still in use).
 */
export type IndexMember = 'index' | 'pt_mm' | 'pt_frag_refcount';

/**
 * struct page, as a page-table page sees it: struct ptdesc
 * (include/linux/mm_types.h). Get it with `ctx.k.pages.meta(ctx, pfn, what)`,
 * which is a `use-after-free` finding when the page is free; its fields are
 * part of the page's dependency object (`obj`, `pageObj(pfn)`), so the step
 * before touching them names that object.
 *
 * The unions are the point: `lru` and `index` are {@link UnionSlot}s whose
 * members share storage, as in the kernel, so a port that uses two members of
 * one union at once (a list link and the rcu_head, two fragments' rcu_heads
 * in one page) is caught.
 */
export class PageMeta {
  readonly pfn: number;
  /** Dependency object of this page: struct page, its memory, the page tables in it (deps.ts). */
  readonly obj: ObjId;
  /** Allocated (not on a free list). */
  allocated = false;
  /** Bumped on every allocation: a pointer derived from an older generation is stale. */
  gen = 0;
  /** PG.* bits. */
  flags = 0;
  /** _refcount (s390 v6.6 keeps AA/PP bits in its top byte). */
  refcount = 0;
  /** What the page was allocated for, for stories and leak reports. */
  owner = '';
  /** Words 1-2: lru / pt_list / pt_rcu_head / pmd_huge_pte, one storage (see LruMember). */
  readonly lru: UnionSlot<LruMember>;
  /** Word 4: index / pt_mm / pt_frag_refcount, one storage (see IndexMember). */
  readonly index: UnionSlot<IndexMember>;
  /** ptdesc->ptl: the split PTE lock, (re)initialised by ptlock_init(). */
  ptl: SpinLock | null = null;
  /** The step that last allocated it (for findings). */
  allocatedAt: LazyEvent | null = null;
  /** The step that last freed it (for findings). */
  freedAt: LazyEvent | null = null;

  constructor(pfn: number) {
    this.pfn = pfn;
    this.obj = pageObj(pfn);
    this.lru = new UnionSlot(`page pfn ${pfn}`);
    this.index = new UnionSlot(`page pfn ${pfn}`);
  }

  /** PageFoo(): whether PG bit `f` is set. */
  testFlag(f: number): boolean {
    return (this.flags & f) !== 0;
  }
  /** SetPageFoo() */
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
