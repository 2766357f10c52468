import {
  type ArchConfig,
  type ArchPort,
  allocPage,
  type Ctx,
  callRcu,
  GenericArch,
  type KGen,
  type Mm,
  type MmuGather,
  type PtePtr,
  pageRcuHead,
  pteTablePageAllocFails,
  Tag,
  tlbRemoveTable,
  type Vma,
} from '@ptlab/core';
import { SPARC_CONFIGS } from './sparc-configs.js';
import { getUserInsn } from './sparc-fault.js';
import { SPARC64_HPAGE_64K, sparc64HugePteAlloc, sparc64HugePteOffset } from './sparc-hugetlb.js';
import {
  SPARC64_TABLE_IS_PAGE,
  SrmmuNocachePool,
  srmmuPteAllocOne,
  srmmuPteFree,
} from './sparc-pgalloc.js';
import {
  hasBit,
  SPARC64_PAGE_SIZE,
  SUN4V,
  sparc64MkPmdHuge,
  sparc64MkPte,
  sparc64Pfn,
  srmmuMkPtd,
  srmmuMkPte,
  srmmuPtdPa,
  srmmuPtePfn,
  srmmuPtePresent,
} from './sparc-pgtable.js';
import {
  SPARC_HUGETLB_UNBALANCED_MAP,
  SPARC_MAP_CANNOT_FAIL,
  SPARC_VARIANTS,
} from './sparc-variants.js';

/**
 * sparc64: one PTE table per 8K page, but pgtable_t is the table's pte_t *
 * (not a struct page *), so it has its own pte_free_defer() converting to the
 * page and back ("[PATCH v3 06/13] sparc: add pte_free_defer() for pte_t
 * *pgtable_t"). SMP frees gathered tables by RCU (MMU_GATHER_RCU_TABLE_FREE)
 * with no TLB invalidate before (the TSB/TLB cache no table levels). 64K
 * hugetlb pages live at PTE level.
 */
export class Sparc64Arch extends GenericArch {
  override readonly hugetlbPteSizes: readonly number[] = [SPARC64_HPAGE_64K];

  // --- sun4v TTE encoding (pgtable_64.h); pmds hold the table's physical address ---
  /** pte_none() — !pte_val(pte) */
  override pteNone(pte: number): boolean {
    return pte === 0;
  }
  /** pte_present() — pte_val(pte) & _PAGE_PRESENT_4V */
  override ptePresent(pte: number): boolean {
    return hasBit(pte, SUN4V.PRESENT);
  }
  override ptePfn(pte: number): number {
    return sparc64Pfn(pte);
  }
  override mkPte(pfn: number, prot: { write: boolean }): number {
    return sparc64MkPte(pfn, prot.write);
  }
  /** pmd_none() — !pmd_val(pmd) */
  override pmdNone(pmd: number): boolean {
    return pmd === 0;
  }
  /** pmd_present() — pmd_val(pmd) != 0UL */
  override pmdPresent(pmd: number): boolean {
    return pmd !== 0;
  }
  /** pmd_trans_huge() / is_hugetlb_pmd() — pmd_val(pmd) & _PAGE_PMD_HUGE */
  override pmdTransHuge(pmd: number): boolean {
    return hasBit(pmd, SUN4V.PMD_HUGE);
  }
  /** pmd_bad() — pmd_val(pmd) & ~PAGE_MASK ("only called on non-trans-huge PMDs") */
  override pmdBad(pmd: number): boolean {
    return pmd % SPARC64_PAGE_SIZE !== 0;
  }
  /** pmd_populate() = pmd_set() — pmd_val(*pmdp) = __pa(ptep) */
  override mkPmdTable(pa: number): number {
    return pa;
  }
  override pmdTablePa(pmd: number): number {
    return pmd;
  }
  override mkPmdHuge(pfn: number): number {
    return sparc64MkPmdHuge(pfn);
  }

