/**
 * A secondary MMU that consumes the CPU page tables directly: an IOMMU doing
 * shared virtual addressing (AMD IOMMUv2, Intel SVM; "IOMMUv2 users, where an
 * IOMMU directly consumes the normal page tables", Jann Horn on v1 of
 * retract_page_tables(), seeds/004). Like the hardware it models it caches
 * two things: paging-structure entries (pmd -> PTE table, even when the PTE
 * it wanted was none) and IOTLB entries (page -> pfn). Its only way to learn
 * that the CPU tables changed is the mmu_notifier: invalidate_range_start()
 * drops what it cached in the range and, until invalidate_range_end(), it
 * caches nothing new (the mmu_invalidate_in_progress rule KVM follows).
 *
 * The `secondary-mmu-stale` check: when it uses a cached entry, the entry must
 * still be what the CPU tables say; if not, the path that changed them did so
 * without notifying (retract_page_tables() v1: pmdp_collapse_flush() but no
 * mmu_notifier_invalidate_range_start()).
 */
import { bug, type LazyEvent } from './checks.js';
import type { Ctx } from './context.js';
import type { FootprintEntry } from './deps.js';
import type { Mm, MmuNotifierSubscriber } from './mm.js';
import {
  type EntryPtr,
  entryReadFootprint,
  pmdOffset,
  pmdSize,
  pmdValOf,
  pteIndex,
  readEntryWord,
} from './pgtable.js';
import type { TableRef } from './pgtable-registry.js';
import type { KGen } from './step.js';

/** A paging-structure cache entry: the PTE table a pmd pointed to when the secondary MMU walked it. */
export interface PscEntry {
  /** The table, with its generation: using it after the table was freed or reused is stale. */
  readonly table: TableRef;
  /** The pmd value it was read from. */
  readonly pmdRaw: number;
  /** When it was cached. */
  readonly at: LazyEvent;
}
/** An IOTLB entry: a page's translation as the secondary MMU cached it. */
export interface IotlbEntry {
  readonly pfn: number;
  /** The PTE it was read from. */
  readonly src: EntryPtr;
  /** The PTE's value then. */
  readonly entry: number;
  /** When it was cached. */
  readonly at: LazyEvent;
}

export class SecondaryMmu implements MmuNotifierSubscriber {
  readonly name: string;
  readonly mm: Mm;
  /** Paging-structure cache, by pmd slot index. */
  readonly psc = new Map<number, PscEntry>();
  /** IOTLB, by page-aligned address. */
  readonly iotlb = new Map<number, IotlbEntry>();
  /** invalidate_range_start() calls not yet ended: cache nothing meanwhile. */
  invalidating = 0;
  /** Invalidations received (for tests and reports). */
  invalidations = 0;
  private readonly pmdSpan: number;
  private readonly pageSize: number;

  /** mmu_notifier_register() — mm/mmu_notifier.c */
  constructor(name: string, mm: Mm, pmdSpan: number, pageSize: number) {
    this.name = name;
    this.mm = mm;
    this.pmdSpan = pmdSpan;
    this.pageSize = pageSize;
    mm.notifiers.push(this);
  }

  /** ->invalidate_range_start(): drop every cached translation in [start, end). */
  invalidateRangeStart(_ctx: Ctx, start: number, end: number): void {
    this.invalidating++;
    this.invalidations++;
    for (const idx of [...this.psc.keys()]) {
      const lo = idx * this.pmdSpan;
      if (lo < end && lo + this.pmdSpan > start) this.psc.delete(idx);
    }
    for (const va of [...this.iotlb.keys()])
      if (va < end && va + this.pageSize > start) this.iotlb.delete(va);
  }

  /** ->invalidate_range_end(): translations may be cached again. */
  invalidateRangeEnd(_ctx: Ctx, _start: number, _end: number): void {
    if (this.invalidating > 0) this.invalidating--;
  }
}

function stale(ctx: Ctx, smmu: SecondaryMmu, what: string, cachedAt: LazyEvent): never {
  bug(
    'secondary-mmu-stale',
    `${smmu.name} (for ${ctx.cpu.name} ${ctx.fn}): ${what}; it was cached at step ${cachedAt.step} and no mmu_notifier invalidation of that range reached ${smmu.name} since`,
    [cachedAt],
  );
}

/**
 * One DMA access by the device through the secondary MMU: translate `addr`
 * from the caches, or by walking the CPU page tables (one atomic step, like
 * the CPU's walker). Returns the pfn, or null for a translation fault (the
 * device then sends a page request, which the kernel handles as a fault).
 */
