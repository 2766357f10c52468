import { bug } from './checks.js';
import type { Ctx } from './context.js';
import type { Cpu } from './cpu.js';
import {
  FileSub,
  FolioSub,
  fileObj,
  folioObj,
  Global,
  globalObj,
  MmSub,
  mmObj,
  type ObjId,
  vmaObj,
} from './deps.js';
import { SleepingLock, SpinLock } from './locks.js';
import type { TableRef } from './pgtable-registry.js';
import type { KGen } from './step.js';

/** enum NR_MM_COUNTERS order (include/linux/mm_types_task.h) */
export const MM_FILEPAGES = 0;
export const MM_ANONPAGES = 1;
export const MM_SWAPENTS = 2;
export const MM_SHMEMPAGES = 3;
export const RSS_NAMES = ['MM_FILEPAGES', 'MM_ANONPAGES', 'MM_SWAPENTS', 'MM_SHMEMPAGES'] as const;

/** An mm's `unmapping` while munmap() tears nothing down (shared: it is never written). */
const NO_VMAS: readonly Vma[] = Object.freeze([]);

/** A folio in a page cache or mapped anon (include/linux/mm_types.h). */
export class Folio {
  readonly id: string;
  /** Creation order in its kernel (its dependency objects derive from it). */
  readonly seq: number;
  readonly pfn: number;
  readonly order: number;
  /** _refcount: page cache reference(s) + one per PTE/PMD mapping + pins. */
  refcount: number;
  /** Total PTE and PMD mappings (the model does not split per subpage). */
  mapcount = 0;
  readonly lock: SleepingLock;
  readonly mapping: AddressSpace | null;
  readonly index: number;
  /** Dependency object of _refcount and mapcount. */
  readonly refsObj: ObjId;
  /** Dependency object of the page_table_check counters of its pages (deps.ts FolioSub.ptc). */
  readonly ptcObj: ObjId;
  constructor(
    id: string,
    pfn: number,
    order: number,
    mapping: AddressSpace | null,
    index: number,
    seq: number,
  ) {
    this.id = id;
    this.seq = seq;
    this.pfn = pfn;
    this.order = order;
    this.nrPages = 2 ** order;
    this.refcount = 1;
    this.mapping = mapping;
    this.index = index;
    this.refsObj = folioObj(seq, FolioSub.refs);
    this.ptcObj = folioObj(seq, FolioSub.ptc);
    this.lock = new SleepingLock(`folio lock of ${id}`, 'folio_lock', folioObj(seq, FolioSub.lock));
  }
  /** 2^order (a field: folioOf() asks for it at every page-table step). */
  readonly nrPages: number;
  /**
   * page_table_check's per-page counters (page-table-check.ts owns them; null
   * until first counted). A field rather than a module WeakMap: it is asked at
   * every entry set and clear.
   */
  pageTableCheck: object | null = null;
}

/** struct address_space: i_mmap tree and page cache (include/linux/fs.h). */
export class AddressSpace {
  readonly id: string;
  /** shmem file: mapped file pages count as MM_SHMEMPAGES (mm_counter_file()). */
  readonly shmem: boolean;
  /** i_mmap_rwsem; its dependency object also covers the i_mmap tree it protects. */
  readonly iMmapRwsem: SleepingLock;
  readonly iMmap: Vma[] = [];
  readonly pageCache = new Map<number, Folio>();
  /** Dependency object of the page cache (the xarray). */
  readonly pageCacheObj: ObjId;
  constructor(id: string, shmem: boolean, seq: number) {
    this.id = id;
    this.shmem = shmem;
    this.pageCacheObj = fileObj(seq, FileSub.pageCache);
    this.iMmapRwsem = new SleepingLock(
      `i_mmap_rwsem of ${id}`,
      'i_mmap_rwsem',
      fileObj(seq, FileSub.iMmap),
    );
  }
  /** The folio covering page index `pgoff`. */
  folioAt(pgoff: number): Folio | undefined {
    for (const f of this.pageCache.values())
      if (pgoff >= f.index && pgoff < f.index + f.nrPages) return f;
    return undefined;
  }
}

