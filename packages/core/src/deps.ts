/**
 * Dependency objects: what a step touches, for partial-order reduction.
 *
 * Two steps conflict when they touch a common object and at least one of them
 * writes it; otherwise they commute and the explorer need not try both orders.
 * So every object a step's effect (the code between its `yield` and the next)
 * reads or writes must be named, finely enough that unrelated steps do not
 * collide (docs/model.md, "Why two steps conflict", lists the rules per kind).
 *
 * An object is a number: a kind in the low 4 bits, a payload above it. Ids
 * are derived from what the object *is* (a pfn, a CPU number, an mm's index in
 * creation order), never from the order in which a run first used them, so the
 * same object has the same id in every execution that shares a prefix.
 */

/** A dependency object. */
export type ObjId = number;

/**
 * A footprint entry: an ObjId (accessed with the step's default mode) or a
 * read-marked ObjId (`rd(obj)`, encoded as a negative number).
 */
export type FootprintEntry = number;
export type Footprint = FootprintEntry | readonly FootprintEntry[];

enum Kind {
  /** struct page of a pfn, the page tables in that page (registry), and its memory words. */
  Page = 0,
  /** The split ptlock embedded in the ptdesc of a pfn. */
  Ptl = 1,
  /** Per-CPU state; sub-objects in CpuSub. */
  Cpu = 2,
  /** Per-mm state; sub-objects in MmSub. */
  Mm = 3,
  /** A VMA: (mm index, vma index). */
  Vma = 4,
  /** Per-file (address_space) state; sub-objects in FileSub. */
  File = 5,
  /** Per-folio state; sub-objects in FolioSub. */
  Folio = 6,
  /** Kernel-wide singletons (Global). */
  Global = 7,
  /** Objects an arch port or path names itself: (owner id, slot). */
  Aux = 8,
  /** A lock's release side: (lock object, slot): slot 0 the exclusive holder, 2 + cpu a reader. */
  Release = 9,
  /** One page-table entry, by physical address (pa / 4). */
  Entry = 10,
  /** The entries of one page, as a whole: written by every entry write, read by scans. */
  TableWrites = 11,
  /** One rcu_head (by where it lives): queued by call_rcu(), freed by the grace period that takes it. */
  RcuHead = 12,
  /** A pfn's life: allocated or not, and which allocation (written by alloc and free only). */
  PageLife = 13,
  /** The struct page fields of a pfn (flags, the lru and index unions, refcount): pageFieldsObj. */
  PageFields = 14,
  /** One page table's life (live or free, which generation): tableObj. */
  Table = 16,
  /** Some page table in a pfn changed its registry state: what a whole-page read sees of them. */
  TableStates = 17,
  /** One page table's status: deferred or not, the pmd linking it (tableStatusObj). */
  TableStatus = 18,
}

const KIND_BITS = 32;
/** Table slots per page in tableObj(): 64-byte granularity, pages up to 64 KiB. */
const TABLE_SLOTS = 1024;
const make = (kind: Kind, payload: number): ObjId => payload * KIND_BITS + kind;

/**
 * One pfn as a whole: its struct page, its memory, the page tables in it
 * (their registry entries). It contains the page's struct page fields
 * (pageFieldsObj): a read of the whole page also reads them, so it conflicts
 * with a step that changes only a field.
 */
export const pageObj = (pfn: number): ObjId => make(Kind.Page, pfn);
/**
 * The struct page fields of a pfn that no page-table entry access looks at:
 * the flags, the lru union (pt_list, pt_rcu_head, pmd_huge_pte), the index
 * union and the refcount. A step that changes only these (call_rcu() on the
 * ptdesc's rcu_head) declares this object, not the page: it conflicts with
 * every whole-page access (packFootprint() makes it read the page) but
 * commutes with the reads and writes of the entries of the tables in the page,
 * which declare their table (tableObj()).
 */
export const pageFieldsObj = (pfn: number): ObjId => make(Kind.PageFields, pfn);
/**
 * One page table's status, by its physical address: whether pte_free_defer()
 * reached it, and which pmd links it. Entry reads do not depend on it (a
 * deferred table stays a valid table) and commute with a deferral; entry
 * writes read it (write-to-detached-table). A write of it also marks the
 * page's tables changed.
 */
export function tableStatusObj(pa: number, pageSize: number): ObjId {
  return tableObj(pa, pageSize) - Kind.Table + Kind.TableStatus;
}

