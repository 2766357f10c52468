/**
 * s390 page-table allocation: arch/s390/mm/pgalloc.c.
 *
 * S390FragmentArch is v6.6: two 2K PTE tables ("halves", 256 entries each)
 * share one 4K page. The upper byte of the page's _refcount holds AA bits
 * (bit 0/1: lower/upper half allocated) and PP bits (bit 4/5: pending
 * removal, set between page_table_free_rcu() and __tlb_remove_table()). Pages
 * with exactly one free half sit on mm->context.pgtable_list (threaded through
 * ptdesc->pt_list, which pt_rcu_head overlays). pte_free_defer() sets
 * PageActive: an Active page is never put back on the list, and the one
 * call_rcu() happens when its last half is freed. A pgste mm (KVM) uses whole
 * 4K tables (256 PTEs + 256 PGSTEs, AA=3) that never go on the list.
 *
 * The same class runs the historical designs of seeds/000-001 (see
 * s390-variants.ts) through S390PgallocDesign.
 *
 * S390FullPageArch is v6.7+ (d08d4e7cd6bf): one table per page, plain RCU.
 */
import {
  type ArchConfig,
  allocPage,
  bug,
  type Ctx,
  callRcu,
  type KGen,
  type Mm,
  type MmuGather,
  ModelError,
  mmdrop,
  mmdropAsync,
  mmgrab,
  type PageMeta,
  PG,
  pageObj,
  pageRcuHead,
  pteTablePageAllocFails,
  SpinLock,
  spinLock,
  spinUnlock,
  Tag,
  tlbRemoveTable,
} from '@ptlab/core';
import {
  PAGE_TABLE_SIZE,
  S390_PAGE,
  S390Arch,
  type S390Context,
  s390Context,
} from './s390-pgtable.js';

/** How the v6.6 2K allocator and pte_free_defer() are put together: the kernel's, or a historical design. */
export interface S390PgallocDesign {
  /**
   * Where mm->context.pgtable_list is threaded: through ptdesc->pt_list (the
   * kernel), or through the first two longs of each free 2K half (Hugh's
   * "grossest patch", seeds/000), leaving page->lru free for the rcu_head.
   */
  readonly freeList: 'pt_list' | 'in-table';
  /**
   * pte_free_defer():
   * - 'active': v6.6 ("[PATCH v3 07/13]"): SetPageActive(), then page_table_free();
   * - 'v1': seeds/000 "[07/12]": mmgrab(), call_rcu(&page->rcu_head) for each
   *   half (the half and mm in page->pt_mm), page_table_free() and the mm
   *   reference dropped in the callback;
   * - 'pending': page_table_free()'s list handling done at once with the
   *   half marked pending (PP), and call_rcu() only to clear PP and release
   *   (Gerald's suggestion in seeds/000, Hugh's "pending purge" rules).
   */
  readonly deferral: 'active' | 'v1' | 'pending';
  /** How the 'v1' callback drops its mm reference: mmdrop_async() (as posted) or mmdrop(). */
  readonly v1Mmdrop: 'async' | 'sync';
  /** page_table_free()/page_table_free_rcu() keep an Active page off pgtable_list (the v3 rule). */
  readonly activeBlocksReuse: boolean;
}

/** The kernel's v6.6 design. */
export const S390_V66_DESIGN: S390PgallocDesign = {
  freeList: 'pt_list',
  deferral: 'active',
  v1Mmdrop: 'async',
  activeBlocksReuse: true,
};

/** The AA/PP byte: bits 24-31 of a _refcount value. */
function upperByte(refcount: number): number {
  return (refcount >>> 24) & 0xff;
}

/** The AA/PP byte of a page: bits 24-31 of its _refcount. */
export function aapp(page: PageMeta): number {
  return upperByte(page.refcount);
}

/** atomic_xor_bits() — arch/s390/mm/pgalloc.c: xor into _refcount, return the new value's AA/PP byte (the kernel's `mask >>= 24`). */
function atomicXorBits(page: PageMeta, bits: number): number {
  page.refcount = (page.refcount ^ bits) >>> 0;
  return upperByte(page.refcount);
}

