import { bug } from './checks.js';
import type { Ctx } from './context.js';
import { type FootprintEntry, Global, globalObj, pageLifeObj, pageObj } from './deps.js';
import { ModelError } from './errors.js';
import { assertEffectWrites } from './footprint-audit.js';
import { LIMITS } from './limits.js';
import { Tag } from './memory.js';
import { PageMeta, PG } from './page.js';
import type { Leaf } from './step.js';

/** Poison written over a freed page (PAGE_POISON-like), tagged so readers are caught. */
export const POISON = 0x6b6b6b6b;

/** Fresh page frames each CPU draws from before the shared overflow range (see PageAllocator). */
const PCP_SPAN = 1024;
/** CPU slots with a range of their own: the boot CPU, and CPUs 0..MAX_PCP_SLOTS-2. */
const MAX_PCP_SLOTS = 40;
const OVERFLOW_OBJ = globalObj(Global.pageOverflow);

/**
 * The first pfn above every pfn a PageAllocator(pfnBase, pfnStride) can hand
 * out: the per-CPU ranges, then at most LIMITS.pageFrames from the shared
 * overflow range (allocNow() refuses more). Data folios live above it
 * (Kernel.createFolio()), so no page table ever shares a pfn with a folio.
 */
export function allocatorPfnEnd(pfnBase: number, pfnStride = 1): number {
  return pfnBase + (MAX_PCP_SLOTS * PCP_SPAN + LIMITS.pageFrames) * pfnStride;
}

/**
 * The page allocator, reduced to what matters here. Pages come from per-CPU
 * lists, as order-0 pages do in the kernel (the pcp lists of mm/page_alloc.c):
 * a page freed on a CPU goes to that CPU's list and is the next one it hands
 * out (so a page freed too early is reused at once), and a CPU with an empty
 * list takes a fresh frame from a range of its own. So allocations and frees
 * on different CPUs touch different objects and commute, which the explorer's
 * partial-order reduction relies on. Frees poison the page; double frees and
 * leaks are caught.
 */
export class PageAllocator {
  private readonly metas = new Map<number, PageMeta>();
  /** Per-CPU free lists, by slot (cpu id + 1; 0 is the boot CPU). */
  private readonly pcp: number[][] = [];
  private readonly freshUsed: number[] = [];
  private overflowUsed = 0;
  private readonly pfnBase: number;
  /** Distance between fresh pfns (ArchConfig.pfnStride; 1 = consecutive). */
  private readonly pfnStride: number;
  allocatedCount = 0;

  constructor(pfnBase: number, pfnStride = 1) {
    this.pfnBase = pfnBase;
    this.pfnStride = pfnStride;
  }

  /** struct page for a pfn, without checks (allocator and teardown use only). */
  raw(pfn: number): PageMeta {
    let m = this.metas.get(pfn);
    if (!m) {
      m = new PageMeta(pfn);
      this.metas.set(pfn, m);
    }
    return m;
  }

  /** struct page of an allocated page; touching a freed page's struct page is a use after free. */
  meta(ctx: Ctx, pfn: number, what: string): PageMeta {
    const m = this.raw(pfn);
    if (!m.allocated) {
      bug(
        'use-after-free',
        `${ctx.cpu.name} ${ctx.fn}: ${what} touches struct page of pfn ${pfn}, freed at step ${m.freedAt?.step ?? '?'} by ${m.freedAt?.cpu ?? '?'} ${m.freedAt?.fn ?? ''}`,
        m.freedAt ? [m.freedAt] : [],
      );
    }
    return m;
  }

  private slotOf(ctx: Ctx): number {
    return Math.min(ctx.cpu.id + 1, MAX_PCP_SLOTS - 1);
  }

  /** The pfn the next allocation on `ctx`'s CPU will return, and whether it comes from the shared overflow. */
  private next(ctx: Ctx): { pfn: number; overflow: boolean } {
    const slot = this.slotOf(ctx);
    const list = this.pcp[slot];
    const top = list?.[list.length - 1];
    if (top !== undefined) return { pfn: top, overflow: false };
    const used = this.freshUsed[slot] ?? 0;
    if (used < PCP_SPAN)
      return { pfn: this.pfnBase + (slot * PCP_SPAN + used) * this.pfnStride, overflow: false };
    return {
      pfn: this.pfnBase + (MAX_PCP_SLOTS * PCP_SPAN + this.overflowUsed) * this.pfnStride,
      overflow: true,
    };
  }

  /** What an allocation on `ctx`'s CPU touches: its pcp list, the page it will hand out, maybe the overflow range. */
  allocFootprint(ctx: Ctx): FootprintEntry[] {
    const n = this.next(ctx);
    const fp: FootprintEntry[] = [ctx.cpu.pcpObj, pageObj(n.pfn), pageLifeObj(n.pfn)];
    if (n.overflow) fp.push(OVERFLOW_OBJ);
    return fp;
  }

  /** What freeing `pfn` on `ctx`'s CPU touches. */
  freeFootprint(ctx: Ctx, pfn: number): FootprintEntry[] {
    return [ctx.cpu.pcpObj, pageObj(pfn), pageLifeObj(pfn)];
  }