/** The marker a write of any table in `pfn` writes, and a whole-page read reads (packFootprint()). */
export const tableStatesObj = (pfn: number): ObjId => make(Kind.TableStates, pfn);

/**
 * One page table's registry state, by its physical address: its life (live or
 * free, which generation) and, contained in it, its status (tableStatusObj).
 * It is contained in its page: an access to it reads the page (whose writers,
 * the allocator and the ports' whole-page steps, it must see), and a write of
 * it also writes its status and marks the page's tables changed, which a
 * whole-page read reads. So the entry accesses of one table commute with the
 * construction, linking, deferral and release of another table in the same
 * page (powerpc's and s390's fragments).
 */
export function tableObj(pa: number, pageSize: number): ObjId {
  const pfn = Math.floor(pa / pageSize);
  const slot = Math.floor((pa - pfn * pageSize) / 64);
  if (pageSize > TABLE_SLOTS * 64 || pa % 64 !== 0)
    throw new Error(`tableObj: a table at 0x${pa.toString(16)} in ${pageSize}-byte pages`);
  return make(Kind.Table, pfn * TABLE_SLOTS + slot);
}
/**
 * A pfn's life (allocated or free, and its generation): the allocator's alloc
 * and free write it along with the page object. What depends on the page
 * being alive and nothing else in it — taking the split ptlock that lives in
 * its ptdesc — reads only this, so it commutes with changes to the page's
 * fields and tables (a deferral, an rcu_head queued in the ptdesc).
 */
export const pageLifeObj = (pfn: number): ObjId => make(Kind.PageLife, pfn);
/**
 * One page-table entry (a pmd or PTE slot at physical address `pa`). Entry
 * writes write it, the page's TableWrites object, and read the page object;
 * single-entry reads read it and the page object; scans of a whole table read
 * TableWrites. So a read of one entry commutes with a write of another entry
 * of the same table, while anything that changes the page itself (allocation,
 * free, struct page fields, a pmd pointing at it) still conflicts with both.
 */
export const ptEntryObj = (pa: number): ObjId => make(Kind.Entry, Math.floor(pa / 4));
/** Every entry of page `pfn` at once (see ptEntryObj). */
export const tableWritesObj = (pfn: number): ObjId => make(Kind.TableWrites, pfn);
/** The split ptlock (ptdesc->ptl) of one pfn. */
export const ptlObj = (pfn: number): ObjId => make(Kind.Ptl, pfn);

/** Per-CPU sub-objects. */
export const CpuSub = {
  /** rcu_read_lock() nesting, softirq context and the quiescent-state count: what RCU looks at. */
  rcu: 0,
  /** Interrupts on/off and the IPIs waiting for them: what smp_call_function() and RCU look at. */
  irq: 1,
  /** The CPU's TLB. */
  tlb: 2,
  /** The CPU's per-CPU page lists (page allocator pcp lists). */
  pcp: 3,
  /** On-stack objects of the path running there (struct rcu_synchronize, completions). */
  stack: 4,
  /** Whether the task on this CPU has finished (its exit step writes it). */
  task: 5,
  /**
   * The CPU's entry into its first read-side section (whatever the kind:
   * rcu_read_lock(), interrupts off): written by the step that enters it, read
   * by call_rcu() (whom the new callback must wait for).
   */
  readerEnter: 6,
  /**
   * The CPU's exit from its last section (a quiescent state): written by the
   * step that leaves it; a grace period waiting for the CPU waits on it. Not
   * read by call_rcu(): a call_rcu() just before the exit waits for it, one just
   * after does not need to, and either way its grace period ends after both.
   */
  quiescent: 7,
} as const;
const CPU_SUBS = 8;
/** A per-CPU object; cpu -1 is the boot CPU. */
export const cpuObj = (cpu: number, sub: number): ObjId =>
  make(Kind.Cpu, (cpu + 1) * CPU_SUBS + sub);

/** Per-mm sub-objects. */
export const MmSub = {
  /** mm_users, mm_count, rss counters, pgtables_bytes. */
  counters: 0,
  mmapLock: 1,
  pageTableLock: 2,
  /** mmu_notifier subscribers and what they cached (secondary MMUs). */
  notifier: 3,
  /** The mm's VMA list. */
  vmas: 4,
} as const;
const MM_SUBS = 8;
export const mmObj = (mmIndex: number, sub: number): ObjId =>
  make(Kind.Mm, mmIndex * MM_SUBS + sub);
