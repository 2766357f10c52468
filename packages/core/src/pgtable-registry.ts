import { bug, type LazyEvent } from './checks.js';
import type { Ctx } from './context.js';
import { type ObjId, pageObj, tableObj, tableStatusObj } from './deps.js';
import { assertEffectWrites } from './footprint-audit.js';
import type { Mm } from './mm.js';

/** A pointer to a page table as a CPU holds it: the address and the table's generation when it was read. */
export interface TableRef {
  readonly pa: number;
  readonly gen: number;
  readonly label: string;
}

export type TableState = 'live' | 'deferred' | 'free';

/** What the model knows about one page table (a PTE table or the pmd table). */
export interface PageTable {
  readonly pa: number;
  readonly pfn: number;
  readonly kind: 'pte' | 'pmd';
  readonly entries: number;
  readonly gen: number;
  readonly label: string;
  readonly mm: Mm | null;
  state: TableState;
  /** The pmd slot (key) that points at this table, null when detached. */
  linkedFrom: string | null;
  deferredAt: LazyEvent | null;
  freedAt: LazyEvent | null;
}

/**
 * Every page table ever constructed, by physical address. Arch allocators
 * report construction, deferral (pte_free_defer) and release (back to the
 * page allocator, or to a fragment free list); readers' pointers are checked
 * against it, so a table reused or freed before its grace period is caught
 * even when its page is still allocated (s390 2K halves, powerpc fragments).
 */
export class PageTables {
  private readonly byPa = new Map<number, PageTable>();
  private gens = 0;
  private readonly pageSize: number;

  constructor(pageSize: number) {
    this.pageSize = pageSize;
  }

  /** The dependency object of the page a table (or table pointer) lives in. */
  pageOf(ref: { readonly pa: number }): ObjId {
    return pageObj(Math.floor(ref.pa / this.pageSize));
  }

  /** The dependency object of the registry state of the table at `ref.pa` (deps.ts tableObj). */
  tableOf(ref: { readonly pa: number }): ObjId {
    return tableObj(ref.pa, this.pageSize);
  }

  /** The status (deferred, linked) of the table at `ref.pa` (deps.ts tableStatusObj). */
  statusOf(ref: { readonly pa: number }): ObjId {
    return tableStatusObj(ref.pa, this.pageSize);
  }

  constructed(
    ctx: Ctx,
    pa: number,
    kind: 'pte' | 'pmd',
    entries: number,
    mm: Mm | null,
  ): PageTable {
    const prev = this.byPa.get(pa);
    if (prev && prev.state !== 'free') {
      bug(
        'use-after-free',
        `${ctx.cpu.name} ${ctx.fn}: hands out ${kind} table at pa 0x${pa.toString(16)}, but ${prev.label} there is still ${prev.state === 'deferred' ? `waiting for its grace period (deferred at step ${prev.deferredAt?.step ?? '?'})` : 'in use'}`,
        prev.deferredAt ? [prev.deferredAt] : [],
      );
    }
    const pfnOf = Math.floor(pa / ctx.k.config.PAGE_SIZE);
    assertEffectWrites(
      ctx,
      this.tableOf({ pa }),
      () => `a ${kind} table constructed at pa 0x${pa.toString(16)}`,
      pageObj(pfnOf),
    );
    const gen = ++this.gens;
    const t: PageTable = {
      pa,
      pfn: Math.floor(pa / ctx.k.config.PAGE_SIZE),
      kind,
      entries,
      gen,
      label: `pt#${gen}`,
      mm,
      state: 'live',
      linkedFrom: null,
      deferredAt: null,
      freedAt: null,
    };
    this.byPa.set(pa, t);
    return t;
  }

  get(pa: number): PageTable | undefined {
    return this.byPa.get(pa);
  }

  ref(pa: number): TableRef | null {
    const t = this.byPa.get(pa);
    return t ? { pa, gen: t.gen, label: t.label } : null;
  }

  refOf(t: PageTable): TableRef {
    return { pa: t.pa, gen: t.gen, label: t.label };
  }

  /** The table a pointer refers to; a pointer to a freed or reused table is a use after free. */
  deref(ctx: Ctx, ref: TableRef, what: string): PageTable {
    const t = this.byPa.get(ref.pa);
    if (!t || t.gen !== ref.gen) {
      const old = t
        ? ` (${ref.label} was freed at step ${this.freedStepOf(ref) ?? '?'}; the memory is now ${t.label})`
        : '';
      bug(
        'use-after-free',
        `${ctx.cpu.name} ${ctx.fn}: ${what} through a stale pointer to ${ref.label}${old}`,
        this.freedRelated(ref),
      );
    }
    if (t.state === 'free') {
      bug(
        'use-after-free',
        `${ctx.cpu.name} ${ctx.fn}: ${what} in ${t.label}, freed at step ${t.freedAt?.step ?? '?'} by ${t.freedAt?.cpu ?? '?'} ${t.freedAt?.fn ?? ''}`,
        t.freedAt ? [t.freedAt] : [],
      );
    }
    ctx.k.pages.meta(ctx, t.pfn, what);
    return t;
  }

  private readonly freedLog = new Map<number, LazyEvent>();
  private freedStepOf(ref: TableRef): number | undefined {
    return this.freedLog.get(ref.gen)?.step;
  }
  private freedRelated(ref: TableRef): LazyEvent[] {
    const e = this.freedLog.get(ref.gen);
    return e ? [e] : [];
  }

  /** pte_free_defer() reached: the table must stay a valid, empty table until a grace period ends. */
  deferred(ctx: Ctx, pa: number): void {
    const t = this.byPa.get(pa);
    if (!t) return;
    assertEffectWrites(
      ctx,
      this.statusOf(t),
      () => `pte_free_defer(${t.label})`,
      this.tableOf(t),
      pageObj(t.pfn),
    );
    t.state = 'deferred';
    t.deferredAt = ctx.here(() => `pte_free_defer(${t.label})`);
  }

  /** A pmd starts (`pmd`, its key) or stops (null) pointing at the table: its status changes. */
  linked(ctx: Ctx, t: PageTable, pmd: string | null): void {
    assertEffectWrites(
      ctx,
      this.statusOf(t),
      () => (pmd === null ? `unlink ${t.label}` : `link ${t.label}`),
      this.tableOf(t),
      pageObj(t.pfn),
    );
    t.linkedFrom = pmd;
  }

  /** The table's memory went back for reuse (page allocator or an arch fragment free list). */
  released(ctx: Ctx, pa: number): void {
    const t = this.byPa.get(pa);
    if (!t) return;
    assertEffectWrites(ctx, this.tableOf(t), () => `the release of ${t.label}`, pageObj(t.pfn));
    if (t.state === 'free') {
      bug(
        'double-free',
        `${ctx.cpu.name} ${ctx.fn}: frees ${t.label} again (freed at step ${t.freedAt?.step ?? '?'})`,
        t.freedAt ? [t.freedAt] : [],
      );
    }
    t.state = 'free';
    t.freedAt = ctx.here(() => `free ${t.label}`);
    this.freedLog.set(t.gen, t.freedAt);
  }

  /** All tables not yet freed (for the leak check). */
  live(): PageTable[] {
    return [...this.byPa.values()].filter((t) => t.state !== 'free');
  }

  /** Every table ever constructed here, by address (for state digests). */
  all(): PageTable[] {
    return [...this.byPa.values()].sort((a, b) => a.pa - b.pa);
  }
}
