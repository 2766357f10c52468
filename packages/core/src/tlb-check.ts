/**
 * The CPU side of TLB coherency: what a TLB entry was filled from, and the
 * `stale-tlb` check. A path may clear a PTE and flush later (khugepaged's
 * ptep_clear() leaves the flush to pmdp_collapse_flush(), zap batches it in an
 * mmu_gather), so a CPU using a stale entry while the clearing path is still
 * running is legal; once that path has finished, every CPU that cached the
 * entry must have been flushed (flush_tlb_range()/flush_tlb_mm() drop entries,
 * tlb.ts). Using one after that is the finding.
 *
 * Clears are recorded at the leaf slot (in the page-table page), not in the
 * TLBs, so clearing a PTE touches only its table and a TLB hit reads the table
 * it was filled from and the clearer's done-state (deps.ts).
 */
import { bug, eventWhat, type LazyEvent } from './checks.js';
import type { Ctx } from './context.js';
import type { Cpu, TlbEntry } from './cpu.js';
import { type FootprintEntry, rd } from './deps.js';
import { entryReadFootprint } from './entry-footprint.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import type { EntryPtr } from './pgtable.js';

/** What the hardware walk found: a leaf entry (PTE or huge pmd) and the page it maps. */
export interface Translation {
  /** pfn of the page containing the address. */
  readonly pfn: number;
  /** The leaf entry's value. */
  readonly entry: number;
  /** Where the leaf entry lives: a PTE slot, or the pmd slot of a huge pmd. */
  readonly src: EntryPtr;
  /** Mapped by a huge pmd (the TLB entry covers the whole PMD-sized range). */
  readonly huge: boolean;
}

interface EntryMeta {
  readonly src: EntryPtr;
  readonly huge: boolean;
  readonly size: number;
  readonly filledAt: LazyEvent;
}

/** A leaf entry cleared: by whom and when. */
export interface LeafClear {
  readonly cpu: Cpu;
  readonly at: LazyEvent;
}

/**
 * An entry tlbFill() made carries where it came from. A field of the entry,
 * not a module WeakMap: entries reach the whole kernel (through `mm`), and a
 * WeakMap entry per fill makes every young GC treat them as ephemerons.
 */
interface FilledEntry extends TlbEntry {
  readonly fill: EntryMeta;
}
const metaOf = (e: TlbEntry): EntryMeta | undefined => (e as Partial<FilledEntry>).fill;
/**
 * An entry slot of one table generation (a table's gen is unique within a
 * boot). A table has at most 2^16 entries (LIMITS: a PAGE_SIZE of at most
 * 256 KiB of 4-byte PTEs, PTRS_PER_PMD at most 2^16), so this is exact, and
 * a small integer while gen < 2^14 (a double key is boxed and hashed as one).
 */
function slotKey(src: EntryPtr): number {
  return src.table.gen * 2 ** 16 + src.index;
}

/** The kernel's leaf clears by slot, made at the first clear (a field: a WeakMap keyed by kernels costs every GC). */
function clearsOf(k: Kernel): Map<number, LeafClear[]> {
  let m = k.leafClears;
  if (!m) {
    m = new Map();
    k.leafClears = m;
  }
  return m;
}

function keyOf(mm: Mm, vaddr: number, huge: boolean): string {
  return `${mm.id}:${vaddr}${huge ? ':huge' : ''}`;
}

/** Fill this CPU's TLB with `tr` for the page (or huge page) containing `addr`. */
export function tlbFill(ctx: Ctx, mm: Mm, addr: number, tr: Translation): TlbEntry {
  const c = ctx.k.config;
  const size = tr.huge ? c.PTRS_PER_PTE * c.PAGE_SIZE : c.PAGE_SIZE;
  const vaddr = addr - (addr % size);
  const pfn = tr.pfn - Math.floor((addr - vaddr) / c.PAGE_SIZE);
  const e: FilledEntry = {
    mm,
    vaddr,
    pfn,
    pteVal: tr.entry,
    fill: {
      src: tr.src,
      huge: tr.huge,
      size,
      filledAt: ctx.here(() => `TLB fill 0x${vaddr.toString(16)}`),
    },
  };
  ctx.cpu.tlb.set(keyOf(mm, vaddr, tr.huge), e);
  return e;
}

