/**
 * CONFIG_PAGE_TABLE_CHECK — mm/page_table_check.c, include/linux/page_table_check.h
 * (Pasha Tatashin, v5.17): every page has an anon_map_count and a
 * file_map_count in its page_ext. Setting a user leaf entry counts the page(s)
 * it maps, clearing one un-counts them, and freeing a page with either counter
 * non-zero is a BUG. ptep_clear() (= ptep_get_and_clear()) accounts; a raw
 * pte_clear() does not, which is why khugepaged must use ptep_clear()
 * ("[PATCH v3 10/13 fix2]" in seeds/004).
 *
 * Only configs with `pageTableCheck` (x86_64, arm64, riscv) run it. Kernel
 * tables (no mm) are not checked, as init_mm is not. Pages that belong to no
 * folio (the zero page, device memory) are skipped. Not modelled: the "anon
 * page mapped writable twice" BUG (EntryEncoding has no pte_write()).
 */
import { bug, type LazyEvent } from './checks.js';
import type { Ctx } from './context.js';
import { tableScanFootprint } from './entry-footprint.js';
import { assertEffectWrites } from './footprint-audit.js';
import type { Kernel } from './kernel.js';
import { TAG_NAMES, Tag, writtenRange } from './memory.js';
import type { Folio, Mm } from './mm.js';
import type { TableRef } from './pgtable-registry.js';
import type { KGen } from './step.js';

/**
 * One kind of map count (anon or file) for every page of a folio: a count
 * shared by all its pages (a huge pmd counts HPAGE_PMD_NR pages in one go)
 * plus per-page deltas, made only when a range smaller than the folio is
 * counted (a PTE). `sum` is the total over the pages: counts never go below
 * zero (that is a BUG), so a zero sum means every page is zero.
 */
class MapCounts {
  private all = 0;
  private delta: number[] | null = null;
  sum = 0;
  constructor(private readonly nrPages: number) {}

  at(i: number): number {
    return this.all + (this.delta ? (this.delta[i] as number) : 0);
  }

  /** Add `by` to pages [from, to); returns the first page left negative, or -1. */
  add(from: number, to: number, by: number): number {
    this.sum += by * (to - from);
    if (from === 0 && to === this.nrPages) this.all += by;
    else {
      if (!this.delta) this.delta = new Array<number>(this.nrPages).fill(0);
      const d = this.delta;
      for (let i = from; i < to; i++) d[i] = (d[i] as number) + by;
    }
    if (by > 0 || from >= to) return -1;
    if (!this.delta) return this.all < 0 ? from : -1;
    for (let i = from; i < to; i++) if (this.at(i) < 0) return i;
    return -1;
  }

  /** The first page of [from, to) with a non-zero count, or -1. */
  firstNonZero(from: number, to: number): number {
    if (this.sum === 0 || from >= to) return -1;
    if (!this.delta) return this.all !== 0 ? from : -1;
    for (let i = from; i < to; i++) if (this.at(i) !== 0) return i;
    return -1;
  }
}

/**
 * struct page_table_check for every page of one folio (in page_ext), with the
 * events a BUG report names: the last entry that counted a page, and a raw
 * pte_clear() that removed a mapping without un-counting it. The counting
 * events are kept per call (a range), not per page: a BUG report looks its
 * page's up.
 */
interface FolioCounters {
  readonly anon: MapCounts;
  readonly file: MapCounts;
  /** Every range of pages counted, oldest first (few per run). */
  readonly sets: { readonly from: number; readonly to: number; readonly at: LazyEvent }[];
  readonly rawClear: (LazyEvent | undefined)[];
}

/** The last event that counted page `i` (an index into the folio). */
function lastSetOf(c: FolioCounters, i: number): LazyEvent | undefined {
  for (let k = c.sets.length - 1; k >= 0; k--) {
    const s = c.sets[k] as FolioCounters['sets'][number];
    if (s.from <= i && i < s.to) return s.at;
  }
  return undefined;
}

/** The counters of a folio's pages, if any were counted (kept in Folio.pageTableCheck). */
const state = {
  get(f: Folio): FolioCounters | undefined {
    return (f.pageTableCheck as FolioCounters | null) ?? undefined;
  },
};

/** The counters of `f`, to change them: the running step must declare `f.ptcObj` written (the audit). */
function countersOf(f: Folio, ctx: Ctx): FolioCounters {
  assertEffectWrites(ctx, f.ptcObj, () => `page_table_check counters of ${f.id}`);
  let c = state.get(f);
  if (!c) {
    c = {
      anon: new MapCounts(f.nrPages),
      file: new MapCounts(f.nrPages),
      sets: [],
      rawClear: [],
    };
    f.pageTableCheck = c;
  }
  return c;
}