/** Stands for &mm->context.pgtable_list, the list head inside struct mm_struct (a kernel address). */
const LIST_HEAD_ADDR = 0x3ffe0001a48;

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** Shared by both allocators: pagetable_pte_ctor() on a fresh page. */
function pagetablePteCtor(page: PageMeta): void {
  page.setFlag(PG.table);
  page.ptl = new SpinLock(`ptl of pfn ${page.pfn}`, 'ptlock', { pfn: page.pfn, gen: page.gen });
}

/**
 * The v6.6 2K-fragment allocator (and, for a pgste mm, its 4K path), with
 * pte_free_defer() per design. Configs s390-2k and s390-pgste.
 */
export class S390FragmentArch extends S390Arch {
  readonly design: S390PgallocDesign;

  constructor(
    config: ArchConfig,
    variant?: string,
    opts: { pgsteMms?: boolean; design?: S390PgallocDesign } = {},
  ) {
    super(config, variant, opts.pgsteMms === undefined ? {} : { pgsteMms: opts.pgsteMms });
    this.design = opts.design ?? S390_V66_DESIGN;
  }

  private get pageSize(): number {
    return this.config.PAGE_SIZE;
  }

  /** The page and the half (0 lower, 1 upper) of a 2K table address. */
  half(pa: number): { pfn: number; bit: number; base: number } {
    const pfn = Math.floor(pa / this.pageSize);
    const base = pfn * this.pageSize;
    return { pfn, bit: (pa - base) / PAGE_TABLE_SIZE, base };
  }

  private tableAt(pfn: number, bit: number): number {
    return pfn * this.pageSize + bit * PAGE_TABLE_SIZE;
  }

  /** The page a pgtable_list entry stands for. */
  private pfnOfEntry(e: number): number {
    return this.design.freeList === 'pt_list' ? e : Math.floor(e / this.pageSize);
  }

  /** The table registry's view: a freed half becomes reusable now, unless its free was deferred and the grace period has not passed. */
  private tableReleased(ctx: Ctx, pa: number, graceDone: boolean): void {
    const t = ctx.k.pt.get(pa);
    if (!t || t.state === 'free') return;
    if (t.state === 'deferred' && !graceDone) return;
    ctx.k.pt.released(ctx, pa);
  }

  /** Freeing a half whose AA bit is clear would flip it back on: a double free. */
  private checkAllocated(ctx: Ctx, page: PageMeta, bit: number, what: string): void {
    const allocated = aapp(page) & 0x03;
    const want = this.aaBitsOf(bit);
    if ((allocated & want) !== want) {
      bug(
        'double-free',
        `${ctx.cpu.name} ${ctx.fn}: ${what} frees half ${bit} of pfn ${page.pfn}, which is not allocated (AA/PP ${hex(aapp(page))})`,
        page.freedAt ? [page.freedAt] : [],
      );
    }
  }

  private aaBitsOf(bit: number): number {
    return bit === 3 ? 0x03 : 1 << bit;
  }

  // --- mm->context.pgtable_list ---

  /** list_add()/list_add_tail() onto mm->context.pgtable_list: the page (pt_list) or the freed half itself (in-table). */
  private listAdd(ctx: Ctx, c: S390Context, page: PageMeta, pa: number, tail: boolean): void {
    const list = c.pgtableList;
    if (this.design.freeList === 'pt_list') {
      if (list.includes(page.pfn))
        throw new ModelError('arch-s390', `list_add of pfn ${page.pfn}, already on pgtable_list`);
      page.lru.write(
        'pt_list',
        'pgtable_list',
        ctx.here(() => `list_add(pfn ${page.pfn} pt_list)`),
      );
      if (tail) list.push(page.pfn);
      else list.unshift(page.pfn);
      return;
    }
    // The "grossest patch": the list_head is the first two longs of the free half.
    if (list.includes(pa))
      throw new ModelError('arch-s390', `list_add of table 0x${pa.toString(16)}, already listed`);
    // next/prev: the neighbouring listed half, or &mm->context.pgtable_list (a kernel address).
    const next = tail ? LIST_HEAD_ADDR : (list[0] ?? LIST_HEAD_ADDR);
    const prev = tail ? (list[list.length - 1] ?? LIST_HEAD_ADDR) : LIST_HEAD_ADDR;
    ctx.k.mem.write(pa, next, Tag.list);
    ctx.k.mem.write(pa + ctx.k.mem.wordSize, prev, Tag.list);
    if (tail) list.push(pa);
    else list.unshift(pa);
    ctx.k.note(() => `list pointers written into the 2K table at 0x${pa.toString(16)}`);
  }