  /** Allocate without a scheduling point (setup, or inside a step that declared allocFootprint()). */
  allocNow(ctx: Ctx, owner: string): PageMeta {
    const slot = this.slotOf(ctx);
    const n = this.next(ctx);
    const list = this.pcp[slot];
    if (list?.length) list.pop();
    else if (n.overflow) {
      if (this.overflowUsed >= LIMITS.pageFrames)
        throw new ModelError(
          'core',
          `page allocator: more than ${LIMITS.pageFrames} pages from the shared range (LIMITS.pageFrames); folios live above it`,
        );
      this.overflowUsed++;
    } else this.freshUsed[slot] = (this.freshUsed[slot] ?? 0) + 1;
    const m = this.raw(n.pfn);
    assertEffectWrites(ctx, pageLifeObj(n.pfn), () => `alloc of pfn ${n.pfn}`);
    m.allocated = true;
    m.gen++;
    m.flags = 0;
    m.refcount = 1;
    m.owner = owner;
    m.lru.clear();
    m.index.clear();
    m.ptl = null;
    m.allocatedAt = ctx.here(() => `alloc pfn ${n.pfn} for ${owner}`);
    ctx.k.mem.fillPage(n.pfn, 0, Tag.zero);
    this.allocatedCount++;
    return m;
  }

  /** Free without a scheduling point (inside a step that declared freeFootprint()). */
  freeNow(ctx: Ctx, pfn: number): void {
    const m = this.raw(pfn);
    if (!m.allocated) {
      bug(
        'double-free',
        `${ctx.cpu.name} ${ctx.fn}: frees pfn ${pfn} (${m.owner}), already freed at step ${m.freedAt?.step ?? '?'} by ${m.freedAt?.cpu ?? '?'} ${m.freedAt?.fn ?? ''}`,
        m.freedAt ? [m.freedAt] : [],
      );
    }
    freePageIsBad(ctx, m);
    assertEffectWrites(ctx, pageLifeObj(pfn), () => `free of pfn ${pfn}`);
    m.allocated = false;
    m.freedAt = ctx.here(() => `free pfn ${pfn} (${m.owner})`);
    ctx.k.mem.fillPage(pfn, POISON, Tag.poison);
    const slot = this.slotOf(ctx);
    let list = this.pcp[slot];
    if (!list) {
      list = [];
      this.pcp[slot] = list;
    }
    list.push(pfn);
    this.allocatedCount--;
  }

  /** Pages still allocated, for the leak check at teardown. */
  allocated(): PageMeta[] {
    return [...this.metas.values()].filter((m) => m.allocated);
  }

  /** Every struct page ever touched, in pfn order (for state digests). */
  all(): PageMeta[] {
    return [...this.metas.values()].sort((a, b) => a.pfn - b.pfn);
  }
}

/**
 * PAGE_FLAGS_CHECK_AT_FREE — include/linux/page-flags.h (v6.6: lru, locked,
 * private, private_2, writeback, reserved, slab, active, unevictable, mlocked,
 * LRU_GEN_MASK); the model has only PG_active and PG_reserved of them.
 */
export const PAGE_FLAGS_CHECK_AT_FREE = PG.active | PG.reserved;

/**
 * free_page_is_bad() — mm/page_alloc.c (v6.6), checked by free_pages_prepare()
 * when check_pages_enabled (CONFIG_DEBUG_VM): bad_page() prints "BUG: Bad page
 * state" and the page is not freed. Only the flags part of
 * page_expected_state() is modelled (not _mapcount/page_type, mapping, _refcount).
 */
function freePageIsBad(ctx: Ctx, m: PageMeta): void {
  const bad = m.flags & PAGE_FLAGS_CHECK_AT_FREE;
  if (!bad) return;
  const names = [bad & PG.active ? 'active' : '', bad & PG.reserved ? 'reserved' : ''].filter(
    (x) => x,
  );
  bug(
    'bad-page-state',
    `${ctx.cpu.name} ${ctx.fn}: BUG: Bad page state in process ${ctx.cpu.name}  pfn:${m.pfn.toString(16)} (${m.owner}) flags:(${names.join('|')}) page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set`,
    m.allocatedAt ? [m.allocatedAt] : [],
  );
}

/** alloc_pages(gfp, 0) — mm/page_alloc.c */
export function allocPage(ctx: Ctx, owner: string): Leaf<PageMeta> {
  return ctx.leaf(
    () => `alloc_pages() for ${owner}`,
    ctx.k.pages.allocFootprint(ctx),
    'w',
    () => ctx.k.pages.allocNow(ctx, owner),
  );
}

/** __free_pages() — mm/page_alloc.c */
export function freePage(ctx: Ctx, pfn: number): Leaf {
  return ctx.leaf(
    () => `__free_pages(pfn ${pfn})`,
    ctx.k.pages.freeFootprint(ctx, pfn),
    'w',
    () => ctx.k.pages.freeNow(ctx, pfn),
  );
}