/** Arch-private per-mm state (mm->context): slot chosen by the port, e.g. s390's context.lock. */
export const mmContextObj = (mmIndex: number, slot: number): ObjId =>
  make(Kind.Aux, 2 * (mmIndex * 64 + (slot % 64)));

const VMAS_PER_MM = 1 << 12;
export const vmaObj = (mmIndex: number, vmaIndex: number): ObjId =>
  make(Kind.Vma, mmIndex * VMAS_PER_MM + vmaIndex);

export const FileSub = {
  /** The page cache (xarray). */
  pageCache: 0,
  /** i_mmap_rwsem and the i_mmap tree it protects. */
  iMmap: 1,
} as const;
export const fileObj = (fileIndex: number, sub: number): ObjId =>
  make(Kind.File, fileIndex * 4 + sub);

export const FolioSub = {
  /** _refcount and mapcount. */
  refs: 0,
  /** The folio lock (PG_locked). */
  lock: 1,
  /**
   * The page_table_check counters of its pages (in page_ext): written by
   * every user entry set or clear that maps it, read by the free of its last
   * reference. Apart from `refs`, so clearing an entry that maps a folio
   * commutes with a folio_put() that does not free it.
   */
  ptc: 2,
} as const;
const FOLIO_SUBS = 4;
export const folioObj = (folioIndex: number, sub: number): ObjId =>
  make(Kind.Folio, folioIndex * FOLIO_SUBS + sub);

export const Global = {
  /**
   * The front of the RCU callback queue: the callback the next grace period
   * takes (grace periods; call_rcu() onto an empty queue; rcu_barrier()).
   */
  rcuQueue: 0,
  /** The workqueue (schedule_work(), the kworker). */
  workqueue: 1,
  /** Fresh page frames beyond the per-CPU ranges (a shared counter). */
  pageOverflow: 2,
  /** Allocating a data folio (Kernel.createFolio(): its pfn range and creation number). */
  folioAlloc: 3,
  /** The order of the RCU callback queue behind its front: every call_rcu() appends (rcu.ts). */
  rcuQueueTail: 4,
} as const;
export const globalObj = (which: number): ObjId => make(Kind.Global, which);

/**
 * The release side of a lock (locks.ts): unlocks write it, acquisitions wait
 * on it (Step.wait), so an acquisition is ordered after the release that let
 * it in, yet races only with the other acquisitions (on the lock object).
 * Slot 0: the exclusive holder's release; 2 + cpu: a reader's up_read() (1: the boot CPU, -1).
 */
export const releaseObj = (lock: ObjId, slot: number): ObjId =>
  make(Kind.Release, lock * 64 + slot);

/** An object a port or path owns, named by a number it chooses (e.g. a per-table side structure). */
export const auxObj = (n: number): ObjId => make(Kind.Aux, n * 2 + 1);

/** Where an rcu_head lives (rcu.ts RcuHead): in a struct page, in page memory, or on a CPU's stack. */
export const RcuHeadAt = { page: 0, mem: 1, stack: 2 } as const;
/** An rcu_head's sub-objects: its queuing by call_rcu(), its freeing by a grace period. */
export const RcuHeadSub = { queued: 0, freed: 1 } as const;
/** A sub-object of the rcu_head at (where, id): a pfn, a physical address / 4, or a CPU (-1: boot). */
export const rcuHeadObj = (where: number, id: number, sub: number): ObjId =>
  make(Kind.RcuHead, ((id + 1) * 4 + where) * 2 + sub);

/** Mark a footprint entry as a read (the step's default mode applies to unmarked entries). */
export const rd = (o: ObjId): FootprintEntry => -o - 1;

/** A footprint entry as (object, writes?). */
export function entryObj(e: FootprintEntry): ObjId {
  return e < 0 ? -e - 1 : e;
}

/**
 * Normalise a footprint to DPOR's packed form: object * 2 + (write ? 1 : 0),
 * pushed onto `out`. `defaultWrite` is the step's access for unmarked entries.
 * The page object contains its fields and its tables' states: a read of a
 * page also reads its fields and its tables' states; an access to the fields
 * or to one table reads the page (so a whole-page write conflicts with it);
 * and a write of one table marks the page's table states written.
 */
export function packFootprint(fp: Footprint, defaultWrite: boolean, out: number[]): void {
  if (typeof fp === 'number') packEntry(fp, defaultWrite, out);
  // Indexed: a for...of over footprints, whose ids may be doubles, allocates on Node 20 (dpor.ts).
  else for (let i = 0; i < fp.length; i++) packEntry(fp[i] as FootprintEntry, defaultWrite, out);
}