  /** list_del() of a listed free half (in-table): unlink, then set_pte(_PAGE_INVALID) over the two longs. */
  private listDelHalf(ctx: Ctx, c: S390Context, listed: number): void {
    const i = c.pgtableList.indexOf(listed);
    if (i < 0)
      throw new ModelError('arch-s390', `list_del of 0x${listed.toString(16)}, not listed`);
    for (const off of [0, ctx.k.mem.wordSize]) {
      if (ctx.k.mem.read(listed + off).tag !== Tag.list)
        throw new ModelError(
          'arch-s390',
          `list_del: 0x${(listed + off).toString(16)} holds no list pointer`,
        );
      ctx.k.mem.write(listed + off, S390_PAGE.INVALID, Tag.pte);
    }
    c.pgtableList.splice(i, 1);
  }

  /** "If page is on list, now remove it": list_del_init(&ptdesc->pt_list), or the listed other half (in-table). */
  private listDelInit(ctx: Ctx, c: S390Context, page: PageMeta, pa: number): void {
    if (this.design.freeList === 'pt_list') {
      page.lru.read('pt_list');
      const i = c.pgtableList.indexOf(page.pfn);
      if (i >= 0) c.pgtableList.splice(i, 1);
      page.lru.write(
        'pt_list',
        'empty',
        ctx.here(() => `list_del_init(pfn ${page.pfn} pt_list)`),
      );
      return;
    }
    const { pfn, bit } = this.half(pa);
    const other = this.tableAt(pfn, 1 - bit);
    if (c.pgtableList.includes(other)) this.listDelHalf(ctx, c, other);
  }

  private onList(c: S390Context, page: PageMeta): boolean {
    return c.pgtableList.some((e) => this.pfnOfEntry(e) === page.pfn);
  }

  // --- page_table_alloc() ---

  /** page_table_alloc() — arch/s390/mm/pgalloc.c (v6.6): a free half from pgtable_list, else a fresh page. */
  *pageTableAlloc(ctx: Ctx, mm: Mm, kernel: boolean): KGen<number | null> {
    const c = s390Context(mm);
    const owner = kernel ? null : mm;
    const entries = this.config.PTRS_PER_PTE;
    if (!c.allocPgste) {
      yield* spinLock(ctx, c.lock);
      const head = c.pgtableList[0];
      const objs = head === undefined ? [c.listObj] : [c.listObj, pageObj(this.pfnOfEntry(head))];
      yield ctx.step('list_first_entry(&mm->context.pgtable_list)', objs);
      let table: number | null = null;
      const first = c.pgtableList[0];
      if (first !== undefined) {
        const page = ctx.k.pages.meta(ctx, this.pfnOfEntry(first), 'page_table_alloc()');
        if (this.design.freeList === 'pt_list') page.lru.read('pt_list');
        let mask = aapp(page);
        // The pending removal bits must also be checked.
        mask = (mask | (mask >> 4)) & 0x03;
        if (mask !== 0x03) {
          const bit = mask & 1;
          table = this.tableAt(page.pfn, bit);
          if (this.design.freeList === 'in-table') {
            if (table !== first)
              throw new ModelError('arch-s390', 'page_table_alloc(): BUG_ON(table != listed)');
          }
          atomicXorBits(page, 0x01 << (bit + 24));
          if (this.design.freeList === 'pt_list') this.listDelInit(ctx, c, page, table);
          else this.listDelHalf(ctx, c, table);
          const t = ctx.k.pt.constructed(ctx, table, 'pte', entries, owner);
          ctx.k.note(() => `${t.label}: half ${bit} of pfn ${page.pfn} from pgtable_list`);
        }
      }
      yield* spinUnlock(ctx, c.lock);
      if (table !== null) return table;
    }
    // Allocate a fresh page: pagetable_alloc(GFP_KERNEL, 0) + pagetable_pte_ctor().
    if (pteTablePageAllocFails(ctx)) return null;
    const page = yield* allocPage(ctx, kernel ? 'kernel pte table' : 'pte table');
    pagetablePteCtor(page);
    const base = page.pfn * this.pageSize;
    const mem = ctx.k.mem;
    if (c.allocPgste) {
      // Return 4K page table with PGSTEs.
      page.lru.write('pt_list', 'empty', ctx.here('INIT_LIST_HEAD(&ptdesc->pt_list)'));
      atomicXorBits(page, 0x03 << 24);
      mem.fill(base, entries, S390_PAGE.INVALID, Tag.pte);
      mem.fill(base + PAGE_TABLE_SIZE, entries, 0, Tag.aux);
      const t = ctx.k.pt.constructed(ctx, base, 'pte', entries, owner);
      ctx.k.note(() => `${t.label}: 4K table with PGSTEs at pfn ${page.pfn}`);
      return base;
    }
    // Return the first 2K fragment of the page.
    atomicXorBits(page, 0x01 << 24);
    mem.fill(base, 2 * entries, S390_PAGE.INVALID, Tag.pte);
    const t = ctx.k.pt.constructed(ctx, base, 'pte', entries, owner);
    ctx.k.note(() => `${t.label}: half 0 of fresh pfn ${page.pfn}`);
    yield* spinLock(ctx, c.lock);
    yield ctx.step(
      () => `list_add(pfn ${page.pfn}, &mm->context.pgtable_list)`,
      [c.listObj, pageObj(page.pfn)],
    );
    this.listAdd(ctx, c, page, base + PAGE_TABLE_SIZE, false);
    yield* spinUnlock(ctx, c.lock);
    return base;
  }