/** page_table_check is compiled in and enabled for this config. */
export function pageTableCheckEnabled(ctx: Ctx): boolean {
  return ctx.k.config.pageTableCheck === true;
}

/** The anon/file counters of one page (for tests and reports). */
export function pageTableCheckCounters(k: Kernel, pfn: number): { anon: number; file: number } {
  const f = k.folioOf(pfn);
  const c = f ? state.get(f) : undefined;
  if (!f || !c) return { anon: 0, file: 0 };
  return { anon: c.anon.at(pfn - f.pfn), file: c.file.at(pfn - f.pfn) };
}

/** page_table_check_set() — mm/page_table_check.c: count `nr` pages from `pfn`. */
function checkSet(ctx: Ctx, pfn: number, nr: number, what: string): void {
  const f = ctx.k.folioOf(pfn);
  if (!f) return;
  const anon = f.mapping === null;
  const c = countersOf(f, ctx);
  const from = pfn - f.pfn;
  const to = Math.min(from + nr, f.nrPages);
  const other = anon ? c.file : c.anon;
  const i = other.firstNonZero(from, to);
  if (i >= 0) {
    const last = lastSetOf(c, i);
    bug(
      'page-table-check',
      `${ctx.cpu.name} ${ctx.fn}: ${what} maps pfn ${f.pfn + i} as ${anon ? 'anon' : 'file'} while its ${anon ? 'file' : 'anon'}_map_count is ${other.at(i)}`,
      last ? [last] : [],
    );
  }
  (anon ? c.anon : c.file).add(from, to, 1);
  c.sets.push({
    from,
    to,
    at: ctx.here(() => `${what}: pfn ${pfn}${nr > 1 ? `..${pfn + nr - 1}` : ''} counted`),
  });
}

/** page_table_check_clear() — mm/page_table_check.c */
function checkClear(ctx: Ctx, pfn: number, nr: number, what: string): void {
  const f = ctx.k.folioOf(pfn);
  if (!f) return;
  const anon = f.mapping === null;
  const c = countersOf(f, ctx);
  const counts = anon ? c.anon : c.file;
  const from = pfn - f.pfn;
  const i = counts.add(from, Math.min(from + nr, f.nrPages), -1);
  if (i >= 0) {
    const last = lastSetOf(c, i);
    bug(
      'page-table-check',
      `${ctx.cpu.name} ${ctx.fn}: ${what} un-counts pfn ${f.pfn + i}, whose ${anon ? 'anon' : 'file'}_map_count goes negative (${counts.at(i)}): the entry was un-counted twice`,
      last ? [last] : [],
    );
  }
}

function leafPfn(ctx: Ctx, pte: number): number | null {
  const a = ctx.k.arch;
  if (a.pteNone(pte) || !a.ptePresent(pte)) return null;
  return a.ptePfn(pte);
}

/**
 * __page_table_check_ptes_set() (nr = 1): un-count the entry being replaced,
 * then count the new one. Called by set_pte_at().
 */
export function pageTableCheckPteSet(ctx: Ctx, mm: Mm | null, old: number, pte: number): void {
  if (!mm || !pageTableCheckEnabled(ctx)) return;
  pageTableCheckPteClear(ctx, mm, old);
  const pfn = leafPfn(ctx, pte);
  if (pfn !== null) checkSet(ctx, pfn, 1, 'set_pte_at()');
}

/** __page_table_check_pte_clear(): called by ptep_get_and_clear() (so ptep_clear()), not by pte_clear(). */
export function pageTableCheckPteClear(ctx: Ctx, mm: Mm | null, old: number): void {
  if (!mm || !pageTableCheckEnabled(ctx)) return;
  const pfn = leafPfn(ctx, old);
  if (pfn !== null) checkClear(ctx, pfn, 1, 'ptep_get_and_clear()');
}

/**
 * A raw pte_clear() removed a mapping: nothing is un-counted (that is the
 * point), but remember it so the BUG at free time can name it.
 */
export function pageTableCheckNoteRawClear(ctx: Ctx, mm: Mm | null, old: number): void {
  if (!mm || !pageTableCheckEnabled(ctx)) return;
  const pfn = leafPfn(ctx, old);
  const f = pfn === null ? undefined : ctx.k.folioOf(pfn);
  if (pfn === null || !f) return;
  countersOf(f, ctx).rawClear[pfn - f.pfn] = ctx.here(
    () => `pte_clear() of the PTE mapping pfn ${pfn}`,
  );
}

