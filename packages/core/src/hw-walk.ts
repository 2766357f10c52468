/**
 * The CPU's hardware page walker (x86 page-miss handler, arm64 table walk
 * unit): on a TLB miss it reads the pmd and then the PTE with no lock, no RCU,
 * in one go. It is modelled as one atomic step: a walk cannot take an
 * interrupt (the TLB-flush IPI) half way, and a TLB invalidation completes
 * in-flight walks, so the table it reads is still the one the pmd points to.
 */
import type { Ctx } from './context.js';
import type { FootprintEntry } from './deps.js';
import type { Mm } from './mm.js';
import {
  entryReadFootprint,
  pmdOffset,
  pmdSize,
  pmdValOf,
  pteIndex,
  readEntryWord,
} from './pgtable.js';
import type { KGen } from './step.js';
import type { Translation } from './tlb-check.js';

/** Walk `mm`'s page tables for `addr` as the MMU does; null if nothing present maps it. */
export function* hwWalk(
  ctx: Ctx,
  mm: Mm,
  addr: number,
  /** More objects the caller's code after the walk (in the same step) reads. */
  also?: () => readonly FootprintEntry[],
): KGen<Translation | null> {
  const a = ctx.k.arch;
  const c = ctx.k.config;
  const pmdp = pmdOffset(ctx, mm, addr);
  // The pages read: the pmd table, and the PTE table the pmd points to when the walk runs;
  // the TLB it fills (the caller's tlbFill() is part of this step).
  yield ctx.stepDynamic(
    () => `MMU walk 0x${addr.toString(16)}`,
    () => {
      const peek = pmdValOf(ctx, ctx.k.mem.value(pmdp.table.pa + pmdp.index * ctx.k.mem.wordSize));
      const fp: FootprintEntry[] = [...entryReadFootprint(ctx, pmdp), ctx.cpu.tlbObj];
      if (peek.table)
        fp.push(...entryReadFootprint(ctx, { table: peek.table, index: pteIndex(ctx, addr) }));
      if (also) fp.push(...also());
      return fp;
    },
  );
  const pmd = pmdValOf(ctx, readEntryWord(ctx, pmdp, 'MMU walk: pmd', 'pmd'));
  if (a.pmdNone(pmd.raw) || !a.pmdPresent(pmd.raw)) return null;
  if (a.pmdTransHuge(pmd.raw)) {
    const off = Math.floor((addr % pmdSize(ctx)) / c.PAGE_SIZE);
    return { pfn: a.ptePfn(pmd.raw) + off, entry: pmd.raw, src: pmdp, huge: true };
  }
  if (!pmd.table) return null;
  const ptep = { table: pmd.table, index: pteIndex(ctx, addr) };
  const pte = readEntryWord(ctx, ptep, 'MMU walk: pte', 'pte');
  if (a.pteNone(pte) || !a.ptePresent(pte)) return null;
  return { pfn: a.ptePfn(pte), entry: pte, src: ptep, huge: false };
}