export interface VmaFlags {
  readonly shared: boolean;
  /** VM_UFFD_MISSING */
  readonly uffdMissing: boolean;
  /** VM_UFFD_WP */
  readonly uffdWp: boolean;
  /** VM_HUGETLB: a hugetlbfs mapping (is_vm_hugetlb_page()). */
  readonly hugetlb?: boolean;
  /**
   * huge_page_size(hstate_vma(vma)) of a hugetlb vma, in bytes (the hstate of
   * its hugetlbfs mount). Absent: the arch's first PTE-level size, or PMD_SIZE.
   */
  readonly hugetlbSize?: number;
}

/** struct vm_area_struct */
export class Vma {
  readonly mm: Mm;
  readonly start: number;
  readonly end: number;
  readonly flags: VmaFlags;
  readonly file: AddressSpace | null;
  /** File offset of `start`, in pages. */
  readonly pgoff: number;
  /** vma->anon_vma set: a private mapping that has COWed. */
  anonVma = false;
  detached = false;
  /** Dependency object of what changes in the vma after its creation (anon_vma, detached); its flags are fixed. */
  readonly obj: ObjId;
  constructor(
    mm: Mm,
    start: number,
    end: number,
    flags: VmaFlags,
    file: AddressSpace | null,
    pgoff: number,
  ) {
    this.obj = vmaObj(mm.index, mm.nextVmaSeq++);
    this.mm = mm;
    this.start = start;
    this.end = end;
    this.flags = flags;
    this.file = file;
    this.pgoff = pgoff;
  }
  /** userfaultfd_armed() — include/linux/userfaultfd_k.h */
  get uffdArmed(): boolean {
    return this.flags.uffdMissing || this.flags.uffdWp;
  }
}

/** A secondary MMU (an IOMMU sharing the page tables) subscribed with mmu_notifier_register(). */
export interface MmuNotifierSubscriber {
  readonly name: string;
  invalidateRangeStart(ctx: Ctx, start: number, end: number): void;
  invalidateRangeEnd(ctx: Ctx, start: number, end: number): void;
}

/** struct mm_struct */
export class Mm {
  readonly id: string;
  /** Creation order in its kernel (its dependency objects derive from it). */
  readonly index: number;
  /** Dependency objects: mm_users/mm_count/rss/pgtables_bytes, the notifier list, the vma list. */
  readonly countersObj: ObjId;
  readonly notifierObj: ObjId;
  readonly vmasObj: ObjId;
  /** Numbering for this mm's vmas. */
  nextVmaSeq = 0;
  /** mm_users: tasks and temporary users (mmget). */
  users = 1;
  /** mm_count: references to the struct itself (mmgrab). */
  count = 1;
  readonly rss = [0, 0, 0, 0];
  /** mm_pgtables_bytes() */
  pgtablesBytes = 0;
  readonly pageTableLock: SpinLock;
  readonly mmapLock: SleepingLock;
  /** The table holding this mm's pmds (upper levels are folded in the model). */
  pmdTable: TableRef | null = null;
  readonly vmas: Vma[] = [];
  /**
   * Vmas munmap() took out of `vmas` whose pages and tables are not torn down
   * yet (do_vmi_align_munmap()'s detached tree; mm/user-access.ts).
   */
  unmapping: readonly Vma[] = NO_VMAS;
  /** mm_cpumask(): CPUs that ran this mm and may cache its translations. */
  readonly cpumask = new Set<Cpu>();
  readonly notifiers: MmuNotifierSubscriber[] = [];
  /** Arch private context: s390 pgtable_list, powerpc pte_frag, ... */
  readonly context: Record<string, unknown> = {};
  freed = false;
  constructor(id: string, index: number) {
    this.id = id;
    this.index = index;
    this.countersObj = mmObj(index, MmSub.counters);
    this.notifierObj = mmObj(index, MmSub.notifier);
    this.vmasObj = mmObj(index, MmSub.vmas);
    this.pageTableLock = new SpinLock(
      `page_table_lock of mm ${id}`,
      'page_table_lock',
      mmObj(index, MmSub.pageTableLock),
    );
    this.mmapLock = new SleepingLock(
      `mmap_lock of mm ${id}`,
      'mmap_lock',
      mmObj(index, MmSub.mmapLock),
    );
  }
  vmaAt(addr: number): Vma | undefined {
    return this.vmas.find((v) => addr >= v.start && addr < v.end && !v.detached);
  }
}