  // --- PTE tables (arch/sparc/mm/init_64.c, include/asm/pgalloc_64.h) ---
  /** pte_alloc_one() → __pte_alloc_one() — init_64.c: pagetable_alloc(GFP_KERNEL | __GFP_ZERO, 0), pagetable_pte_ctor(), ptdesc_address(). */
  override *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    if (pteTablePageAllocFails(ctx)) return null;
    const page = yield* allocPage(ctx, 'pte table');
    return this.pagetablePteCtor(
      ctx,
      page,
      mm,
      page.pfn * this.config.PAGE_SIZE,
      this.config.PTRS_PER_PTE,
    );
  }

  /** __pte_free() — init_64.c: pagetable_pte_dtor() and pagetable_free() of virt_to_ptdesc(pte). */
  *__pteFree(ctx: Ctx, pte: number): KGen {
    const pfn = Math.floor(pte / this.config.PAGE_SIZE);
    yield ctx.step(() => `__pte_free(pfn ${pfn})`, ctx.k.pages.freeFootprint(ctx, pfn));
    const page = ctx.k.pages.meta(ctx, pfn, '__pte_free()');
    this.pagetablePteDtor(ctx, page);
    ctx.k.pt.released(ctx, pte);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /** pte_free() — init_64.c: __pte_free(pte). */
  override *pteFree(ctx: Ctx, _mm: Mm | null, pa: number): KGen {
    yield* ctx.call('__pte_free', this.__pteFree(ctx, pa));
  }

  /**
   * pte_free_defer() — init_64.c (v6.6): page = virt_to_page(pgtable);
   * call_rcu(&page->rcu_head, pte_free_now), and pte_free_now() calls
   * __pte_free((pgtable_t)page_address(page)).
   */
  override *pteFreeDefer(ctx: Ctx, _mm: Mm, pgtable: number): KGen {
    const pfn = Math.floor(pgtable / this.config.PAGE_SIZE);
    // The table's deferral (the page must be alive): its status only.
    yield ctx.step(() => `pte_free_defer(pfn ${pfn})`, ctx.k.pt.statusOf({ pa: pgtable }));
    const page = ctx.k.pages.meta(ctx, pfn, 'pte_free_defer(): virt_to_page()');
    ctx.k.pt.deferred(ctx, pgtable);
    const pageAddress = pfn * this.config.PAGE_SIZE;
    yield* callRcu(ctx, pageRcuHead(page), 'pte_free_now', (c) =>
      c.call('__pte_free', this.__pteFree(c, pageAddress)),
    );
  }

  /** pte_alloc_one_kernel() — init_64.c (v6.6): alloc_page(GFP_KERNEL | __GFP_ZERO), no ctor. */
  override *pteAllocOneKernel(ctx: Ctx, _mm: Mm): KGen<number | null> {
    const page = yield* allocPage(ctx, 'kernel pte table');
    const pa = page.pfn * this.config.PAGE_SIZE;
    ctx.k.pt.constructed(ctx, pa, 'pte', this.config.PTRS_PER_PTE, null);
    ctx.k.mem.fill(pa, this.config.PTRS_PER_PTE, 0, Tag.zero);
    return pa;
  }

  /** pte_free_kernel() — init_64.c (v6.6): free_page((unsigned long)pte). */
  override *pteFreeKernel(ctx: Ctx, _mm: Mm, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `free_page(pfn ${pfn})`, ctx.k.pages.freeFootprint(ctx, pfn));
    ctx.k.pt.released(ctx, pa);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /** __pte_free_tlb() → pgtable_free_tlb(tlb, pte, true) — pgalloc_64.h: SMP: tlb_remove_table(tlb, pte | 1). */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    yield* ctx.call('pgtable_free_tlb', tlbRemoveTable(ctx, tlb, pa + SPARC64_TABLE_IS_PAGE));
  }

  /** __tlb_remove_table() — pgalloc_64.h: strip bit 0 and pgtable_free(table, is_page). */
  override *tlbRemoveTableFree(ctx: Ctx, tagged: number): KGen {
    const isPage = tagged % 2 === SPARC64_TABLE_IS_PAGE;
    const table = tagged - (tagged % 2);
    // pgtable_free(): a PTE page goes to __pte_free(); pmd/pud tables come from
    // pgtable_cache (kmem_cache_free), which the model does not free this way.
    if (!isPage) throw new Error('sparc64 __tlb_remove_table(): only PTE pages are gathered here');
    yield* ctx.call('pgtable_free', ctx.call('__pte_free', this.__pteFree(ctx, table)));
  }

  // --- hugetlb (arch/sparc/mm/hugetlbpage.c) ---
  override *hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    return yield* sparc64HugePteAlloc(
      ctx,
      mm,
      addr,
      size,
      this.variant === SPARC_HUGETLB_UNBALANCED_MAP,
    );
  }
  override *hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    return yield* sparc64HugePteOffset(
      ctx,
      mm,
      addr,
      size,
      this.variant === SPARC_HUGETLB_UNBALANCED_MAP,
    );
  }

  // --- the fault path (arch/sparc/mm/fault_64.c) ---
  /**
   * do_sparc64_fault(): a pure DTLB miss (no FAULT_CODE_WRITE) on a VM_WRITE
   * vma reads the faulting instruction: get_fault_insn() → get_user_insn().
   */
  *beforeHandleMmFault(ctx: Ctx, vma: Vma, addr: number, write: boolean): KGen {
    if (write) return;
    yield* ctx.call(
      'get_fault_insn',
      ctx.call(
        'get_user_insn',
        getUserInsn(ctx, vma.mm, addr, this.variant !== SPARC_MAP_CANNOT_FAIL),
      ),
    );
  }
}

