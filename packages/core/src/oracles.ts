/**
 * End-state oracles: checks of what a path left behind, beside the checks of
 * what it did on the way. Each reads only what the step it runs in declared
 * (a zap runs it in the continuation of its last step on the table, which
 * declared the table's page) or runs at a quiescent point (every scenario task
 * has finished: teardown), and costs nothing when there is nothing to check.
 *
 *  - zapped-range-mapped: a zap of a range, finished under the table's ptl,
 *    left a present entry in it (zap_pte_range()'s loop skipped one).
 *  - rss-mismatch: at a quiescent point an mm's rss counters differ from
 *    what its page tables map (a path mapped or unmapped without
 *    add_mm_counter()), found before check_mm() would see a sum.
 *
 * Freed-exactly-once and freed-after-every-reader are use-after-free,
 * double-free and page-leak; pgtables_bytes at teardown is pgtables-bytes
 * (check_mm()).
 */
import { bug } from './checks.js';
import type { Ctx } from './context.js';
import { pageObj, rd } from './deps.js';
import { writtenRange } from './memory.js';
import { MM_ANONPAGES, type Mm, mmCounterFile, RSS_NAMES } from './mm.js';
import type { PageTable, TableRef } from './pgtable-registry.js';

/**
 * zap_pte_range() is done with entries [from, to) of `table` (ptl held):
 * none of them may still be present. Call it right after the zap's last step
 * on the table (its scan or its last clear), before any other yield.
 */
export function checkZappedEmpty(ctx: Ctx, table: TableRef, from: number, to: number): void {
  const a = ctx.k.arch;
  const t = ctx.k.pt.deref(ctx, table, 'zap');
  // The table's words in place (it lies within one page); a run of equal absent entries is
  // judged once (pte_none()/pte_present() are functions of the value).
  const w = ctx.k.mem.words(t.pa);
  let absent = Number.NaN;
  // Entries never written hold the fill: absent ones need no look.
  const span = a.pteNone(w.fill) || !a.ptePresent(w.fill) ? writtenRange(w, to) : { from, to };
  for (let i = Math.max(from, span.from); i < Math.min(to, span.to); i++) {
    const v = w.values ? (w.values[w.start + i] ?? 0) : w.fill;
    if (v === absent) continue;
    if (a.pteNone(v) || !a.ptePresent(v)) absent = v;
    else
      bug(
        'zapped-range-mapped',
        `${ctx.cpu.name} ${ctx.fn}: the zap of ${t.label}[${from}..${to - 1}] is done (ptl held), but ${t.label}[${i}] still maps pfn ${a.ptePfn(v)}: the range must map nothing after the zap`,
      );
  }
}

/**
 * __unmap_hugepage_range() is done with the PMD-sized hugetlb page whose entry
 * is `table`[index], a pmd (huge ptl held): it may no longer map anything.
 * Call it right after the unmap's last step on the entry, before any yield.
 */
export function checkZappedHugePmd(ctx: Ctx, table: TableRef, index: number): void {
  const a = ctx.k.arch;
  const t = ctx.k.pt.deref(ctx, table, 'zap');
  const w = ctx.k.mem.words(t.pa);
  const v = w.values ? (w.values[w.start + index] ?? 0) : w.fill;
  if (!a.pmdNone(v) && a.pmdPresent(v))
    bug(
      'zapped-range-mapped',
      `${ctx.cpu.name} ${ctx.fn}: the unmap of the huge page at ${t.label}[${index}] is done (huge ptl held), but the pmd still maps pfn ${a.ptePfn(v)}: the range must map nothing after the zap`,
    );
}

/** What an rss check at a quiescent point reads: every mm's counters, pmd table and linked PTE tables. */
export function rssCheckFootprint(ctx: Ctx): ReturnType<typeof rd>[] {
  const out = [];
  const P = ctx.k.config.PAGE_SIZE;
  for (const mm of ctx.k.mms) {
    if (mm.freed || !mm.pmdTable) continue;
    out.push(rd(mm.countersObj), rd(pageObj(Math.floor(mm.pmdTable.pa / P))));
    const label = ctx.k.pt.deref(ctx, mm.pmdTable, 'rss check').label;
    for (const t of ctx.k.pt.live())
      if (t.kind === 'pte' && t.linkedFrom?.startsWith(`${label}[`))
        out.push(rd(pageObj(Math.floor(t.pa / P))));
  }
  return out;
}