export function* secondaryMmuTranslate(
  ctx: Ctx,
  smmu: SecondaryMmu,
  addr: number,
  /** More objects the caller's code after the translation (in the same step) reads. */
  also?: () => readonly FootprintEntry[],
): KGen<number | null> {
  const a = ctx.k.arch;
  const c = ctx.k.config;
  const mm = smmu.mm;
  const pmdp = pmdOffset(ctx, mm, addr);
  const page = addr - (addr % c.PAGE_SIZE);
  // The pages the step reads: the pmd table, the table it points to, the cached table (and
  // the page of an IOTLB hit's source); it also reads and fills its caches, which
  // invalidate_range_start() empties (the mm's notifier object, mm/mmu-notifier.ts).
  yield ctx.stepDynamic(
    () => `${smmu.name} translate 0x${addr.toString(16)}`,
    () => {
      const peek = pmdValOf(ctx, ctx.k.mem.value(pmdp.table.pa + pmdp.index * ctx.k.mem.wordSize));
      const fp: FootprintEntry[] = [...entryReadFootprint(ctx, pmdp), mm.notifierObj];
      const cached = smmu.iotlb.get(page)?.src.table;
      // The one PTE it may read, in whichever of these tables it walks.
      for (const t of [peek.table, smmu.psc.get(pmdp.index)?.table, cached])
        if (t) fp.push(...entryReadFootprint(ctx, { table: t, index: pteIndex(ctx, addr) }));
      if (also) fp.push(...also());
      return fp;
    },
  );
  const psc = smmu.psc.get(pmdp.index);

  // The CPU tables as they are now: what every cached entry is checked against.
  const nowPmd = pmdValOf(ctx, readEntryWord(ctx, pmdp, `${smmu.name}: pmd`, 'pmd'));
  const hit = smmu.iotlb.get(page);
  if (hit) {
    const nowPte =
      nowPmd.table?.pa === hit.src.table.pa && nowPmd.table.gen === hit.src.table.gen
        ? readEntryWord(ctx, hit.src, `${smmu.name}: pte`, 'pte')
        : null;
    if (nowPte !== hit.entry)
      stale(
        ctx,
        smmu,
        `uses its IOTLB entry 0x${page.toString(16)} -> pfn ${hit.pfn}, but the CPU page tables no longer map that page there`,
        hit.at,
      );
    return hit.pfn;
  }
  let table: TableRef | null = null;
  if (psc) {
    if (nowPmd.raw !== psc.pmdRaw)
      stale(
        ctx,
        smmu,
        `walks through its cached pmd -> ${psc.table.label}, but that pmd now ${a.pmdNone(nowPmd.raw) ? 'is none' : a.pmdTransHuge(nowPmd.raw) ? 'maps a huge page' : `points to ${nowPmd.table?.label ?? 'something else'}`} (${psc.table.label} was detached${ctx.k.pt.get(psc.table.pa)?.deferredAt ? ` and queued for freeing at step ${ctx.k.pt.get(psc.table.pa)?.deferredAt?.step}` : ''})`,
        psc.at,
      );
    table = psc.table;
  } else {
    if (a.pmdNone(nowPmd.raw) || !a.pmdPresent(nowPmd.raw)) return null;
    if (a.pmdTransHuge(nowPmd.raw))
      return a.ptePfn(nowPmd.raw) + Math.floor((addr % pmdSize(ctx)) / c.PAGE_SIZE);
    const now = nowPmd.table;
    if (!now) return null;
    table = now;
    if (smmu.invalidating === 0)
      smmu.psc.set(pmdp.index, {
        table: now,
        pmdRaw: nowPmd.raw,
        at: ctx.here(() => `${smmu.name} caches pmd -> ${now.label}`),
      });
  }
  const ptep = { table, index: pteIndex(ctx, addr) };
  const pte = readEntryWord(ctx, ptep, `${smmu.name}: pte`, 'pte');
  if (a.pteNone(pte) || !a.ptePresent(pte)) return null;
  const pfn = a.ptePfn(pte);
  if (smmu.invalidating === 0)
    smmu.iotlb.set(page, {
      pfn,
      src: ptep,
      entry: pte,
      at: ctx.here(() => `${smmu.name} caches 0x${page.toString(16)} -> pfn ${pfn}`),
    });
  return pfn;
}
