/**
 * One name per object in a story. The model's labels name a page-table page
 * by its pfn (`ptl of pfn 2`, `pte_free(pfn 2)`), the table in it by its
 * generation (`pt#2`) and the pmd table by its generation too (`pt#1[1]`):
 * three names where a reader sees one page table. A page that holds one
 * table all its life is called by that table's name; a pmd table by its mm
 * (`A.pmd`, entry `A.pmd[1]`, its split lock `ptl of A.pmd`). Pages holding several tables (s390 2K halves,
 * powerpc fragments, sparc) keep their pfn, which then names the page alone.
 * Names follow the run (observe.ts World): a pfn allocated again later is
 * the new table's name from that step on.
 */
import type { PageLife, World } from './observe.js';

export class StableNames {
  private readonly byLabel = new Map<string, string>();
  private readonly lives = new Map<number, PageLife[]>();
  /** mms whose one pmd table is named `mm.pmd` (its split lock is then `ptl of mm.pmd`). */
  private readonly pmdTables = new Set<string>();

  constructor(world: World | undefined) {
    if (!world) return;
    const pmdOf = new Map<string, number>();
    for (const t of world.tables)
      if (t.kind === 'pmd' && t.mm) pmdOf.set(t.mm, (pmdOf.get(t.mm) ?? 0) + 1);
    for (const t of world.tables) {
      const one = t.kind === 'pmd' && t.mm !== null && pmdOf.get(t.mm) === 1;
      if (one && t.mm) this.pmdTables.add(t.mm);
      this.byLabel.set(t.label, one ? `${t.mm}.pmd` : t.label);
    }
    for (const l of world.pages) {
      const list = this.lives.get(l.pfn) ?? [];
      list.push(l);
      this.lives.set(l.pfn, list);
    }
  }

  /** The name of table `label` (`pt#2`, `A.pmd`). */
  table(label: string): string {
    return this.byLabel.get(label) ?? label;
  }

  /** The table page `pfn` is at `step`, when it holds just that one table all its life. */
  pageTable(pfn: number, step: number): string | undefined {
    const lives = this.lives.get(pfn);
    if (!lives) return undefined;
    const life =
      lives.find((l) => l.from <= step && (l.to === undefined || step < l.to)) ??
      (step < 0 ? lives[0] : undefined);
    const only = life?.tables.length === 1 ? life.tables[0] : undefined;
    return only === undefined ? undefined : this.table(only);
  }

  /** `text`, written at `step`, with every page table under its one name. */
  text(text: string, step: number): string {
    if (this.byLabel.size === 0) return text;
    return text
      .replace(/\bpt#\d+/g, (l) => this.table(l))
      .replace(/\bpfn (\d+)\b/g, (s, n: string) => this.pageTable(Number(n), step) ?? s)
      .replace(/\bpmd ptl of mm (\w+)/g, (s, mm: string) =>
        this.pmdTables.has(mm) ? `ptl of ${mm}.pmd` : s,
      );
  }
}
