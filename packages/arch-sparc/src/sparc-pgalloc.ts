/**
 * sparc PTE table allocation. sparc64 (arch/sparc/mm/init_64.c): one table
 * per 8K page, pgtable_t is the table's pte_t *, freed by __pte_free() (dtor +
 * pagetable_free), gathered tables go through tlb_remove_table() with bit 0
 * marking "a page". sparc32 (arch/sparc/mm/srmmu.c): 256-byte tables from the
 * uncached nocache pool, 16 to a 4K page, the page's _refcount counting its
 * user tables (ctor on the first, dtor when the last goes).
 */
import {
  auxObj,
  bug,
  type Ctx,
  type KGen,
  type Mm,
  PG,
  pageObj,
  spinLock,
  spinUnlock,
  Tag,
} from '@ptlab/core';

/** SRMMU_PTE_TABLE_SIZE — arch/sparc/include/asm/pgtsrmmu.h: 64 entries of 4 bytes. */
export const SRMMU_PTE_TABLE_SIZE = 256;

/** sparc64 pgtable_free_tlb(): the gathered pointer has bit 0 set for a PTE page (is_page). */
export const SPARC64_TABLE_IS_PAGE = 1;

/** The dependency object of the SRMMU nocache pool's bitmap. */
const SRMMU_POOL_OBJ = auxObj(0x5a4d);

/**
 * The SRMMU nocache pool — arch/sparc/mm/srmmu.c srmmu_get_nocache() /
 * srmmu_free_nocache() over a bitmap (arch/sparc/lib/bitext.c). The kernel
 * sizes the pool once at boot from memblock (srmmu_nocache_calcsize()); the
 * model grows it a page at a time when full. Its pages are PG_reserved and never
 * go back to the page allocator. Allocation is first fit in SRMMU_PTE_TABLE_SIZE
 * slots (bit_map_string_get() searches from its first free bit).
 */
export class SrmmuNocachePool {
  private readonly pages: { readonly pfn: number; readonly used: boolean[] }[] = [];
  private readonly pageSize: number;
  private readonly slotsPerPage: number;

  constructor(pageSize: number) {
    this.pageSize = pageSize;
    this.slotsPerPage = pageSize / SRMMU_PTE_TABLE_SIZE;
  }

  /** srmmu_get_nocache(SRMMU_PTE_TABLE_SIZE, SRMMU_PTE_TABLE_SIZE): a zeroed table's physical address. */
  *get(ctx: Ctx): KGen<number> {
    // The pool's bitmap is shared by every CPU (srmmu_nocache_bitmap under its spinlock).
    yield ctx.step('srmmu_get_nocache(SRMMU_PTE_TABLE_SIZE)', [
      SRMMU_POOL_OBJ,
      ...ctx.k.pages.allocFootprint(ctx),
    ]);
    let page = this.pages.find((p) => p.used.includes(false));
    if (!page) {
      const meta = ctx.k.pages.allocNow(ctx, 'srmmu nocache pool');
      meta.setFlag(PG.reserved);
      page = { pfn: meta.pfn, used: new Array<boolean>(this.slotsPerPage).fill(false) };
      this.pages.push(page);
    }
    const slot = page.used.indexOf(false);
    page.used[slot] = true;
    const pa = page.pfn * this.pageSize + slot * SRMMU_PTE_TABLE_SIZE;
    ctx.k.mem.fill(pa, SRMMU_PTE_TABLE_SIZE / ctx.k.mem.wordSize, 0, Tag.zero);
    return pa;
  }

  /** srmmu_free_nocache(addr, SRMMU_PTE_TABLE_SIZE): bit_map_clear() BUG()s on a slot not in use. */
  *free(ctx: Ctx, pa: number): KGen {
    const pfn = Math.floor(pa / this.pageSize);
    yield ctx.step(() => `srmmu_free_nocache(pfn ${pfn})`, [SRMMU_POOL_OBJ, pageObj(pfn)]);
    const page = this.pages.find((p) => p.pfn === pfn);
    const slot = (pa - pfn * this.pageSize) / SRMMU_PTE_TABLE_SIZE;
    if (!page || !Number.isInteger(slot) || !page.used[slot]) {
      bug(
        'double-free',
        `${ctx.cpu.name} ${ctx.fn}: srmmu_free_nocache(0x${pa.toString(16)}): not an allocated nocache table (bit_map_clear() BUG)`,
      );
    }
    page.used[slot] = false;
  }

  /** Tables handed out from the pool page `pfn` (for tests). */
  inUse(pfn: number): number {
    return this.pages.find((p) => p.pfn === pfn)?.used.filter(Boolean).length ?? 0;
  }

  /** Pool pages so far (for tests). */
  get pfns(): number[] {
    return this.pages.map((p) => p.pfn);
  }
}

/**
 * pte_alloc_one() — arch/sparc/mm/srmmu.c: a table from the nocache pool, then,
 * under mm->page_table_lock, page_ref_inc_return(page) == 2 means this is the
 * page's first user table: pagetable_pte_ctor() (ptlock_init() is empty
 * without split ptlocks; PageTable is set).
 */
export function* srmmuPteAllocOne(
  ctx: Ctx,
  pool: SrmmuNocachePool,
  mm: Mm,
  entries: number,
): KGen<number> {
  const pa = yield* ctx.call('pte_alloc_one_kernel', pool.get(ctx));
  const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
  yield* spinLock(ctx, mm.pageTableLock);
  yield ctx.step(() => `page_ref_inc_return(pfn ${pfn})`, pageObj(pfn));
  const page = ctx.k.pages.meta(ctx, pfn, 'pte_alloc_one()');
  page.refcount++;
  if (page.refcount === 2) {
    page.setFlag(PG.table);
    ctx.k.note(() => `pagetable_pte_ctor(pfn ${pfn}): first PTE table in the page`);
  }
  const t = ctx.k.pt.constructed(ctx, pa, 'pte', entries, mm);
  ctx.k.note(
    () => `${t.label} allocated at pfn ${pfn}+0x${(pa % ctx.k.config.PAGE_SIZE).toString(16)}`,
  );
  yield* spinUnlock(ctx, mm.pageTableLock);
  return pa;
}

/**
 * pte_free() — arch/sparc/mm/srmmu.c: under mm->page_table_lock,
 * page_ref_dec_return(page) == 1 means the page's last user table went:
 * pagetable_pte_dtor(); then the table goes back to the nocache pool.
 */
export function* srmmuPteFree(ctx: Ctx, pool: SrmmuNocachePool, mm: Mm, pa: number): KGen {
  const pfn = Math.floor(pa / ctx.k.config.PAGE_SIZE);
  yield* spinLock(ctx, mm.pageTableLock);
  yield ctx.step(() => `page_ref_dec_return(pfn ${pfn})`, pageObj(pfn));
  const page = ctx.k.pages.meta(ctx, pfn, 'pte_free()');
  page.refcount--;
  if (page.refcount === 1) {
    page.flags &= ~PG.table;
    ctx.k.note(() => `pagetable_pte_dtor(pfn ${pfn}): last PTE table in the page freed`);
  }
  ctx.k.pt.released(ctx, pa);
  yield* spinUnlock(ctx, mm.pageTableLock);
  yield* pool.free(ctx, pa);
}