/** add_mm_counter() — include/linux/mm.h */
export function addMmCounter(mm: Mm, member: number, value: number): void {
  mm.rss[member] = (mm.rss[member] ?? 0) + value;
}

/** mm_counter_file() — include/linux/mm.h */
export function mmCounterFile(folio: Folio): number {
  return folio.mapping?.shmem ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/** check_mm() — kernel/fork.c, called from __mmdrop(). */
export function checkMm(ctx: Ctx, mm: Mm): void {
  for (let i = 0; i < mm.rss.length; i++) {
    const v = mm.rss[i] ?? 0;
    if (v !== 0) {
      bug(
        'bad-rss-counter',
        `${ctx.cpu.name} ${ctx.fn}: BUG: Bad rss-counter state mm:${mm.id} type:${RSS_NAMES[i]} val:${v}`,
      );
    }
  }
  if (mm.pgtablesBytes !== 0) {
    bug(
      'pgtables-bytes',
      `${ctx.cpu.name} ${ctx.fn}: BUG: non-zero pgtables_bytes on freeing mm ${mm.id}: ${mm.pgtablesBytes}`,
    );
  }
}

/** mmgrab() — include/linux/sched/mm.h */
export function* mmgrab(ctx: Ctx, mm: Mm): KGen {
  yield ctx.step(() => `mmgrab(mm ${mm.id})`, mm.countersObj);
  mm.count++;
}

/**
 * mmdrop() — include/linux/sched/mm.h: the last reference calls __mmdrop(),
 * which may sleep (so not from an RCU callback: use mmdrop_async()).
 */
export function* mmdrop(ctx: Ctx, mm: Mm): KGen {
  yield ctx.step(() => `mmdrop(mm ${mm.id})`, mm.countersObj);
  if (--mm.count === 0) yield* ctx.call('__mmdrop', mmdropFinal(ctx, mm));
}

/** mmdrop_async() — kernel/fork.c: the final __mmdrop() runs later from a workqueue. */
export function* mmdropAsync(ctx: Ctx, mm: Mm): KGen {
  yield ctx.step(() => `mmdrop_async(mm ${mm.id})`, [mm.countersObj, globalObj(Global.workqueue)]);
  if (--mm.count === 0)
    ctx.k.deferWork(`__mmdrop(mm ${mm.id})`, (wctx) =>
      wctx.call('__mmdrop', mmdropFinal(wctx, mm)),
    );
}

function* mmdropFinal(ctx: Ctx, mm: Mm): KGen {
  ctx.mightSleep(`__mmdrop(mm ${mm.id})`);
  yield ctx.step(() => `free mm ${mm.id}`, mm.countersObj);
  checkMm(ctx, mm);
  yield* ctx.k.arch.destroyContext(ctx, mm);
  // mm_free_pgd(): the pmd table (upper levels are folded in the model).
  const pmdTable = mm.pmdTable;
  if (pmdTable) {
    const pfn = Math.floor(pmdTable.pa / ctx.k.config.PAGE_SIZE);
    yield ctx.step(
      () => `pgd_free(mm ${mm.id})`,
      [mm.countersObj, ...ctx.k.pages.freeFootprint(ctx, pfn)],
    );
    const t = ctx.k.pt.deref(ctx, pmdTable, 'pgd_free()');
    ctx.k.pt.released(ctx, t.pa);
    ctx.k.pages.freeNow(ctx, t.pfn);
    mm.pmdTable = null;
  }
  mm.freed = true;
}