/** __page_table_check_pmd_set(): a huge pmd counts HPAGE_PMD_NR pages. */
export function pageTableCheckPmdSet(ctx: Ctx, mm: Mm | null, old: number, pmd: number): void {
  if (!mm || !pageTableCheckEnabled(ctx)) return;
  pageTableCheckPmdClear(ctx, mm, old);
  const a = ctx.k.arch;
  if (a.pmdTransHuge(pmd)) checkSet(ctx, a.ptePfn(pmd), ctx.k.config.PTRS_PER_PTE, 'set_pmd_at()');
}

/** __page_table_check_pmd_clear(): only a huge (leaf) pmd counted anything. */
export function pageTableCheckPmdClear(ctx: Ctx, mm: Mm | null, old: number): void {
  if (!mm || !pageTableCheckEnabled(ctx)) return;
  const a = ctx.k.arch;
  if (a.pmdTransHuge(old))
    checkClear(ctx, a.ptePfn(old), ctx.k.config.PTRS_PER_PTE, 'pmdp_huge_get_and_clear()');
}

/**
 * page_table_check_pte_clear_range(mm, addr, pmd) — mm/page_table_check.c:
 * khugepaged un-counts whatever a page table it has just detached (pgt_pmd)
 * still maps, before pte_free_defer(). The kernel maps the table with
 * pte_offset_map(&pmd); here the detached table is read in one step.
 */
export function* pageTableCheckPteClearRange(ctx: Ctx, mm: Mm, table: TableRef | null): KGen {
  if (!table || !pageTableCheckEnabled(ctx)) return;
  const k = ctx.k;
  yield ctx.stepDynamic(
    () => `page_table_check_pte_clear_range(${table.label})`,
    () => [...tableScanFootprint(ctx, table), ...k.foliosMappedBy(table)],
  );
  const t = ctx.k.pt.deref(ctx, table, 'page_table_check_pte_clear_range()');
  const w = ctx.k.mem.words(table.pa);
  // Words never written hold the fill: with a zero tag, nothing to un-count or report.
  const { from, to } =
    w.fillTag === Tag.zero ? writtenRange(w, t.entries) : { from: 0, to: t.entries };
  for (let i = from; i < to; i++) {
    const value = w.values ? (w.values[w.start + i] ?? 0) : w.fill;
    const tag = w.tags ? ((w.tags[w.start + i] ?? 0) as typeof w.fillTag) : w.fillTag;
    if (tag !== Tag.zero && tag !== Tag.pte)
      bug(
        'pte-not-a-pte',
        `${ctx.cpu.name} ${ctx.fn}: page_table_check_pte_clear_range() read a ${TAG_NAMES[tag]} from ${table.label}[${i}]`,
      );
    if (tag === Tag.pte) pageTableCheckPteClear(ctx, mm, value);
  }
}

/**
 * __page_table_check_zero() — mm/page_table_check.c, from free_pages_prepare():
 * a page going back to the allocator must not be counted as mapped.
 */
export function pageTableCheckZero(ctx: Ctx, pfn: number, nr: number, what: string): void {
  if (!pageTableCheckEnabled(ctx)) return;
  const f = ctx.k.folioOf(pfn);
  const c = f ? state.get(f) : undefined;
  if (!f || !c || (c.anon.sum === 0 && c.file.sum === 0)) return;
  for (let i = pfn - f.pfn; i < pfn - f.pfn + nr && i < f.nrPages; i++) {
    const anon = c.anon.at(i);
    const file = c.file.at(i);
    if (anon === 0 && file === 0) continue;
    const raw = c.rawClear[i];
    const last = lastSetOf(c, i);
    const why = raw
      ? `: its mapping was removed at step ${raw.step} by ${raw.cpu} ${raw.fn} with pte_clear(), which does not un-count it (ptep_clear() does)`
      : last
        ? `: counted at step ${last.step} by ${last.cpu} ${last.fn} and never un-counted`
        : '';
    bug(
      'page-table-check',
      `${ctx.cpu.name} ${ctx.fn}: BUG at ${what}: pfn ${f.pfn + i} freed with anon_map_count=${anon} file_map_count=${file}${why}`,
      [raw, last].filter((e): e is LazyEvent => e !== undefined),
    );
  }
}