/** The entry this CPU's TLB holds for `addr`, and the pfn it translates `addr` to. */
export function tlbLookup(ctx: Ctx, mm: Mm, addr: number): { entry: TlbEntry; pfn: number } | null {
  const c = ctx.k.config;
  const page = addr - (addr % c.PAGE_SIZE);
  const small = ctx.cpu.tlb.get(keyOf(mm, page, false));
  if (small) return { entry: small, pfn: small.pfn };
  const hsize = c.PTRS_PER_PTE * c.PAGE_SIZE;
  const h = ctx.cpu.tlb.get(keyOf(mm, addr - (addr % hsize), true));
  if (h) return { entry: h, pfn: h.pfn + Math.floor((addr - h.vaddr) / c.PAGE_SIZE) };
  return null;
}

/** The leaf entry a TLB entry was filled from (for reports and tests). */
export function tlbEntrySource(e: TlbEntry): EntryPtr | undefined {
  return metaOf(e)?.src;
}

/**
 * A leaf entry (PTE or huge pmd) at `src` was cleared: every TLB entry filled
 * from it before now is stale until a flush drops it. Called by the clearing
 * primitives (ptep_get_and_clear(), pte_clear(), pmdp_huge_get_and_clear()),
 * inside their step (which writes the table page).
 */
export function tlbNoteLeafCleared(ctx: Ctx, src: EntryPtr, what: string): void {
  const m = clearsOf(ctx.k);
  const key = slotKey(src);
  let list = m.get(key);
  if (!list) {
    list = [];
    m.set(key, list);
  }
  list.push({
    cpu: ctx.cpu,
    at: ctx.here(() => `${what} of ${src.table.label}[${src.index}]`),
  });
}

function clearsSinceFill(k: Kernel, m: EntryMeta): LeafClear[] {
  const list = k.leafClears?.get(slotKey(m.src)); // a read: no map made for it
  return list ? list.filter((c) => c.at.step >= m.filledAt.step) : [];
}

/** What using TLB entry `e` reads: this CPU's TLB, the table it came from, the clearers' done-state. */
export function tlbUseFootprint(ctx: Ctx, e: TlbEntry): FootprintEntry[] {
  const fp: FootprintEntry[] = [rd(ctx.cpu.tlbObj)];
  const m = metaOf(e);
  if (!m) return fp;
  // The leaf it came from: the clears of that slot (clearsSinceFill) are writes of that entry.
  fp.push(...entryReadFootprint(ctx, m.src));
  for (const c of clearsSinceFill(ctx.k, m)) fp.push(rd(c.cpu.taskObj));
  return fp;
}

/**
 * The CPU uses a TLB entry (a TLB hit). If the entry's leaf was cleared by a
 * path that has since finished and no flush dropped the entry, that is the
 * `stale-tlb` finding.
 */
export function tlbUse(ctx: Ctx, e: TlbEntry): void {
  const m = metaOf(e);
  if (!m) return;
  for (const { cpu, at } of clearsSinceFill(ctx.k, m)) {
    const clearer = ctx.k.tasks.find((t) => t.ctx.cpu === cpu);
    if (!clearer?.done) continue;
    bug(
      'stale-tlb',
      `${ctx.cpu.name} ${ctx.fn}: uses its TLB entry 0x${e.vaddr.toString(16)} -> pfn ${e.pfn} (filled at step ${m.filledAt.step} from ${m.src.table.label}[${m.src.index}]), but that ${m.huge ? 'huge pmd' : 'PTE'} was cleared at step ${at.step} by ${at.cpu} ${at.fn} (${eventWhat(at)}), and ${at.cpu} ${clearer.name} has finished without a TLB flush reaching ${ctx.cpu.name}`,
      [m.filledAt, at],
    );
  }
}
