/**
 * A user load, as the CPU performs it: a TLB hit; or, on a miss, the
 * hardware page walk (core hw-walk.ts) that fills the TLB; or, when nothing
 * present maps the address, a page fault (do_user_addr_fault() →
 * handle_mm_fault(), fault.ts) and the instruction again.
 *
 * Two checks belong to the access: `stale-tlb` (core tlb-check.ts: a TLB hit
 * on an entry whose PTE a finished path cleared without flushing) and
 * `wrong-page` (here: the page reached must be the one the mapping holds at
 * that address — what "the memory reads back intact" means in the khugepaged
 * selftest).
 */
import {
  bug,
  type Ctx,
  type FootprintEntry,
  hwWalk,
  type KGen,
  type Mm,
  rd,
  runToEnd,
  tlbFill,
  tlbLookup,
  tlbUse,
  tlbUseFootprint,
  type Vma,
} from '@ptlab/core';
import { handleUserFault } from './fault.js';

/** Faults taken for one access before giving up (a livelock shows as a failed access). */
const MAX_FAULTS = 4;

/** munmap() detached `vma` (vms_gather_munmap_vmas()); its tables still map it (Mm.unmapping). */
export function unmapBegin(mm: Mm, vma: Vma): void {
  mm.unmapping = [...mm.unmapping, vma];
}

/** unmap_region() finished for `vma`: nothing maps its range any more. */
export function unmapEnd(mm: Mm, vma: Vma): void {
  mm.unmapping = mm.unmapping.filter((v) => v !== vma);
}

/** The vma at `addr`: in the mm's tree, or one munmap() is still tearing down. */
function vmaReaching(mm: Mm, addr: number): Vma | undefined {
  return mm.vmaAt(addr) ?? mm.unmapping.find((v) => v.start <= addr && addr < v.end) ?? undefined;
}

/**
 * What checkUserPage() reads: the mm's vmas (the tree, and munmap()'s detached
 * vmas, both changed in steps that write it) and the page cache of the vma's
 * file. Not the vma's own object: checkUserPage() reads only what a vma is
 * created with (start, flags, file, pgoff), never what changes later
 * (anon_vma, detached), so a user access commutes with anon_vma_prepare().
 */
export function checkUserPageFootprint(_ctx: Ctx, mm: Mm, addr: number): FootprintEntry[] {
  const fp: FootprintEntry[] = [rd(mm.vmasObj)];
  const file = vmaReaching(mm, addr)?.file;
  if (file) fp.push(rd(file.pageCacheObj));
  return fp;
}

/** Which page `addr` must reach: the page-cache page at its file offset, or (private) an anon page. */
export function checkUserPage(ctx: Ctx, mm: Mm, addr: number, pfn: number, how: string): void {
  const vma = vmaReaching(mm, addr);
  const got = ctx.k.folioOf(pfn);
  const where = `${ctx.cpu.name} ${ctx.fn}: ${how} 0x${addr.toString(16)} of ${mm.id}`;
  if (!vma) bug('wrong-page', `${where} reached pfn ${pfn}, but no vma maps that address`);
  if (got && got.mapping === null && !vma.flags.shared) return; // a private COWed (or uffd-filled) page
  const file = vma.file;
  if (!file) bug('wrong-page', `${where} reached pfn ${pfn} through a vma without a file`);
  const index = vma.pgoff + Math.floor((addr - vma.start) / ctx.k.config.PAGE_SIZE);
  const folio = file.folioAt(index);
  if (!folio)
    bug(
      'wrong-page',
      `${where} reached pfn ${pfn}${got ? ` (${got.id})` : ''}, but ${file.id} has no page at index ${index} any more`,
    );
  const want = folio.pfn + (index - folio.index);
  if (pfn !== want)
    bug(
      'wrong-page',
      `${where} reached pfn ${pfn}${got ? ` (${got.id})` : ''}, but ${file.id} holds pfn ${want} (${folio.id}) at index ${index}`,
    );
}

/**
 * One user load from `addr` in `mm` by the CPU running this path; returns the
 * pfn reached, or null when the fault failed (SIGBUS/SIGSEGV). Stores are not
 * modelled: the walk does not check permissions, and write faults (COW) are not
 * in fault.ts.
 */
export function* userLoad(ctx: Ctx, mm: Mm, addr: number): KGen<number | null> {
  return yield* ctx.call('user load', userLoadBody(ctx, mm, addr));
}

/** The body of userLoad(). */
function* userLoadBody(ctx: Ctx, mm: Mm, addr: number): KGen<number | null> {
  const how = 'load from';
  for (let faults = 0; ; faults++) {
    if (tlbLookup(ctx, mm, addr)) {
      // Reads this CPU's TLB (flushes write it), the table the entry came from and who
      // cleared it (the stale-TLB check), and what the page must be.
      yield ctx.stepDynamic(
        () => `TLB hit 0x${addr.toString(16)}`,
        () => {
          const hit = tlbLookup(ctx, mm, addr);
          const fp = hit ? tlbUseFootprint(ctx, hit.entry) : [rd(ctx.cpu.tlbObj)];
          fp.push(...checkUserPageFootprint(ctx, mm, addr));
          return fp;
        },
        'r',
      );
      const hit = tlbLookup(ctx, mm, addr);
      if (hit) {
        tlbUse(ctx, hit.entry);
        checkUserPage(ctx, mm, addr, hit.pfn, how);
        return hit.pfn;
      }
    }
    const tr = yield* hwWalk(ctx, mm, addr, () => checkUserPageFootprint(ctx, mm, addr));
    if (tr) {
      tlbFill(ctx, mm, addr, tr);
      checkUserPage(ctx, mm, addr, tr.pfn, how);
      return tr.pfn;
    }
    if (faults === MAX_FAULTS) return null;
    if (!(yield* handleUserFault(ctx, mm, addr, false))) return null;
  }
}

/**
 * Set-up, not a racing path: this CPU's TLB already holds the translation of
 * `addr`, as if the program had touched it before the scenario started. Call
 * it before the task's first step (the walk is run without scheduling).
 */
export function tlbWarm(ctx: Ctx, mm: Mm, addr: number): boolean {
  const tr = runToEnd(hwWalk(ctx, mm, addr));
  if (tr) tlbFill(ctx, mm, addr, tr);
  return tr !== null;
}
