/**
 * s390 entry encodings and the mm context, shared by every s390 config.
 * Source: arch/s390/include/asm/pgtable.h (v6.6), arch/s390/include/asm/mmu.h,
 * arch/s390/include/asm/mmu_context.h.
 */
import {
  type ArchConfig,
  type Ctx,
  flushTlbRange,
  GenericArch,
  type KGen,
  type Mm,
  ModelError,
  mmContextObj,
  type PmdPtr,
  type PmdVal,
  pmdpGetAndClear,
  pmdSize,
  SpinLock,
  type Vma,
} from '@ptlab/core';

/** PTE bits — arch/s390/include/asm/pgtable.h: hardware NOEXEC/PROTECT/INVALID, software PRESENT..UNUSED. */
export const S390_PAGE = {
  NOEXEC: 0x100,
  PROTECT: 0x200,
  INVALID: 0x400,
  LARGE: 0x800,
  PRESENT: 0x001,
  YOUNG: 0x004,
  DIRTY: 0x008,
  READ: 0x010,
  WRITE: 0x020,
  SPECIAL: 0x040,
  UNUSED: 0x080,
} as const;

/** Segment (pmd) table entry bits — arch/s390/include/asm/pgtable.h. */
export const S390_SEGMENT = {
  /** _SEGMENT_ENTRY_ORIGIN is ~0x7ff: a page table is 2K aligned. */
  ORIGIN_LOW_BITS: 0x800,
  PROTECT: 0x200,
  NOEXEC: 0x100,
  INVALID: 0x20,
  TYPE_MASK: 0x0c,
  /** _SEGMENT_ENTRY_EMPTY = _SEGMENT_ENTRY_INVALID: pmd_none() is "== 0x20", not zero. */
  EMPTY: 0x20,
  /** _SEGMENT_ENTRY (0): pmd_populate() writes _SEGMENT_ENTRY | __pa(pte). */
  ENTRY: 0,
  DIRTY: 0x2000,
  YOUNG: 0x1000,
  LARGE: 0x400,
  WRITE: 0x002,
  READ: 0x001,
  /** ~_SEGMENT_ENTRY_BITS (0xfffffffffffffe33) within the low 12 bits: set in a pmd_bad() entry. */
  BAD_BITS: 0x1cc,
} as const;

/** _PAGE_TABLE_SIZE = _PAGE_ENTRIES * 8: one 2K PTE table (256 entries). */
export const PAGE_TABLE_SIZE = 2048;

/** Bits below 2^20 of a value up to 2^53 (entries are held as JS numbers; `&` works on 32 bits only). */
function lowBits(v: number, mask: number): number {
  return (v % 0x100000) & mask;
}

/** The s390 part of mm->context (struct mm_context_t — arch/s390/include/asm/mmu.h). */
export interface S390Context {
  /** mm->context.lock, taken with spin_lock_bh(): protects pgtable_list and the AA bits. */
  readonly lock: SpinLock;
  /**
   * The dependency object of pgtable_list and the AA bits context.lock
   * protects (not the lock's own: the lock object is what acquisitions race on).
   */
  readonly listObj: number;
  /**
   * mm->context.pgtable_list, head first: the pfns of pages with a free half
   * (threaded through ptdesc->pt_list), or, with the free list threaded
   * through the tables themselves ("grossest patch"), the addresses of the free halves.
   */
  readonly pgtableList: number[];
  /** mm->context.alloc_pgste: allocate 4K tables with PGSTEs. */
  readonly allocPgste: boolean;
  /** mm->context.has_pgste: mm_has_pgste(). */
  readonly hasPgste: boolean;
}

/** The s390 context of an mm (set up by init_new_context()). */
export function s390Context(mm: Mm): S390Context {
  const c = mm.context.s390 as S390Context | undefined;
  if (!c)
    throw new ModelError(
      'arch-s390',
      `mm ${mm.id}: no s390 mm context (init_new_context() not run)`,
    );
  return c;
}

/**
 * What every s390 config shares: the PTE and segment-entry encodings, the mm
 * context, pmdp_collapse_flush() by IDTE. The table allocators differ by
 * kernel version: S390FragmentArch (v6.6, 2K fragments, and the pgste
 * mms) and S390FullPageArch (v6.7+), in s390-pgalloc.ts.
 */
export class S390Arch extends GenericArch {
  /** _PAGE_INVALID: an empty s390 PTE is 0x400, not zero. */
  override readonly pteEmpty: number = S390_PAGE.INVALID;
  /** _SEGMENT_ENTRY_EMPTY */
  override readonly pmdEmpty: number = S390_SEGMENT.EMPTY;
  /** Every mm gets PGSTEs (a KVM host mm: mm_alloc_pgste()/mm_has_pgste()). */
  readonly pgsteMms: boolean;
  /** WARN_ON_ONCE()/dump_page() messages of this boot: the kernel prints them and carries on. */
  readonly warnings: string[] = [];

  constructor(config: ArchConfig, variant?: string, opts: { pgsteMms?: boolean } = {}) {
    super(config, variant);
    this.pgsteMms = opts.pgsteMms ?? false;
  }