/**
 * sparc32 SRMMU: 256-byte PTE tables from the uncached nocache pool, 16 to a
 * page; the page's _refcount counts the user tables in it (pte_alloc_one()
 * constructs the page with the first, pte_free() destructs it with the last),
 * under mm->page_table_lock. No THP (so no pte_free_defer()), no split
 * ptlocks, no RCU table freeing: __pte_free_tlb() is pte_free() at once.
 */
export class Sparc32Arch extends GenericArch {
  /** The nocache pool: per boot (one ArchImpl per simulated kernel). */
  readonly pool: SrmmuNocachePool;

  constructor(config: ArchConfig, variant?: string) {
    super(config, variant);
    this.pool = new SrmmuNocachePool(config.PAGE_SIZE);
  }

  // --- SRMMU encoding (pgtsrmmu.h, pgtable_32.h) ---
  /** pte_none() — !pte_val(pte) */
  override pteNone(pte: number): boolean {
    return pte === 0;
  }
  /** pte_present() — (pte_val(pte) & SRMMU_ET_MASK) == SRMMU_ET_PTE */
  override ptePresent(pte: number): boolean {
    return srmmuPtePresent(pte);
  }
  override ptePfn(pte: number): number {
    return srmmuPtePfn(pte);
  }
  override mkPte(pfn: number, prot: { write: boolean }): number {
    return srmmuMkPte(pfn, prot.write);
  }
  override pmdNone(pmd: number): boolean {
    return pmd === 0;
  }
  /** pmd_present() — (pmd_val(pmd) & SRMMU_ET_MASK) == SRMMU_ET_PTD */
  override pmdPresent(pmd: number): boolean {
    return pmd % 4 === 1;
  }
  /** No THP, no huge pmds. */
  override pmdTransHuge(_pmd: number): boolean {
    return false;
  }
  /** pmd_bad() — (pmd_val(pmd) & SRMMU_ET_MASK) != SRMMU_ET_PTD */
  override pmdBad(pmd: number): boolean {
    return pmd !== 0 && pmd % 4 !== 1;
  }
  /** pmd_set()/pmd_populate(): SRMMU_ET_PTD | (__nocache_pa(ptep) >> 4) */
  override mkPmdTable(pa: number): number {
    return srmmuMkPtd(pa);
  }
  override pmdTablePa(pmd: number): number {
    return srmmuPtdPa(pmd);
  }
  override mkPmdHuge(_pfn: number): number {
    throw new Error('sparc32 has no huge pmds (no THP, no hugetlb)');
  }

