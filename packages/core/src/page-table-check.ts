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
import { bug, type RelatedEvent } from './checks.js';
import type { Ctx } from './context.js';
import type { Kernel } from './kernel.js';
import { TAG_NAMES, Tag } from './memory.js';
import type { Mm } from './mm.js';
import type { TableRef } from './pgtable-registry.js';
import { type KGen, pageObj } from './step.js';

/** struct page_table_check, one per page (in its page_ext). */
interface Counters {
  anon: number;
  file: number;
  /** The last entry that counted this page, to name the culprit at free time. */
  lastSet: RelatedEvent | null;
  /** A raw pte_clear() that removed a mapping of this page without un-counting it. */
  rawClear: RelatedEvent | null;
}

const state = new WeakMap<Kernel, Map<number, Counters>>();

function counters(k: Kernel, pfn: number): Counters {
  let m = state.get(k);
  if (!m) {
    m = new Map();
    state.set(k, m);
  }
  let c = m.get(pfn);
  if (!c) {
    c = { anon: 0, file: 0, lastSet: null, rawClear: null };
    m.set(pfn, c);
  }
  return c;
}

/** page_table_check is compiled in and enabled for this config. */
export function pageTableCheckEnabled(ctx: Ctx): boolean {
  return ctx.k.config.pageTableCheck === true;
}

/** The anon/file counters of one page (for tests and reports). */
export function pageTableCheckCounters(k: Kernel, pfn: number): { anon: number; file: number } {
  const c = state.get(k)?.get(pfn);
  return { anon: c?.anon ?? 0, file: c?.file ?? 0 };
}

/** PageAnon() of the folio a pfn belongs to; null for a page no folio owns. */
function anonOf(k: Kernel, pfn: number): boolean | null {
  const f = k.folioOf(pfn);
  if (!f) return null;
  return f.mapping === null;
}

/** page_table_check_set() — mm/page_table_check.c */
function checkSet(ctx: Ctx, pfn: number, nr: number, what: string): void {
  const anon = anonOf(ctx.k, pfn);
  if (anon === null) return;
  for (let i = 0; i < nr; i++) {
    const c = counters(ctx.k, pfn + i);
    if (anon ? c.file !== 0 : c.anon !== 0)
      bug(
        'page-table-check',
        `${ctx.cpu.name} ${ctx.fn}: ${what} maps pfn ${pfn + i} as ${anon ? 'anon' : 'file'} while its ${anon ? 'file' : 'anon'}_map_count is ${anon ? c.file : c.anon}`,
        c.lastSet ? [c.lastSet] : [],
      );
    if (anon) c.anon++;
    else c.file++;
    c.lastSet = ctx.here(`${what}: pfn ${pfn + i} counted`);
  }
}

/** page_table_check_clear() — mm/page_table_check.c */
function checkClear(ctx: Ctx, pfn: number, nr: number, what: string): void {
  const anon = anonOf(ctx.k, pfn);
  if (anon === null) return;
  for (let i = 0; i < nr; i++) {
    const c = counters(ctx.k, pfn + i);
    const n = anon ? --c.anon : --c.file;
    if (n < 0)
      bug(
        'page-table-check',
        `${ctx.cpu.name} ${ctx.fn}: ${what} un-counts pfn ${pfn + i}, whose ${anon ? 'anon' : 'file'}_map_count goes negative (${n}): the entry was un-counted twice`,
        c.lastSet ? [c.lastSet] : [],
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
  if (pfn === null || anonOf(ctx.k, pfn) === null) return;
  counters(ctx.k, pfn).rawClear = ctx.here(`pte_clear() of the PTE mapping pfn ${pfn}`);
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
  const pfn = Math.floor(table.pa / ctx.k.config.PAGE_SIZE);
  yield ctx.step(`page_table_check_pte_clear_range(${table.label})`, pageObj(pfn), 'r');
  const t = ctx.k.pt.deref(ctx, table, 'page_table_check_pte_clear_range()');
  for (let i = 0; i < t.entries; i++) {
    const { value, tag } = ctx.k.mem.read(table.pa + i * ctx.k.mem.wordSize);
    if (tag !== Tag.zero && tag !== Tag.pte)
      bug(
        'pte-not-a-pte',
        `${ctx.cpu.name} ${ctx.fn}: page_table_check_pte_clear_range() read a ${TAG_NAMES[tag]} from ${table.label}[${i}]`,
      );
    pageTableCheckPteClear(ctx, mm, value);
  }
}

/**
 * __page_table_check_zero() — mm/page_table_check.c, from free_pages_prepare():
 * a page going back to the allocator must not be counted as mapped.
 */
export function pageTableCheckZero(ctx: Ctx, pfn: number, nr: number, what: string): void {
  if (!pageTableCheckEnabled(ctx)) return;
  const m = state.get(ctx.k);
  if (!m) return;
  for (let i = 0; i < nr; i++) {
    const c = m.get(pfn + i);
    if (!c || (c.anon === 0 && c.file === 0)) continue;
    const why = c.rawClear
      ? `: its mapping was removed at step ${c.rawClear.step} by ${c.rawClear.cpu} ${c.rawClear.fn} with pte_clear(), which does not un-count it (ptep_clear() does)`
      : c.lastSet
        ? `: counted at step ${c.lastSet.step} by ${c.lastSet.cpu} ${c.lastSet.fn} and never un-counted`
        : '';
    bug(
      'page-table-check',
      `${ctx.cpu.name} ${ctx.fn}: BUG at ${what}: pfn ${pfn + i} freed with anon_map_count=${c.anon} file_map_count=${c.file}${why}`,
      [c.rawClear, c.lastSet].filter((e): e is RelatedEvent => e !== null),
    );
  }
}