  // --- PTEs ---
  /** pte_none() — arch/s390/include/asm/pgtable.h: pte == _PAGE_INVALID. */
  override pteNone(pte: number): boolean {
    return pte === S390_PAGE.INVALID;
  }
  /** pte_present(): (pte & _PAGE_PRESENT) != 0. */
  override ptePresent(pte: number): boolean {
    return lowBits(pte, S390_PAGE.PRESENT) !== 0;
  }
  /** pte_pfn(): pte >> PAGE_SHIFT. */
  override ptePfn(pte: number): number {
    return Math.floor(pte / 4096);
  }
  /**
   * mk_pte() → mk_pte_phys() — arch/s390/include/asm/pgtable.h: the vma's
   * PAGE_RO/PAGE_RW (PRESENT|READ[|WRITE]|NOEXEC|INVALID|PROTECT) made young
   * by pte_mkyoung(), which clears _PAGE_INVALID on a readable pte. Clean, so
   * _PAGE_PROTECT stays (software dirty tracking).
   */
  override mkPte(pfn: number, prot: { write: boolean }): number {
    const P = S390_PAGE;
    return (
      pfn * 4096 + P.PRESENT + P.READ + P.YOUNG + P.NOEXEC + P.PROTECT + (prot.write ? P.WRITE : 0)
    );
  }

  // --- segment table entries (pmds) ---
  /** pmd_none(): pmd == _SEGMENT_ENTRY_EMPTY. */
  override pmdNone(pmd: number): boolean {
    return pmd === S390_SEGMENT.EMPTY;
  }
  /** pmd_present(): pmd != _SEGMENT_ENTRY_EMPTY. */
  override pmdPresent(pmd: number): boolean {
    return pmd !== S390_SEGMENT.EMPTY;
  }
  /** pmd_trans_huge() = pmd_large(): _SEGMENT_ENTRY_LARGE. */
  override pmdTransHuge(pmd: number): boolean {
    return lowBits(pmd, S390_SEGMENT.LARGE) !== 0;
  }
  /** pmd_bad(): a type or large bit, or any bit outside _SEGMENT_ENTRY_BITS. */
  override pmdBad(pmd: number): boolean {
    if (this.pmdTransHuge(pmd)) return true;
    return lowBits(pmd, S390_SEGMENT.BAD_BITS) !== 0;
  }
  /** pmd_populate() — arch/s390/include/asm/pgalloc.h: _SEGMENT_ENTRY | __pa(pte) (2K aligned origin). */
  override mkPmdTable(pa: number): number {
    return S390_SEGMENT.ENTRY + pa;
  }
  /** pmd_pgtable()/pmd_deref(): pmd & _SEGMENT_ENTRY_ORIGIN. */
  override pmdTablePa(pmd: number): number {
    return pmd - (pmd % S390_SEGMENT.ORIGIN_LOW_BITS);
  }
  /**
   * A huge segment entry (mk_pmd_phys() with SEGMENT_RW + pmd_mkhuge()):
   * origin | _SEGMENT_ENTRY_LARGE | READ | WRITE | NOEXEC. The software
   * young/dirty bits (0x1000/0x2000) are left clear: the model's core reads a
   * huge pmd's pfn with ptePfn(), and they would sit in its pfn field.
   */
  override mkPmdHuge(pfn: number): number {
    const S = S390_SEGMENT;
    return pfn * 4096 + S.LARGE + S.READ + S.WRITE + S.NOEXEC;
  }

  // --- mm context ---
  /** init_new_context() — arch/s390/include/asm/mmu_context.h: context.lock, pgtable_list, pgste flags. */
  override initContext(_ctx: Ctx, mm: Mm): void {
    const c: S390Context = {
      lock: new SpinLock(
        `context.lock of mm ${mm.id}`,
        'arch_context_lock',
        mmContextObj(mm.index, 1),
      ),
      listObj: mmContextObj(mm.index, 2),
      pgtableList: [],
      allocPgste: this.pgsteMms,
      hasPgste: this.pgsteMms,
    };
    mm.context.s390 = c;
  }

  /** WARN_ON_ONCE()/dump_page(): printed, recorded, and the kernel carries on. */
  protected warn(ctx: Ctx, message: string): void {
    const line = `${ctx.cpu.name} ${ctx.fn}: ${message}`;
    if (!this.warnings.includes(line)) this.warnings.push(line);
    ctx.k.note(() => `WARNING: ${message}`);
  }

  /**
   * pmdp_collapse_flush() — arch/s390/include/asm/pgtable.h:
   * pmdp_huge_get_and_clear() → pmdp_xchg_direct(): IDTE invalidates the
   * segment entry and flushes the TLBs of every CPU by broadcast (no IPI).
   */
  *pmdpCollapseFlush(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen<PmdVal> {
    const old = yield* pmdpGetAndClear(ctx, vma.mm, pmdp);
    yield* flushTlbRange(ctx, vma.mm, addr, addr + pmdSize(ctx));
    return old;
  }
}
