import {
  type ArchConfig,
  type ArchPort,
  type Ctx,
  GenericArch,
  type KGen,
  type MmuGather,
  ModelError,
  pageObj,
  pmdLow,
  tlbRemoveTable,
  X86_PAGE,
} from '@ptlab/core';
import { X86_CONFIGS, type X86TlbRemoveTable, x86TlbRemoveTable } from './x86-configs.js';
import {
  noIrqGuard,
  noLocklessSync,
  PAE_NO_IRQ_GUARD,
  PAE_NO_LOCKLESS_SYNC,
  semiRcuTlbRemoveTableOne,
  X86_SEMI_RCU_RECLAIM,
  X86_VARIANTS,
} from './x86-variants.js';

/**
 * x86 uses the generic page-table code: one table per 4K page, pgtable_t is a
 * struct page *, the generic pte_free_defer(). What is x86's own: pte_none()
 * ignores the A/D bits a Knights Landing erratum may set on a not-present PTE;
 * on PAE pmd_none() looks at pmd_low only; ___pte_free_tlb() runs the dtor and
 * hands the table to paravirt_tlb_remove_table() (tlb_remove_page() or
 * tlb_remove_table(), by config); with PT_RECLAIM a single table is freed by
 * RCU (GenericArch.tlbRemoveTableOne()).
 */
export class X86Arch extends GenericArch {
  readonly tlbRemoveTableKind: X86TlbRemoveTable;
  /** Variant hooks over core's generic pmdp_get_lockless_start/_end/_sync(). */
  readonly pmdpGetLocklessStart?: (ctx: Ctx) => KGen;
  readonly pmdpGetLocklessEnd?: (ctx: Ctx) => KGen;
  readonly pmdpGetLocklessSync?: (ctx: Ctx) => KGen;

  constructor(config: ArchConfig, variant?: string) {
    super(config, variant);
    this.tlbRemoveTableKind = x86TlbRemoveTable(config);
    if (variant === PAE_NO_IRQ_GUARD) {
      this.pmdpGetLocklessStart = noIrqGuard;
      this.pmdpGetLocklessEnd = noIrqGuard;
    }
    if (variant === PAE_NO_LOCKLESS_SYNC) this.pmdpGetLocklessSync = noLocklessSync;
  }

  /** pte_none() — arch/x86/include/asm/pgtable.h: !(pte & ~_PAGE_KNL_ERRATUM_MASK) */
  override pteNone(pte: number): boolean {
    return pte - (pte & X86_PAGE.KNL_ERRATUM_MASK) === 0;
  }

  /**
   * pmd_none() — arch/x86/include/asm/pgtable.h: "Only check low word on
   * 32-bit platforms, since it might be out of sync with upper half"
   * (unsigned long val = native_pmd_val(pmd)); on x86-64 the whole value.
   */
  override pmdNone(pmd: number): boolean {
    if (!this.config.pmdLowHigh) return super.pmdNone(pmd);
    const low = pmdLow(pmd);
    return low - (low & X86_PAGE.KNL_ERRATUM_MASK) === 0;
  }

  /**
   * ___pte_free_tlb() — arch/x86/mm/pgtable.c: pagetable_pte_dtor(),
   * paravirt_release_pte(), paravirt_tlb_remove_table(): tlb_remove_page() on
   * bare metal (native_tlb_remove_table()), tlb_remove_table() for
   * PV-flushing guests and with CONFIG_PT_RECLAIM (seeds/003).
   */
  override *pteFreeTlb(ctx: Ctx, tlb: MmuGather, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(() => `pagetable_pte_dtor(pfn ${pfn})`, pageObj(pfn));
    this.pagetablePteDtor(ctx, ctx.k.pages.meta(ctx, pfn, '___pte_free_tlb()'));
    if (this.tlbRemoveTableKind === 'table' && this.config.rcuTableFree) {
      yield* tlbRemoveTable(ctx, tlb, pa);
    } else {
      // tlb_remove_page(): freed with the data pages after the TLB flush.
      tlb.freedTables = true;
      tlb.pages.push(pa);
    }
  }

  /** __tlb_remove_table() — arch/x86/include/asm/tlb.h: free_page_and_swap_cache() (dtor done already). */
  override *tlbRemoveTableFree(ctx: Ctx, pa: number): KGen {
    const pfn = Math.floor(pa / this.config.PAGE_SIZE);
    yield ctx.step(
      () => `free_page_and_swap_cache(pfn ${pfn})`,
      ctx.k.pages.freeFootprint(ctx, pfn),
    );
    ctx.k.pt.released(ctx, pa);
    ctx.k.pages.freeNow(ctx, pfn);
  }

  /**
   * tlb_remove_table_one() — mm/mmu_gather.c: with PT_RECLAIM x86's
   * __tlb_remove_table_one() (call_rcu on the page's rcu_head, seeds/003),
   * else semi RCU; the x86-semi-rcu-reclaim variant keeps semi RCU under
   * PT_RECLAIM.
   */
  override *tlbRemoveTableOne(ctx: Ctx, pa: number): KGen {
    ctx.k.reach(X86_SEMI_RCU_RECLAIM);
    if (this.variant === X86_SEMI_RCU_RECLAIM)
      return yield* semiRcuTlbRemoveTableOne(ctx, pa, (c, p) => this.tlbRemoveTableFree(c, p));
    yield* super.tlbRemoveTableOne(ctx, pa);
  }
}

/** The reference ArchPort: start here when porting an arch. */
export const x86: ArchPort = {
  arch: 'x86',
  configs: X86_CONFIGS,
  variants: X86_VARIANTS,
  create(config: ArchConfig, variant?: string) {
    if (variant !== undefined && !X86_VARIANTS.some((v) => v.id === variant))
      throw new ModelError(
        'arch-x86',
        `unknown variant "${variant}" (known: ${X86_VARIANTS.map((v) => v.id).join(', ')})`,
      );
    return new X86Arch(config, variant);
  },
};