  // --- freeing ---

  /** page_table_release_check() — arch/s390/mm/pgalloc.c (DEBUG_VM): dump_page() if bits are left or the page is still listed. */
  private releaseCheck(
    ctx: Ctx,
    c: S390Context | null,
    page: PageMeta,
    table: number,
    half: number,
    mask: number,
  ): void {
    if (!mask && !(c && this.onList(c, page))) return;
    this.warn(
      ctx,
      `dump_page: Invalid pgtable 0x${table.toString(16)} release half ${hex(half)} mask ${hex(mask)}`,
    );
  }

  /** The end of page_table_free()/__tlb_remove_table(): Active ? call_rcu(pt_rcu_head, pte_free_now) : pte_free_now(). */
  private *releasePage(
    ctx: Ctx,
    c: S390Context | null,
    pfn: number,
    table: number,
    half: number,
    mask: number,
  ): KGen {
    const page = ctx.k.pages.meta(ctx, pfn, 'page_table_release');
    this.releaseCheck(ctx, c, page, table, half, mask);
    if (page.testClearFlag(PG.active)) {
      yield* callRcu(ctx, pageRcuHead(page), 'pte_free_now', (rc) =>
        this.pteFreeNow(rc, pfn, true),
      );
    } else {
      yield* ctx.call('pte_free_now', this.pteFreeNow(ctx, pfn, false));
    }
  }

