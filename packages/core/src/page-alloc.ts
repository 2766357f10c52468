import { bug } from './checks.js';
import type { Ctx } from './context.js';
import { Tag } from './memory.js';
import { PageMeta, PG } from './page.js';
import { ALLOC_OBJ, type KGen, pageObj } from './step.js';

/** Poison written over a freed page (PAGE_POISON-like), tagged so readers are caught. */
export const POISON = 0x6b6b6b6b;

/**
 * The buddy allocator, reduced to what matters here: pages are handed out
 * last-freed-first (so a page freed too early is reused at once, as it would be
 * under pressure), poisoned on free, and double frees and leaks are caught.
 */
export class PageAllocator {
  private readonly metas = new Map<number, PageMeta>();
  private readonly free: number[] = [];
  private nextPfn: number;
  /** Distance between fresh pfns (ArchConfig.pfnStride; 1 = consecutive). */
  private readonly pfnStride: number;
  allocatedCount = 0;

  constructor(pfnBase: number, pfnStride = 1) {
    this.nextPfn = pfnBase;
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

  /** Allocate without a scheduling point (setup). */
  allocNow(ctx: Ctx, owner: string): PageMeta {
    let pfn = this.free.pop();
    if (pfn === undefined) {
      pfn = this.nextPfn;
      this.nextPfn += this.pfnStride;
    }
    const m = this.raw(pfn);
    m.allocated = true;
    m.gen++;
    m.flags = 0;
    m.refcount = 1;
    m.owner = owner;
    m.lru.clear();
    m.index.clear();
    m.ptl = null;
    m.allocatedAt = ctx.here(`alloc pfn ${pfn} for ${owner}`);
    ctx.k.mem.fillPage(pfn, 0, Tag.zero);
    this.allocatedCount++;
    return m;
  }

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
    m.allocated = false;
    m.freedAt = ctx.here(`free pfn ${pfn} (${m.owner})`);
    ctx.k.mem.fillPage(pfn, POISON, Tag.poison);
    this.free.push(pfn);
    this.allocatedCount--;
  }

  /** Pages still allocated, for the leak check at teardown. */
  allocated(): PageMeta[] {
    return [...this.metas.values()].filter((m) => m.allocated);
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
export function* allocPage(ctx: Ctx, owner: string): KGen<PageMeta> {
  yield ctx.step(`alloc_pages() for ${owner}`, ALLOC_OBJ);
  return ctx.k.pages.allocNow(ctx, owner);
}

/** __free_pages() — mm/page_alloc.c */
export function* freePage(ctx: Ctx, pfn: number): KGen {
  yield ctx.step(`__free_pages(pfn ${pfn})`, [ALLOC_OBJ, pageObj(pfn)]);
  ctx.k.pages.freeNow(ctx, pfn);
}