  // --- PTE tables (arch/sparc/mm/srmmu.c, include/asm/pgalloc_32.h) ---
  override *pteAllocOne(ctx: Ctx, mm: Mm): KGen<number | null> {
    // srmmu_get_nocache() finding the nocache pool full: pte_alloc_one_kernel(), then pte_alloc_one(), NULL.
    if (pteTablePageAllocFails(ctx)) return null;
    return yield* ctx.call(
      'pte_alloc_one',
      srmmuPteAllocOne(ctx, this.pool, mm, this.config.PTRS_PER_PTE),
    );
  }

  override *pteFree(ctx: Ctx, mm: Mm | null, pa: number): KGen {
    if (!mm) throw new Error('sparc32 pte_free() needs the mm (its page_table_lock)');
    yield* ctx.call('pte_free', srmmuPteFree(ctx, this.pool, mm, pa));
  }

  /** sparc32 has no THP: pte_free_defer() is never built (it lives under CONFIG_TRANSPARENT_HUGEPAGE). */
  override *pteFreeDefer(_ctx: Ctx, _mm: Mm, _pa: number): KGen {
    throw new Error('sparc32 has no pte_free_defer(): no CONFIG_TRANSPARENT_HUGEPAGE');
  }

  /** pte_alloc_one_kernel() — pgalloc_32.h: srmmu_get_nocache(SRMMU_PTE_TABLE_SIZE, ...), no page refcount. */
  override *pteAllocOneKernel(ctx: Ctx, _mm: Mm): KGen<number | null> {
    const pa = yield* ctx.call('srmmu_get_nocache', this.pool.get(ctx));
    ctx.k.pt.constructed(ctx, pa, 'pte', this.config.PTRS_PER_PTE, null);
    return pa;
  }

  /** pte_free_kernel() — pgalloc_32.h: srmmu_free_nocache(pte, SRMMU_PTE_TABLE_SIZE). */
  override *pteFreeKernel(ctx: Ctx, _mm: Mm, pa: number): KGen {
    ctx.k.pt.released(ctx, pa);
    yield* ctx.call('srmmu_free_nocache', this.pool.free(ctx, pa));
  }

  /** pte_free_tlb() → __pte_free_tlb() — pgalloc_32.h: pte_free((tlb)->mm, pte), at once. */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    tlb.freedTables = true;
    yield* this.pteFree(ctx, tlb.mm, pa);
  }

  /** No MMU_GATHER_TABLE_FREE on sparc32: nothing is ever gathered as a table. */
  override *tlbRemoveTableFree(_ctx: Ctx, _pa: number): KGen {
    throw new Error('sparc32 has no __tlb_remove_table() (no MMU_GATHER_TABLE_FREE)');
  }
}

export const SPARC_VARIANT_IDS = SPARC_VARIANTS.map((v) => v.id);

/** The sparc ArchPort: sparc64 and sparc32 (SRMMU). */
export const sparc: ArchPort = {
  arch: 'sparc',
  configs: SPARC_CONFIGS,
  variants: SPARC_VARIANTS,
  create(config: ArchConfig, variant?: string) {
    if (variant !== undefined && !SPARC_VARIANT_IDS.includes(variant))
      throw new Error(`unknown sparc variant ${variant}`);
    if (config.id === 'sparc32') return new Sparc32Arch(config, variant);
    if (config.id === 'sparc64') return new Sparc64Arch(config, variant);
    throw new Error(`unknown sparc config ${config.id}`);
  },
};