  /**
   * pte_free_now() — arch/s390/mm/pgalloc.c (v6.6): pagetable_pte_dtor() +
   * pagetable_free() of the whole page; from RCU, the callback was found
   * through the rcu_head (rcu_do_batch()), so it must still be one.
   */
  *pteFreeNow(ctx: Ctx, pfn: number, fromRcu: boolean): KGen {
    yield ctx.step(() => `pte_free_now(pfn ${pfn})`, ctx.k.pages.freeFootprint(ctx, pfn));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_now()');
    if (fromRcu) page.lru.read('pt_rcu_head');
    for (let bit = 0; bit < this.config.tablesPerPage; bit++)
      this.tableReleased(ctx, this.tableAt(pfn, bit), true);
    page.flags &= ~PG.table;
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /**
   * page_table_free() — arch/s390/mm/pgalloc.c (v6.6): AA→PP under
   * context.lock, put the page on pgtable_list if the other half is in use
   * (and the page is not Active), clear PP, release the page if nothing is left.
   * `graceDone`: the model's bookkeeping, set when called after a grace period.
   */
  *pageTableFree(ctx: Ctx, mm: Mm, table: number, graceDone = false): KGen {
    yield ctx.step(() => `page_table_free(0x${table.toString(16)})`, mm.countersObj, 'r');
    if (mm.freed)
      bug(
        'use-after-free',
        `${ctx.cpu.name} ${ctx.fn}: page_table_free() takes mm->context.lock of mm ${mm.id}, which was freed`,
      );
    const c = s390Context(mm);
    const { pfn, bit } = this.half(table);
    let mask: number;
    let half: number;
    if (!c.allocPgste) {
      yield* spinLock(ctx, c.lock);
      yield ctx.step(
        () => `atomic_xor_bits(_refcount of pfn ${pfn}, 0x11 << ${bit + 24})`,
        [c.listObj, pageObj(pfn)],
      );
      const page = ctx.k.pages.meta(ctx, pfn, 'page_table_free()');
      this.checkAllocated(ctx, page, bit, 'page_table_free()');
      mask = atomicXorBits(page, 0x11 << (bit + 24));
      const active = this.design.activeBlocksReuse && page.testFlag(PG.active);
      if (mask & 0x03 && !active) {
        // Other half is allocated, and neither half has had its free deferred:
        // add page to head of list, to make this freed half available for immediate reuse.
        this.listAdd(ctx, c, page, table, false);
      } else {
        this.listDelInit(ctx, c, page, table);
      }
      yield* spinUnlock(ctx, c.lock);
      yield ctx.step(
        () => `atomic_xor_bits(_refcount of pfn ${pfn}, 0x10 << ${bit + 24})`,
        pageObj(pfn),
      );
      mask = atomicXorBits(page, 0x10 << (bit + 24));
      this.tableReleased(ctx, table, graceDone);
      if (mask !== 0) return;
      half = 0x01 << bit;
    } else {
      half = 0x03;
      yield ctx.step(() => `atomic_xor_bits(_refcount of pfn ${pfn}, 0x03 << 24)`, pageObj(pfn));
      const page = ctx.k.pages.meta(ctx, pfn, 'page_table_free()');
      this.checkAllocated(ctx, page, 3, 'page_table_free()');
      mask = atomicXorBits(page, 0x03 << 24);
      this.tableReleased(ctx, table, graceDone);
    }
    yield* this.releasePage(ctx, c, pfn, table, half, mask);
  }

  /**
   * page_table_free_rcu() — arch/s390/mm/pgalloc.c (v6.6), the pte_free_tlb()
   * path of munmap/exit: AA→PP, list the page (tail: reusable only once
   * __tlb_remove_table() clears PP), hand table|half to tlb_remove_table().
   */
  *pageTableFreeRcu(ctx: Ctx, tlb: MmuGather, table: number): KGen {
    const mm = tlb.mm;
    const c = s390Context(mm);
    if (c.allocPgste) {
      ctx.k.note('gmap_unlink(): no guest mapping in the model');
      yield* tlbRemoveTable(ctx, tlb, table + 0x03);
      return;
    }
    const { pfn, bit } = this.half(table);
    yield* spinLock(ctx, c.lock);
    yield ctx.step(
      () => `atomic_xor_bits(_refcount of pfn ${pfn}, 0x11 << ${bit + 24})`,
      [c.listObj, pageObj(pfn)],
    );
    const page = ctx.k.pages.meta(ctx, pfn, 'page_table_free_rcu()');
    this.checkAllocated(ctx, page, bit, 'page_table_free_rcu()');
    const mask = atomicXorBits(page, 0x11 << (bit + 24));
    const active = this.design.activeBlocksReuse && page.testFlag(PG.active);
    if (mask & 0x03 && !active) {
      // Other half is allocated: add page to end of list, to make this freed half
      // available for reuse once its pending bit has been cleared by __tlb_remove_table().
      this.listAdd(ctx, c, page, table, true);
    } else {
      this.listDelInit(ctx, c, page, table);
    }
    yield* spinUnlock(ctx, c.lock);
    yield* tlbRemoveTable(ctx, tlb, table + (0x01 << bit));
  }

  /**
   * __tlb_remove_table() — arch/s390/mm/pgalloc.c (v6.6): the low two bits
   * say which half (3: a 4K pgste table); clear its PP (or AA) bits and
   * release the page when nothing is left.
   */
  override *tlbRemoveTableFree(ctx: Ctx, encoded: number): KGen {
    const half = encoded % 4;
    const table = encoded - half;
    const pfn = Math.floor(table / this.pageSize);
    if (half === 0)
      throw new ModelError(
        'arch-s390',
        '__tlb_remove_table(): CRST tables are not freed through the mmu_gather in the model',
      );
    yield ctx.step(() => `__tlb_remove_table(0x${table.toString(16)} | ${half})`, pageObj(pfn));
    const page = ctx.k.pages.meta(ctx, pfn, '__tlb_remove_table()');
    let mask: number;
    if (half === 0x03) {
      this.checkAllocated(ctx, page, 3, '__tlb_remove_table()');
      mask = atomicXorBits(page, 0x03 << 24);
    } else {
      if ((aapp(page) & (half << 4)) === 0) {
        bug(
          'double-free',
          `${ctx.cpu.name} ${ctx.fn}: __tlb_remove_table() of half ${half >> 1} of pfn ${pfn}, which is not pending removal (AA/PP ${hex(aapp(page))})`,
        );
      }
      mask = atomicXorBits(page, half << (4 + 24));
    }
    // The grace period (or the tlb_remove_table_sync_one() IPI) has passed: the half is free.
    this.tableReleased(ctx, table, true);
    if (half !== 0x03 && mask !== 0) return;
    yield* this.releasePage(ctx, null, pfn, table, half, mask);
  }

  // --- pte_free_defer() ---

  /** pte_free_defer() — arch/s390/mm/pgalloc.c: by design (the kernel's is 'active'). */
  override *pteFreeDefer(ctx: Ctx, mm: Mm, table: number): KGen {
    switch (this.design.deferral) {
      case 'active':
        yield* this.deferActive(ctx, mm, table);
        return;
      case 'v1':
        yield* this.deferV1(ctx, mm, table);
        return;
      case 'pending':
        yield* this.deferPending(ctx, mm, table);
        return;
    }
  }

  /**
   * pte_free_defer() — arch/s390/mm/pgalloc.c (v6.6, "[PATCH v3 07/13]"):
   * SetPageActive(page); page_table_free(mm, table); WARN_ON_ONCE(mm_has_pgste(mm)).
   */
  private *deferActive(ctx: Ctx, mm: Mm, table: number): KGen {
    const { pfn } = this.half(table);
    yield ctx.step(() => `SetPageActive(pfn ${pfn})`, pageObj(pfn));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, table);
    page.setFlag(PG.active);
    yield* ctx.call('page_table_free', this.pageTableFree(ctx, mm, table));
    // page_table_free() does not do the pgste gmap_unlink() which page_table_free_rcu() does.
    if (s390Context(mm).hasPgste)
      this.warn(ctx, 'WARN_ON_ONCE(mm_has_pgste(mm)) in pte_free_defer()');
  }