function packEntry(e: FootprintEntry, defaultWrite: boolean, out: number[]): void {
  const o = e < 0 ? -e - 1 : e;
  const w = e >= 0 && defaultWrite ? 1 : 0;
  // Not o % KIND_BITS: ids above 2^31 are doubles, and % on a double is a call to fmod().
  const kind = o - Math.floor(o / KIND_BITS) * KIND_BITS;
  switch (kind) {
    case Kind.Page:
      // Written whole; read with its tables' states and its fields.
      out.push(o * 2 + w);
      if (!w)
        out.push((o - Kind.Page + Kind.TableStates) * 2, (o - Kind.Page + Kind.PageFields) * 2);
      return;
    case Kind.PageFields:
      out.push(o * 2 + w, (o - Kind.PageFields + Kind.Page) * 2);
      return;
    case Kind.Table:
    case Kind.TableStatus: {
      const pfn = Math.floor(Math.floor(o / KIND_BITS) / TABLE_SLOTS);
      out.push(o * 2 + w, make(Kind.Page, pfn) * 2);
      if (!w) return;
      // A table's life contains its status; either one marks the page's tables changed.
      if (kind === Kind.Table) out.push((o - Kind.Table + Kind.TableStatus) * 2 + 1);
      out.push(tableStatesObj(pfn) * 2 + 1);
      return;
    }
    default:
      out.push(o * 2 + w);
  }
}

/** A readable name for an object, for debugging and the footprint audit. */
export function describeObj(o: ObjId): string {
  const kind = o % KIND_BITS;
  const p = Math.floor(o / KIND_BITS);
  switch (kind) {
    case Kind.Page:
      return `page pfn ${p}`;
    case Kind.Ptl:
      return `ptl of pfn ${p}`;
    case Kind.Cpu: {
      const cpu = Math.floor(p / CPU_SUBS) - 1;
      const sub = Object.entries(CpuSub).find(([, v]) => v === p % CPU_SUBS)?.[0] ?? p % CPU_SUBS;
      return `cpu ${cpu < 0 ? 'boot' : cpu} ${sub}`;
    }
    case Kind.Mm: {
      const sub = Object.entries(MmSub).find(([, v]) => v === p % MM_SUBS)?.[0] ?? p % MM_SUBS;
      return `mm #${Math.floor(p / MM_SUBS)} ${sub}`;
    }
    case Kind.Vma:
      return `vma #${p % VMAS_PER_MM} of mm #${Math.floor(p / VMAS_PER_MM)}`;
    case Kind.File:
      return `file #${Math.floor(p / 4)} ${p % 4 === 0 ? 'page cache' : 'i_mmap'}`;
    case Kind.Folio:
      return `folio #${Math.floor(p / FOLIO_SUBS)} ${Object.entries(FolioSub).find(([, v]) => v === p % FOLIO_SUBS)?.[0] ?? p % FOLIO_SUBS}`;
    case Kind.Global:
      return (
        Object.entries(Global)
          .find(([, v]) => v === p)?.[0]
          ?.toString() ?? `global ${p}`
      );
    case Kind.Entry:
      return `entry at pa 0x${(p * 4).toString(16)}`;
    case Kind.TableWrites:
      return `entries of pfn ${p}`;
    case Kind.PageFields:
      return `fields of pfn ${p}`;
    case Kind.Table:
      return `table at slot ${p % TABLE_SLOTS} of pfn ${Math.floor(p / TABLE_SLOTS)}`;
    case Kind.TableStatus:
      return `status of the table at slot ${p % TABLE_SLOTS} of pfn ${Math.floor(p / TABLE_SLOTS)}`;
    case Kind.TableStates:
      return `table states of pfn ${p}`;
    case Kind.PageLife:
      return `life of pfn ${p}`;
    case Kind.RcuHead: {
      const at = Math.floor(p / 2);
      return `rcu_head ${['in page', 'in memory at', 'on the stack of cpu'][at % 4]} ${Math.floor(at / 4) - 1} ${p % 2 ? 'freed' : 'queued'}`;
    }
    case Kind.Release:
      return `release of ${describeObj(Math.floor(p / 64))}${p % 64 ? ` by reader cpu ${(p % 64) - 2}` : ''}`;
    default:
      return p % 2 === 0
        ? `mm #${Math.floor(p / 128)} context slot ${(p / 2) % 64}`
        : `aux ${(p - 1) / 2}`;
  }
}