/**
 * At a quiescent point (in a step that declared rssCheckFootprint()): each
 * live mm's rss counters equal what its pmd and PTE entries map, counted as
 * the paths count them (a file folio's counter per page, a huge pmd per
 * folio page, a page without a mapping as MM_ANONPAGES). Hugetlb vmas are
 * left out: hugetlb pages are not rss.
 */
export function checkRssMatchesMappings(ctx: Ctx): void {
  const a = ctx.k.arch;
  const c = ctx.k.config;
  const PMD_SIZE = c.PTRS_PER_PTE * c.PAGE_SIZE;
  for (const mm of ctx.k.mms) {
    if (mm.freed || !mm.pmdTable) continue;
    const mapped = countMapped(ctx, mm, PMD_SIZE, a);
    for (let i = 0; i < RSS_NAMES.length; i++) {
      const rss = mm.rss[i] ?? 0;
      const want = mapped[i] ?? 0;
      if (rss !== want)
        bug(
          'rss-mismatch',
          `${ctx.cpu.name} ${ctx.fn}: with every task done, mm ${mm.id} counts ${rss} ${RSS_NAMES[i]} but its page tables map ${want}`,
        );
    }
  }
}

function countMapped(ctx: Ctx, mm: Mm, PMD_SIZE: number, a: Ctx['k']['arch']): number[] {
  const out = RSS_NAMES.map(() => 0);
  const pmdTable = mm.pmdTable;
  if (!pmdTable) return out;
  const t = ctx.k.pt.deref(ctx, pmdTable, 'rss check');
  const mem = ctx.k.mem;
  // Read the words in place (a table lies within one page): most slots are none, and are
  // skipped before anything else is looked up for them.
  const w = mem.words(t.pa);
  /** Live PTE tables by the pmd slot linking them (the first in address-book order, as find() gave). */
  let linked: Map<string, PageTable> | null = null;
  // pmd_none() is a function of the value: a run of equal empty slots asks it once (and
  // pte_none()/pte_present() below, for a run of equal absent entries).
  let none = Number.NaN;
  const values = w.values;
  const start = w.start;
  // Slots never written hold the fill value: none, unless a fill was something else.
  const span = a.pmdNone(w.fill) ? writtenRange(w, t.entries) : { from: 0, to: t.entries };
  for (let slot = span.from; slot < span.to; slot++) {
    const raw = values ? (values[start + slot] as number) : w.fill;
    if (raw === none) continue;
    if (a.pmdNone(raw)) {
      none = raw;
      continue;
    }
    const vma = mm.vmas.find(
      (v) => !v.detached && v.start <= slot * PMD_SIZE && slot * PMD_SIZE < v.end,
    );
    if (vma?.flags.hugetlb) continue;
    if (a.pmdTransHuge(raw)) {
      const f = ctx.k.folioOf(a.ptePfn(raw));
      if (f) out[mmCounterFile(f)] = (out[mmCounterFile(f)] ?? 0) + f.nrPages;
      continue;
    }
    if (!linked) {
      linked = new Map();
      for (const x of ctx.k.pt.live())
        if (x.kind === 'pte' && x.linkedFrom !== null && !linked.has(x.linkedFrom))
          linked.set(x.linkedFrom, x);
    }
    const pte = linked.get(`${t.label}[${slot}]`);
    if (!pte) continue;
    const pw = mem.words(pte.pa);
    // Entries never written hold the fill value, which maps nothing when it is absent.
    const absentFill = a.pteNone(pw.fill) || !a.ptePresent(pw.fill);
    const range = absentFill ? writtenRange(pw, pte.entries) : { from: 0, to: pte.entries };
    let absent = Number.NaN;
    for (let i = range.from; i < range.to; i++) {
      const v = pw.values ? (pw.values[pw.start + i] as number) : pw.fill;
      if (v === absent) continue;
      if (a.pteNone(v) || !a.ptePresent(v)) {
        absent = v;
        continue;
      }
      const f = ctx.k.folioOf(a.ptePfn(v));
      if (!f) continue;
      const k = f.mapping ? mmCounterFile(f) : MM_ANONPAGES;
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}