  /**
   * pte_free_defer() of seeds/000 "[07/12] s390: add pte_free_defer(), with
   * use of mmdrop_async()": mmgrab(mm); page->pt_mm = mm + half;
   * call_rcu(&page->rcu_head, pte_free_now).
   */
  private *deferV1(ctx: Ctx, mm: Mm, table: number): KGen {
    yield* mmgrab(ctx, mm);
    const { pfn, bit } = this.half(table);
    yield ctx.step(() => `page->pt_mm = mm ${mm.id} + ${bit} (pfn ${pfn})`, pageObj(pfn));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, table);
    page.index.write(
      'pt_mm',
      { mm, bit },
      ctx.here(() => `page->pt_mm = mm ${mm.id} + ${bit}`),
    );
    // call_rcu(&page->rcu_head, ...) for this half: but the page has one rcu_head.
    yield* callRcu(ctx, pageRcuHead(page, 'pt_rcu_head'), 'pte_free_now', (rc) =>
      this.v1PteFreeNow(rc, pfn),
    );
  }

  /** pte_free_now() of seeds/000 "[07/12]": page_table_free(mm, table); mmdrop_async(mm) (or mmdrop()). */
  private *v1PteFreeNow(ctx: Ctx, pfn: number): KGen {
    yield ctx.step(
      () => `container_of(head, struct page, rcu_head) (pfn ${pfn})`,
      pageObj(pfn),
      'r',
    );
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_now()');
    page.lru.read('pt_rcu_head');
    const owner = page.index.read<{ mm: Mm; bit: number }>('pt_mm');
    if (!owner) throw new ModelError('arch-s390', `pfn ${pfn}: page->pt_mm not set`);
    yield* ctx.call(
      'page_table_free',
      this.pageTableFree(ctx, owner.mm, this.tableAt(pfn, owner.bit), true),
    );
    if (this.design.v1Mmdrop === 'sync') yield* mmdrop(ctx, owner.mm);
    else yield* mmdropAsync(ctx, owner.mm);
  }

  /**
   * pte_free_defer() doing page_table_free()'s list handling at once, as
   * page_table_free_rcu() does (AA→PP, list the freed half), then
   * call_rcu(&page->rcu_head) to run __tlb_remove_table() for it: Gerald's
   * suggestion in seeds/000 on top of the "grossest patch".
   */
  private *deferPending(ctx: Ctx, mm: Mm, table: number): KGen {
    const c = s390Context(mm);
    const { pfn, bit } = this.half(table);
    yield* spinLock(ctx, c.lock);
    yield ctx.step(
      () => `atomic_xor_bits(_refcount of pfn ${pfn}, 0x11 << ${bit + 24})`,
      [c.listObj, pageObj(pfn)],
    );
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, table);
    this.checkAllocated(ctx, page, bit, 'pte_free_defer()');
    const mask = atomicXorBits(page, 0x11 << (bit + 24));
    if (mask & 0x03) this.listAdd(ctx, c, page, table, true);
    else this.listDelInit(ctx, c, page, table);
    yield* spinUnlock(ctx, c.lock);
    const encoded = table + (0x01 << bit);
    yield* callRcu(ctx, pageRcuHead(page), 'pte_free_half', (rc) =>
      pteFreeHalf(rc, this, pfn, encoded),
    );
  }

  // --- the ArchImpl entry points ---

  /** pte_alloc_one() — arch/s390/include/asm/pgalloc.h: page_table_alloc(mm). */
  override *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    return yield* ctx.call('page_table_alloc', this.pageTableAlloc(ctx, mm, false));
  }

  /** pte_free() — arch/s390/include/asm/pgalloc.h: page_table_free(mm, table). */
  override *pteFree(ctx: Ctx, mm: Mm | null, pa: number): KGen {
    if (!mm)
      throw new ModelError('arch-s390', 'pte_free() needs the mm (page_table_free(mm, table))');
    yield* ctx.call('page_table_free', this.pageTableFree(ctx, mm, pa));
  }

  /** pte_alloc_one_kernel() — arch/s390/include/asm/pgalloc.h: page_table_alloc(mm). */
  override *pteAllocOneKernel(ctx: Ctx, mm: Mm): KGen<number | null> {
    return yield* ctx.call('page_table_alloc', this.pageTableAlloc(ctx, mm, true));
  }

  /** pte_free_kernel() — arch/s390/include/asm/pgalloc.h: page_table_free(mm, table). */
  override *pteFreeKernel(ctx: Ctx, mm: Mm, pa: number): KGen {
    yield* ctx.call('page_table_free', this.pageTableFree(ctx, mm, pa));
  }

  /** pte_free_tlb() — arch/s390/include/asm/tlb.h: page_table_free_rcu(). */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    yield* ctx.call('page_table_free_rcu', this.pageTableFreeRcu(ctx, tlb, pa));
  }
}

/**
 * The RCU callback of pte_free_defer() in the pending design (deferPending()):
 * __tlb_remove_table() of the half encoded in `encoded`, with its pfn's page.
 */
function* pteFreeHalf(rc: Ctx, arch: S390FragmentArch, pfn: number, encoded: number): KGen {
  yield rc.step(() => `container_of(head, struct page, rcu_head) (pfn ${pfn})`, pageObj(pfn), 'r');
  rc.k.pages.meta(rc, pfn, 'pte_free_half()').lru.read('pt_rcu_head');
  yield* rc.call('__tlb_remove_table', arch.tlbRemoveTableFree(rc, encoded));
}

/**
 * v6.7+ (d08d4e7cd6bf "s390/mm: use full 4KB page for 2KB PTE"): each table
 * gets its own 4K page, the upper 2K zero; no AA/PP bits, no pgtable_list.
 * Config s390-4k.
 */
export class S390FullPageArch extends S390Arch {
  /** page_table_alloc() — arch/s390/mm/pgalloc.c (v6.7+) */
  *pageTableAlloc(ctx: Ctx, mm: Mm, kernel: boolean): KGen<number | null> {
    if (pteTablePageAllocFails(ctx)) return null;
    const page = yield* allocPage(ctx, kernel ? 'kernel pte table' : 'pte table');
    pagetablePteCtor(page);
    // pt_list is used by gmap only.
    page.lru.write('pt_list', 'empty', ctx.here('INIT_LIST_HEAD(&ptdesc->pt_list)'));
    const base = page.pfn * this.config.PAGE_SIZE;
    const entries = this.config.PTRS_PER_PTE;
    ctx.k.mem.fill(base, entries, S390_PAGE.INVALID, Tag.pte);
    ctx.k.mem.fill(base + PAGE_TABLE_SIZE, entries, 0, Tag.zero);
    const t = ctx.k.pt.constructed(ctx, base, 'pte', entries, kernel ? null : mm);
    ctx.k.note(() => `${t.label} allocated at pfn ${page.pfn}`);
    return base;
  }

  /** pagetable_pte_dtor_free() — arch/s390/mm/pgalloc.c (v6.7+): dtor and free the page now. */
  *pagetablePteDtorFree(ctx: Ctx, table: number, fromRcu: boolean): KGen {
    const pfn = Math.floor(table / this.config.PAGE_SIZE);
    yield ctx.step(
      () => `pagetable_pte_dtor_free(pfn ${pfn})`,
      ctx.k.pages.freeFootprint(ctx, pfn),
    );
    const page = ctx.k.pages.meta(ctx, pfn, 'pagetable_pte_dtor_free()');
    if (fromRcu) page.lru.read('pt_rcu_head');
    page.flags &= ~PG.table;
    ctx.k.pt.released(ctx, table);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /** pte_alloc_one() — arch/s390/include/asm/pgalloc.h: page_table_alloc(mm). */
  override *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    return yield* ctx.call('page_table_alloc', this.pageTableAlloc(ctx, mm, false));
  }

  /** pte_alloc_one_kernel() — arch/s390/include/asm/pgalloc.h: page_table_alloc(mm). */
  override *pteAllocOneKernel(ctx: Ctx, mm: Mm): KGen<number | null> {
    return yield* ctx.call('page_table_alloc', this.pageTableAlloc(ctx, mm, true));
  }

  /** pte_free() → page_table_free() — arch/s390/mm/pgalloc.c (v6.7+): pagetable_pte_dtor_free(). */
  override *pteFree(ctx: Ctx, _mm: Mm | null, pa: number): KGen {
    yield* ctx.call('page_table_free', this.pagetablePteDtorFree(ctx, pa, false));
  }

  /** pte_free_kernel() → page_table_free(). */
  override *pteFreeKernel(ctx: Ctx, _mm: Mm, pa: number): KGen {
    yield* ctx.call('page_table_free', this.pagetablePteDtorFree(ctx, pa, false));
  }

  /** pte_free_tlb() → page_table_free_rcu() — arch/s390/mm/pgalloc.c (v6.7+): tlb_remove_ptdesc(). */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    yield* ctx.call('page_table_free_rcu', tlbRemoveTable(ctx, tlb, pa));
  }

  /** __tlb_remove_table() — arch/s390/mm/pgalloc.c (v6.7+): a PTE table page: pagetable_pte_dtor_free(). */
  override *tlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
    yield* this.pagetablePteDtorFree(ctx, pa, false);
  }

  /**
   * pte_free_defer() — arch/s390/mm/pgalloc.c (v6.7+):
   * call_rcu(&ptdesc->pt_rcu_head, pte_free_now); WARN_ON_ONCE(mm_has_pgste(mm)).
   */
  override *pteFreeDefer(ctx: Ctx, mm: Mm, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `pte_free_defer(pfn ${pfn})`, pageObj(pfn));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_defer()');
    ctx.k.pt.deferred(ctx, pa);
    yield* callRcu(ctx, pageRcuHead(page), 'pte_free_now', (rc) =>
      this.pagetablePteDtorFree(rc, pa, true),
    );
    if (s390Context(mm).hasPgste)
      this.warn(ctx, 'WARN_ON_ONCE(mm_has_pgste(mm)) in pte_free_defer()');
  }
}
