/**
 * Page-table access and the pte_offset_map() contract of
 * "[PATCH v3 13/13] mm/pgtable: notes on pte_offset_map[_lock]()":
 * pte_offset_map() takes rcu_read_lock() and may fail; pte_offset_map_lock()
 * rechecks the pmd after taking the ptl; pte_offset_map_nolock() names the lock
 * of exactly the table it mapped. Enforced here at run time: a PTE modified
 * without its ptl, a PTE installed in a detached table, or a map without an
 * unmap is a finding.
 */
import { bug, type LazyEvent } from './checks.js';
import type { Ctx } from './context.js';
import { type FootprintEntry, type ObjId, rd } from './deps.js';
import {
  entryPa,
  entryReadFootprint,
  entryWriteFootprint,
  tableScanFootprint,
} from './entry-footprint.js';
import { localIrqRestore, localIrqSave, tlbRemoveTableSyncOne } from './irq.js';
import { type SpinLock, spinLock, spinUnlock } from './locks.js';
import { TAG_NAMES, Tag, writtenRange } from './memory.js';
import type { Folio, Mm, Vma } from './mm.js';
import {
  pageTableCheckEnabled,
  pageTableCheckNoteRawClear,
  pageTableCheckPmdClear,
  pageTableCheckPmdSet,
  pageTableCheckPteClear,
  pageTableCheckPteSet,
} from './page-table-check.js';
import type { PageTable, TableRef } from './pgtable-registry.js';
import { rcuReadLock, rcuReadUnlock } from './rcu.js';
import { type KCall, type KGen, type Leaf, NO_STEP } from './step.js';
import { flushTlbRange } from './tlb.js';
import { tlbNoteLeafCleared } from './tlb-check.js';

/** A pmd value as a CPU holds it, with the table it pointed to when read (null: none/huge/garbage). */
export interface PmdVal {
  readonly raw: number;
  readonly table: TableRef | null;
  /** Read as two 32-bit halves (GUP_GET_PXX_LOW_HIGH): where pmd_low and pmd_high were read. */
  readonly halves?: readonly LazyEvent[] | undefined;
}

/** A pointer to an entry: the table it lives in and the index. */
export { entryReadFootprint } from './entry-footprint.js';

export interface EntryPtr {
  readonly table: TableRef;
  readonly index: number;
}
export type PmdPtr = EntryPtr & { readonly mm: Mm };
export type PtePtr = EntryPtr;

/** The variant id that removes patch 01/13 (rcu_read_lock() in __pte_offset_map()). */
export const PTE_OFFSET_MAP_WITHOUT_RCU = 'pte-offset-map-without-rcu';
/** The variant id that drops the pmd_same() recheck from __pte_offset_map_lock(). */
export const PMD_LOCK_NOT_RECHECKED = 'pmd-lock-not-rechecked';

export function pmdSize(ctx: Ctx): number {
  return ctx.k.config.PTRS_PER_PTE * ctx.k.config.PAGE_SIZE;
}

/** pte_index() — include/linux/pgtable.h */
export function pteIndex(ctx: Ctx, addr: number): number {
  const c = ctx.k.config;
  return Math.floor(addr / c.PAGE_SIZE) % c.PTRS_PER_PTE;
}

/** The status of the table a pmd value points to (its link is recorded there). */
function pointedTable(ctx: Ctx, raw: number): ObjId | null {
  const a = ctx.k.arch;
  if (a.pmdNone(raw) || !a.pmdPresent(raw) || a.pmdTransHuge(raw)) return null;
  return ctx.k.pt.statusOf({ pa: a.pmdTablePa(raw) });
}

/**
 * What writing `newRaw` into a pmd touches: the pmd's page, the tables the
 * old and new values point to (their registry entries record which pmd links
 * them), and the folios a huge old or new value maps: their
 * references (the rmap of a huge pmd is made in the step that writes it) and,
 * with page_table_check, their counters.
 */
function pmdWriteFootprint(ctx: Ctx, pmdp: EntryPtr, newRaw: number | null): FootprintEntry[] {
  const fp: FootprintEntry[] = entryWriteFootprint(ctx, pmdp);
  const oldRaw = ctx.k.mem.value(entryPa(ctx, pmdp));
  const a = ctx.k.arch;
  const ptc = pageTableCheckEnabled(ctx);
  for (const raw of newRaw === null ? [oldRaw] : [oldRaw, newRaw]) {
    const t = pointedTable(ctx, raw);
    if (t !== null) fp.push(t);
    if (a.pmdPresent(raw) && a.pmdTransHuge(raw)) {
      const f = ctx.k.folioOf(a.ptePfn(raw));
      if (f) fp.push(f.refsObj);
      if (f && ptc) fp.push(f.ptcObj);
    }
  }
  return fp;
}

/**
 * What writing `newPte` over the PTE at `ptep` touches: its table's page, the
 * folios of the old and new values when the step's effect also maps or unmaps
 * them (`rmap`: the refcount and mapcount, which the audit checks are
 * declared), and, with page_table_check, their counters. A write that leaves
 * the folios' references alone (one of a hugetlb page's contiguous PTEs, whose
 * rmap is a step of its own) commutes with a folio_put() that does not free.
 */
function pteWriteFootprint(
  ctx: Ctx,
  ptep: EntryPtr,
  newPte: number | null,
  rmap: boolean,
): FootprintEntry[] {
  const fp: FootprintEntry[] = entryWriteFootprint(ctx, ptep);
  const ptc = pageTableCheckEnabled(ctx);
  if (!rmap && !ptc) return fp;
  const old = folioOfPte(ctx, ctx.k.mem.value(entryPa(ctx, ptep)));
  const n = newPte === null ? undefined : folioOfPte(ctx, newPte);
  for (const f of n === old ? [old] : [old, n]) {
    if (!f) continue;
    if (rmap) fp.push(f.refsObj);
    if (ptc) fp.push(f.ptcObj);
  }
  return fp;
}

function folioOfPte(ctx: Ctx, pte: number): Folio | undefined {
  const a = ctx.k.arch;
  if (a.pteNone(pte) || !a.ptePresent(pte)) return undefined;
  return ctx.k.folioOf(a.ptePfn(pte));
}

/** pmd_offset() after walking the folded upper levels: the pmd slot for addr. */
export function pmdOffset(ctx: Ctx, mm: Mm, addr: number): PmdPtr {
  if (!mm.pmdTable)
    bug(
      'use-after-free',
      `${ctx.cpu.name} ${ctx.fn}: walks the page tables of mm ${mm.id}, which were freed with the mm`,
    );
  const index = Math.floor(addr / pmdSize(ctx)) % ctx.k.config.PTRS_PER_PMD;
  return { table: mm.pmdTable, index, mm };
}

export function pmdKey(p: PmdPtr): string {
  return `${p.table.label}[${p.index}]`;
}

/** Decode a raw pmd into a PmdVal, resolving the table it points to now. */
export function pmdValOf(ctx: Ctx, raw: number, halves?: readonly LazyEvent[]): PmdVal {
  const a = ctx.k.arch;
  // One shape whether read whole or in halves: an object spread to add `halves` cost 3.6% of the PAE cell.
  const table =
    a.pmdNone(raw) || !a.pmdPresent(raw) || a.pmdTransHuge(raw)
      ? null
      : ctx.k.pt.ref(a.pmdTablePa(raw));
  return { raw, table, halves };
}

/** Read one entry now (inside the caller's step), catching freed tables and words that are not entries. */
export function readEntryWord(ctx: Ctx, p: EntryPtr, what: string, expect: 'pte' | 'pmd'): number {
  ctx.k.pt.deref(ctx, p.table, what);
  const pa = entryPa(ctx, p);
  const value = ctx.k.mem.value(pa);
  const tag = ctx.k.mem.tag(pa);
  const ok = tag === Tag.zero || tag === (expect === 'pte' ? Tag.pte : Tag.pmd);
  if (!ok) {
    if (tag === Tag.poison)
      bug(
        'use-after-free',
        `${ctx.cpu.name} ${ctx.fn}: ${what} read poison from ${p.table.label}[${p.index}]`,
      );
    bug(
      'pte-not-a-pte',
      `${ctx.cpu.name} ${ctx.fn}: ${what}: reader saw a ${TAG_NAMES[tag]} where a ${expect.toUpperCase()} was expected (${p.table.label}[${p.index}] = 0x${value.toString(16)})`,
    );
  }
  return value;
}

/** pmdp_get() / READ_ONCE(*pmd) */
export function pmdpGet(
  ctx: Ctx,
  pmdp: PmdPtr,
  /** What a check made right after the read also reads (in the same step), as ptepGet()'s. */
  also?: () => FootprintEntry[],
): Leaf<PmdVal> {
  const read = () => pmdValOf(ctx, readEntryWord(ctx, pmdp, 'read pmd', 'pmd'));
  return also
    ? ctx.leafDynamic('read pmd', () => [...entryReadFootprint(ctx, pmdp), ...also()], 'r', read)
    : ctx.leaf('read pmd', entryReadFootprint(ctx, pmdp), 'r', read);
}

/** 2^32: a 64-bit pmd_t as pmd_low + pmd_high * HALF (x86-32 PAE, include/asm/pgtable-3level_types.h). */
const HALF = 2 ** 32;
export const pmdLow = (raw: number): number => raw % HALF;
export const pmdHigh = (raw: number): number => Math.floor(raw / HALF);

/**
 * pmdp_get_lockless() — include/linux/pgtable.h. One read on 64-bit entries;
 * with CONFIG_GUP_GET_PXX_LOW_HIGH (and >2 levels) the generic loop: read
 * pmd_low, read pmd_high, re-read pmd_low and retry if it changed — each a
 * separate access, so the halves may come from different values.
 */
export function pmdpGetLockless(ctx: Ctx, pmdp: PmdPtr): KCall<PmdVal> {
  const c = ctx.k.config;
  if (c.pmdLowHigh && c.levels > 2) return pmdpGetLocklessHalves(ctx, pmdp);
  return ctx.leaf('pmdp_get_lockless()', entryReadFootprint(ctx, pmdp), 'r', () =>
    pmdValOf(ctx, readEntryWord(ctx, pmdp, 'pmdp_get_lockless()', 'pmd')),
  );
}

/** pmdp_get_lockless() where the pmd is read as two halves (GUP_GET_PXX_LOW_HIGH, >2 levels). */
function* pmdpGetLocklessHalves(ctx: Ctx, pmdp: PmdPtr): KGen<PmdVal> {
  const obj = entryReadFootprint(ctx, pmdp);
  for (;;) {
    yield ctx.step('pmdp_get_lockless(): pmd_low', obj, 'r');
    const low = pmdLow(readEntryWord(ctx, pmdp, 'pmdp_get_lockless()', 'pmd'));
    const lowAt = ctx.here(() => `pmdp_get_lockless() read pmd_low 0x${low.toString(16)}`);
    yield ctx.step('pmdp_get_lockless(): pmd_high', obj, 'r');
    const high = pmdHigh(readEntryWord(ctx, pmdp, 'pmdp_get_lockless()', 'pmd'));
    const highAt = ctx.here(() => `pmdp_get_lockless() read pmd_high 0x${high.toString(16)}`);
    yield ctx.step('pmdp_get_lockless(): recheck pmd_low', obj, 'r');
    if (pmdLow(readEntryWord(ctx, pmdp, 'pmdp_get_lockless()', 'pmd')) === low)
      return pmdValOf(ctx, high * HALF + low, [lowAt, highAt]);
    ctx.k.note('pmd_low changed under pmdp_get_lockless(): retry');
  }
}

/**
 * pmdp_get_lockless_start()/end() — mm/pgtable-generic.c: local_irq_save() /
 * local_irq_restore() only with CONFIG_GUP_GET_PXX_LOW_HIGH (&& SMP), where the
 * pmd is read as two halves; empty stubs otherwise.
 */
export function pmdpGetLocklessStart(ctx: Ctx): KCall {
  const a = ctx.k.arch;
  if (a.pmdpGetLocklessStart) return a.pmdpGetLocklessStart(ctx);
  return ctx.k.config.pmdLowHigh ? localIrqSave(ctx) : NO_STEP;
}
export function pmdpGetLocklessEnd(ctx: Ctx): KCall {
  const a = ctx.k.arch;
  if (a.pmdpGetLocklessEnd) return a.pmdpGetLocklessEnd(ctx);
  return ctx.k.config.pmdLowHigh ? localIrqRestore(ctx) : NO_STEP;
}

/**
 * pmdp_get_lockless_sync() — include/linux/pgtable.h: where the pmd is read as
 * two halves (GUP_GET_PXX_LOW_HIGH, >2 levels) it is tlb_remove_table_sync_one(),
 * waiting out every IRQ-disabled pmdp_get_lockless() window — itself an empty
 * stub without MMU_GATHER_RCU_TABLE_FREE; otherwise empty.
 */
export function pmdpGetLocklessSync(ctx: Ctx): KCall {
  const a = ctx.k.arch;
  if (a.pmdpGetLocklessSync) return a.pmdpGetLocklessSync(ctx);
  const c = ctx.k.config;
  return c.pmdLowHigh && c.levels > 2 ? tlbRemoveTableSyncOne(ctx) : NO_STEP;
}

/** ptep_get() / ptep_get_lockless(): read one PTE through a mapped pointer. */
export function ptepGet(
  ctx: Ctx,
  ptep: PtePtr,
  what = 'read pte',
  /** What a check made right after the read also reads (in the same step). */
  also?: () => FootprintEntry[],
): Leaf<number> {
  const read = () => readEntryWord(ctx, ptep, what, 'pte');
  return also
    ? ctx.leafDynamic(what, () => [...entryReadFootprint(ctx, ptep), ...also()], 'r', read)
    : ctx.leaf(what, entryReadFootprint(ctx, ptep), 'r', read);
}

/** The lock a table's PTEs are modified under: split ptlock in its ptdesc, or mm->page_table_lock. */
export function ptlOfTable(ctx: Ctx, mm: Mm, t: PageTable): SpinLock {
  if (!ctx.k.config.splitPtePtlocks) return mm.pageTableLock;
  const page = ctx.k.pages.meta(ctx, t.pfn, `ptlock_ptr(${t.label})`);
  if (!page.ptl)
    bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: ptlock_ptr(${t.label}) of pfn ${t.pfn}: no ptlock (the arch never ran pagetable_pte_ctor() on this table)`,
    );
  return page.ptl;
}

/** pte_lockptr(mm, pmd) — include/linux/mm.h: the ptl of the table *pmd points to (now). */
export function pteLockptr(ctx: Ctx, mm: Mm, pmdval: PmdVal): SpinLock {
  if (!pmdval.table)
    bug(
      'kernel-bug',
      `${ctx.cpu.name} ${ctx.fn}: pte_lockptr() on pmd value 0x${pmdval.raw.toString(16)}, which points to no page table`,
    );
  if (!ctx.k.config.splitPtePtlocks) return mm.pageTableLock;
  const t = ctx.k.pt.deref(ctx, pmdval.table, 'pte_lockptr()');
  return ptlOfTable(ctx, mm, t);
}

/** pmd_lockptr()/pmd_lock() — include/linux/mm.h */
export function pmdLockptr(ctx: Ctx, mm: Mm, pmdp: PmdPtr): SpinLock {
  if (!ctx.k.config.splitPmdPtlocks) return mm.pageTableLock;
  const t = ctx.k.pt.deref(ctx, pmdp.table, 'pmd_lockptr()');
  const page = ctx.k.pages.meta(ctx, t.pfn, 'pmd_lockptr()');
  if (!page.ptl)
    bug('kernel-bug', `${ctx.cpu.name} ${ctx.fn}: pmd_lockptr(): ${t.label} has no ptlock`);
  return page.ptl;
}
export function* pmdLock(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<SpinLock> {
  const pml = pmdLockptr(ctx, mm, pmdp);
  yield* spinLock(ctx, pml);
  return pml;
}

/** __pte_offset_map() — mm/pgtable-generic.c: map the table a pmd (or a pmd value copied to the stack) points to. */
export function* __pteOffsetMap(
  ctx: Ctx,
  pmd: PmdPtr | PmdVal,
  addr: number,
): KGen<{ pte: PtePtr | null; pmdval: PmdVal }> {
  const withRcu = !ctx.k.has(PTE_OFFSET_MAP_WITHOUT_RCU);
  if (withRcu) yield* rcuReadLock(ctx);
  let pmdval: PmdVal;
  if ('raw' in pmd) {
    pmdval = pmd;
  } else {
    yield* pmdpGetLocklessStart(ctx);
    pmdval = yield* pmdpGetLockless(ctx, pmd);
    yield* pmdpGetLocklessEnd(ctx);
  }
  const a = ctx.k.arch;
  if (
    !pmdval.table &&
    ctx.k.config.pmdLowHigh &&
    !a.pmdNone(pmdval.raw) &&
    a.pmdPresent(pmdval.raw) &&
    !a.pmdTransHuge(pmdval.raw) &&
    !a.pmdBad(pmdval.raw)
  ) {
    // __pte_map(&pmdval): kmap_local_page(pmd_page(pmdval)) of a page that is no page table.
    bug(
      'torn-pmd-read',
      `${ctx.cpu.name} ${ctx.fn}: maps pmd value 0x${pmdval.raw.toString(16)} (pmd_high 0x${pmdHigh(pmdval.raw).toString(16)}, pmd_low 0x${pmdLow(pmdval.raw).toString(16)}) as a page table, but no page table is at pa 0x${a.pmdTablePa(pmdval.raw).toString(16)}: its halves were read from different pmd values`,
      pmdval.halves ?? [],
    );
  }
  // v6.6 order: none / migration entry (not modelled) / trans_huge → nomap; pmd_bad() →
  // pmd_clear_bad() then nomap. A non-present value the arch's pmd_bad() accepts also maps nothing.
  if (!a.pmdNone(pmdval.raw) && !a.pmdTransHuge(pmdval.raw) && a.pmdBad(pmdval.raw))
    yield* pmdClearBad(ctx, pmd, pmdval);
  if (
    a.pmdNone(pmdval.raw) ||
    !a.pmdPresent(pmdval.raw) ||
    a.pmdTransHuge(pmdval.raw) ||
    !pmdval.table
  ) {
    if (withRcu) yield* rcuReadUnlock(ctx);
    return { pte: null, pmdval };
  }
  return { pte: { table: pmdval.table, index: pteIndex(ctx, addr) }, pmdval };
}

/**
 * pmd_clear_bad() — mm/pgtable-generic.c, from __pte_offset_map() when the
 * snapshot is pmd_bad(): pmd_ERROR(*pmd) prints the entry as it is NOW and
 * pmd_clear(pmd) wipes it, without a lock (a table it pointed to leaks). On a
 * pmd copied to the stack (gup_fast) only the copy is printed and cleared.
 * The printk is the finding: no correct path creates a bad pmd.
 */
function* pmdClearBad(ctx: Ctx, pmd: PmdPtr | PmdVal, snapshot: PmdVal): KGen<never> {
  const hex = (v: number): string => `0x${v.toString(16)}`;
  if ('raw' in pmd)
    bug(
      'bad-pmd',
      `${ctx.cpu.name} ${ctx.fn}: mm/pgtable-generic.c: bad pmd ${hex(pmd.raw)} (the caller's stack copy, cleared)`,
      pmd.halves ?? [],
    );
  const ptr = pmd;
  yield ctx.stepDynamic(
    () => `pmd_clear_bad(${pmdKey(ptr)})`,
    () => pmdWriteFootprint(ctx, ptr, ctx.k.arch.pmdEmpty),
  );
  ctx.k.pt.deref(ctx, pmd.table, 'pmd_clear_bad()');
  const live = ctx.k.mem.read(entryPa(ctx, pmd)).value;
  yield* writePmdClear(ctx, pmd, live);
  bug(
    'bad-pmd',
    `${ctx.cpu.name} ${ctx.fn}: mm/pgtable-generic.c: bad pmd ${pmdKey(pmd)}(${hex(live)}): pmd_clear_bad() cleared the live entry (pmd_bad() snapshot ${hex(snapshot.raw)})`,
    snapshot.halves ?? [],
  );
}

/** pte_offset_map() — include/linux/pgtable.h: NULL when there is no page table; RCU held until pte_unmap(). */
export function* pteOffsetMap(ctx: Ctx, pmd: PmdPtr | PmdVal, addr: number): KGen<PtePtr | null> {
  return (yield* ctx.call('pte_offset_map', __pteOffsetMap(ctx, pmd, addr))).pte;
}

/** pte_unmap() — include/linux/pgtable.h */
export function pteUnmap(ctx: Ctx, _pte: PtePtr): KCall {
  return ctx.k.has(PTE_OFFSET_MAP_WITHOUT_RCU)
    ? NO_STEP
    : ctx.call('pte_unmap', rcuReadUnlock(ctx));
}

/** pte_offset_map_nolock() — mm/pgtable-generic.c (v6.5-v6.12): map, and name the lock of exactly that table. */
export function pteOffsetMapNolock(
  ctx: Ctx,
  mm: Mm,
  pmdp: PmdPtr,
  addr: number,
): KGen<{ pte: PtePtr; ptl: SpinLock; pmdval: PmdVal } | null> {
  return ctx.call('pte_offset_map_nolock', pteOffsetMapNolockBody(ctx, mm, pmdp, addr));
}

/*
 * The bodies run under ctx.call() are named generator functions, never
 * `(function* () {...})()` closures. Measured on Node 20: once V8 has run a
 * generator closure, old space keeps it reachable until the next full GC
 * (the generator objects' map, made for that closure, points back to it), so
 * its context, and through `ctx` the whole kernel, survives every young GC
 * and is copied to old space: a kernel per execution (`node
 * --trace-gc-nvp` shows it as `promoted=`).
 */
function* pteOffsetMapNolockBody(
  ctx: Ctx,
  mm: Mm,
  pmdp: PmdPtr,
  addr: number,
): KGen<{ pte: PtePtr; ptl: SpinLock; pmdval: PmdVal } | null> {
  const { pte, pmdval } = yield* __pteOffsetMap(ctx, pmdp, addr);
  if (!pte) return null;
  return { pte, ptl: pteLockptr(ctx, mm, pmdval), pmdval };
}

/** __pte_offset_map_lock() — mm/pgtable-generic.c: map, lock, recheck the pmd, retry if it changed. */
export function pteOffsetMapLock(
  ctx: Ctx,
  mm: Mm,
  pmdp: PmdPtr,
  addr: number,
): KGen<{ pte: PtePtr; ptl: SpinLock } | null> {
  return ctx.call('pte_offset_map_lock', pteOffsetMapLockBody(ctx, mm, pmdp, addr));
}

function* pteOffsetMapLockBody(
  ctx: Ctx,
  mm: Mm,
  pmdp: PmdPtr,
  addr: number,
): KGen<{ pte: PtePtr; ptl: SpinLock } | null> {
  for (;;) {
    const { pte, pmdval } = yield* __pteOffsetMap(ctx, pmdp, addr);
    if (!pte) return null;
    const ptl = pteLockptr(ctx, mm, pmdval);
    yield* spinLock(ctx, ptl);
    if (ctx.k.has(PMD_LOCK_NOT_RECHECKED)) return { pte, ptl };
    const now = yield* pmdpGetLockless(ctx, pmdp);
    if (now.raw === pmdval.raw) return { pte, ptl };
    ctx.k.note(() => `pmd changed under ${ptl.id}: retry`);
    yield* pteUnmapUnlock(ctx, pte, ptl);
  }
}

/** pte_unmap_unlock() — include/linux/mm.h: unlock before rcu_read_unlock(). */
export function* pteUnmapUnlock(ctx: Ctx, pte: PtePtr, ptl: SpinLock): KGen {
  yield* spinUnlock(ctx, ptl);
  yield* pteUnmap(ctx, pte);
}

/** pte_offset_kernel() — include/linux/pgtable.h: no RCU, no failure, no unmap (kernel and hugetlb tables). */
export function pteOffsetKernel(ctx: Ctx, pmdval: PmdVal, addr: number): PtePtr | null {
  if (!pmdval.table) return null;
  return { table: pmdval.table, index: pteIndex(ctx, addr) };
}

function assertPtlHeld(ctx: Ctx, t: PageTable, what: string): void {
  const mm = t.mm;
  if (!mm) return;
  const ptl = ptlOfTable(ctx, mm, t);
  if (ptl.owner !== ctx.cpu) {
    const held = ctx.cpu.held.filter((h) => h.lock.kind === 'spin').map((h) => h.lock.id);
    bug(
      'pte-write-without-ptl',
      `${ctx.cpu.name} ${ctx.fn}: ${what} in ${t.label} without its lock ${ptl.id}${held.length ? ` (holds ${held.join(', ')})` : ''}`,
    );
  }
}

/**
 * A PTE read as the first half of a read-modify-write under `ptl`
 * (do_adjust_pte() in arch/arm/mm/fault-armv.c, copy_pte_range(), ...): `ptl`
 * must be held and be the lock of exactly the table `ptep` lies in, whether or
 * not the caller then writes.
 */
export function* ptepGetUnderPtl(
  ctx: Ctx,
  ptep: PtePtr,
  ptl: SpinLock,
  what = 'read pte under ptl',
): KGen<number> {
  // Its wrong-ptl finding names the table's deferral: the status is read too.
  yield ctx.step(what, [...entryReadFootprint(ctx, ptep), rd(ctx.k.pt.statusOf(ptep.table))], 'r');
  const t = ctx.k.pt.deref(ctx, ptep.table, what);
  if (t.mm) {
    const own = ptlOfTable(ctx, t.mm, t);
    if (own !== ptl)
      bug(
        'wrong-ptl',
        `${ctx.cpu.name} ${ctx.fn}: ${what} in ${t.label} under ${ptl.id}, but the lock of ${t.label} is ${own.id}`,
        t.deferredAt ? [t.deferredAt] : [],
      );
    if (ptl.owner !== ctx.cpu)
      bug(
        'wrong-ptl',
        `${ctx.cpu.name} ${ctx.fn}: ${what} in ${t.label} without holding ${ptl.id}`,
      );
  }
  return readEntryWord(ctx, ptep, what, 'pte');
}

/**
 * set_pte_at() — include/linux/pgtable.h: caller holds the table's ptl.
 * `rmap`: the caller maps the folio (folio_add_*_rmap, its reference) in
 * this step's effect (pteWriteFootprint()).
 */
export function* setPteAt(ctx: Ctx, mm: Mm, ptep: PtePtr, pte: number, rmap = true): KGen {
  yield ctx.stepDynamic(
    () => `set_pte_at(${ptep.table.label}[${ptep.index}])`,
    () => pteWriteFootprint(ctx, ptep, pte, rmap),
  );
  const t = ctx.k.pt.deref(ctx, ptep.table, 'set_pte_at()');
  assertPtlHeld(ctx, t, 'set_pte_at()');
  if (!ctx.k.arch.pteNone(pte) && t.linkedFrom === null) {
    bug(
      'write-to-detached-table',
      `${ctx.cpu.name} ${ctx.fn}: installs a PTE in ${t.label}, which no pmd points to any more${t.deferredAt ? ` (retracted, pte_free_defer at step ${t.deferredAt.step})` : ''}`,
      t.deferredAt ? [t.deferredAt] : [],
    );
  }
  // set_ptes() → page_table_check_ptes_set(): un-count the old entry, count the new one.
  pageTableCheckPteSet(ctx, t.mm, ctx.k.mem.value(entryPa(ctx, ptep)), pte);
  ctx.k.mem.write(entryPa(ctx, ptep), pte, Tag.pte);
  void mm;
}

/**
 * ptep_clear() / ptep_get_and_clear() — include/linux/pgtable.h: clear and
 * return the old PTE. `rmap`: the caller unmaps the folio in this step's
 * effect (pteWriteFootprint()).
 */
export function* ptepGetAndClear(ctx: Ctx, _mm: Mm, ptep: PtePtr, rmap = true): KGen<number> {
  yield ctx.stepDynamic(
    () => `ptep_get_and_clear(${ptep.table.label}[${ptep.index}])`,
    () => pteWriteFootprint(ctx, ptep, null, rmap),
  );
  const t = ctx.k.pt.deref(ctx, ptep.table, 'ptep_get_and_clear()');
  assertPtlHeld(ctx, t, 'ptep_get_and_clear()');
  const old = readEntryWord(ctx, ptep, 'ptep_get_and_clear()', 'pte');
  ctx.k.mem.write(entryPa(ctx, ptep), ctx.k.arch.pteEmpty, Tag.pte);
  pageTableCheckPteClear(ctx, t.mm, old);
  if (!ctx.k.arch.pteNone(old)) tlbNoteLeafCleared(ctx, ptep, 'ptep_get_and_clear()');
  return old;
}

/**
 * pte_clear() — arch pgtable.h: clear a PTE without returning it and, unlike
 * ptep_clear(), without page_table_check accounting (see page-table-check.ts).
 */
export function* pteClear(ctx: Ctx, _mm: Mm, ptep: PtePtr, rmap = true): KGen {
  yield ctx.stepDynamic(
    () => `pte_clear(${ptep.table.label}[${ptep.index}])`,
    () => pteWriteFootprint(ctx, ptep, null, rmap),
  );
  const t = ctx.k.pt.deref(ctx, ptep.table, 'pte_clear()');
  assertPtlHeld(ctx, t, 'pte_clear()');
  const old = readEntryWord(ctx, ptep, 'pte_clear()', 'pte');
  ctx.k.mem.write(entryPa(ctx, ptep), ctx.k.arch.pteEmpty, Tag.pte);
  pageTableCheckNoteRawClear(ctx, t.mm, old);
  if (!ctx.k.arch.pteNone(old)) tlbNoteLeafCleared(ctx, ptep, 'pte_clear()');
}

function assertPmdLocked(ctx: Ctx, mm: Mm, pmdp: PmdPtr, what: string): void {
  const pml = pmdLockptr(ctx, mm, pmdp);
  if (pml.owner !== ctx.cpu)
    bug('pte-write-without-ptl', `${ctx.cpu.name} ${ctx.fn}: ${what} without ${pml.id}`);
}

function writePmd(ctx: Ctx, pmdp: PmdPtr, raw: number): void {
  const key = pmdKey(pmdp);
  const oldRaw = ctx.k.mem.value(entryPa(ctx, pmdp));
  const old = pmdValOf(ctx, oldRaw);
  if (old.table) {
    const t = ctx.k.pt.get(old.table.pa);
    if (t && t.linkedFrom === key) ctx.k.pt.linked(ctx, t, null);
  }
  ctx.k.mem.write(entryPa(ctx, pmdp), raw, Tag.pmd);
  const now = pmdValOf(ctx, raw);
  if (now.table) {
    const t = ctx.k.pt.get(now.table.pa);
    if (t) ctx.k.pt.linked(ctx, t, key);
  }
}

/** pmd_populate() — arch pgalloc.h: point a pmd at a PTE table (under pmd_lock). */
export function* pmdPopulate(ctx: Ctx, mm: Mm, pmdp: PmdPtr, tablePa: number): KGen {
  const raw = ctx.k.arch.mkPmdTable(tablePa);
  yield ctx.stepDynamic(
    () => `pmd_populate(${pmdKey(pmdp)})`,
    () => pmdWriteFootprint(ctx, pmdp, raw),
  );
  ctx.k.pt.deref(ctx, pmdp.table, 'pmd_populate()');
  assertPmdLocked(ctx, mm, pmdp, 'pmd_populate()');
  const t = ctx.k.pt.get(tablePa);
  if (t?.kind !== 'pte' || t.state !== 'live')
    bug(
      'bogus-pmd',
      `${ctx.cpu.name} ${ctx.fn}: pmd_populate(${pmdKey(pmdp)}) with pa 0x${tablePa.toString(16)}, which is ${t ? `${t.label}, ${t.state === 'live' ? 'not a PTE table' : t.state === 'deferred' ? 'waiting for its grace period' : 'freed'}` : 'no page table'}: the MMU and every walker would use that page as a PTE table`,
      t?.freedAt ? [t.freedAt] : t?.deferredAt ? [t.deferredAt] : [],
    );
  writePmd(ctx, pmdp, raw);
}

/** set_pmd_at() with a huge pmd — mm/huge_memory.c do_set_pmd() */
export function* setPmdHuge(ctx: Ctx, mm: Mm, pmdp: PmdPtr, pfn: number): KGen {
  const huge = ctx.k.arch.mkPmdHuge(pfn);
  yield ctx.stepDynamic(
    () => `set_pmd_at(${pmdKey(pmdp)}, huge)`,
    () => pmdWriteFootprint(ctx, pmdp, huge),
  );
  assertPmdLocked(ctx, mm, pmdp, 'set_pmd_at()');
  pageTableCheckPmdSet(ctx, mm, ctx.k.mem.value(entryPa(ctx, pmdp)), huge);
  writePmd(ctx, pmdp, huge);
}

/** pmdp_huge_get_and_clear() / pmd_clear() under pmd_lock. */
export function pmdpGetAndClear(ctx: Ctx, mm: Mm, pmdp: PmdPtr): Leaf<PmdVal> {
  return ctx.leafDynamic(
    () => `pmdp_huge_get_and_clear(${pmdKey(pmdp)})`,
    () => pmdWriteFootprint(ctx, pmdp, null),
    'w',
    () => pmdCleared(ctx, mm, pmdp),
  );
}

function pmdCleared(ctx: Ctx, mm: Mm, pmdp: PmdPtr): PmdVal {
  ctx.k.pt.deref(ctx, pmdp.table, 'pmdp_huge_get_and_clear()');
  assertPmdLocked(ctx, mm, pmdp, 'clearing a pmd');
  const old = pmdValOf(ctx, ctx.k.mem.value(entryPa(ctx, pmdp)));
  writePmd(ctx, pmdp, ctx.k.arch.pmdEmpty);
  const detached = old.table;
  if (detached) ctx.k.note(() => `pmd ${pmdKey(pmdp)} cleared: ${detached.label} detached`);
  if (ctx.k.arch.pmdTransHuge(old.raw)) {
    pageTableCheckPmdClear(ctx, mm, old.raw);
    tlbNoteLeafCleared(ctx, pmdp, 'pmdp_huge_get_and_clear()');
  }
  return old;
}

/**
 * pmd_clear() as free_pgtables()/free_pte_range() does it — mm/memory.c: no
 * lock, because the vmas are detached and mmap_lock is held for write.
 */
export function* pmdClearUnlocked(ctx: Ctx, pmdp: PmdPtr): KGen<PmdVal> {
  yield ctx.stepDynamic(
    () => `pmd_clear(${pmdKey(pmdp)})`,
    () => pmdWriteFootprint(ctx, pmdp, null),
  );
  ctx.k.pt.deref(ctx, pmdp.table, 'pmd_clear()');
  const old = pmdValOf(ctx, ctx.k.mem.value(entryPa(ctx, pmdp)));
  yield* writePmdClear(ctx, pmdp, old.raw);
  return old;
}

/**
 * The stores of pmd_clear(): one, or — where the pmd is two 32-bit halves —
 * native_pmd_clear() (arch/x86/include/asm/pgtable-3level.h): pmd_low = 0,
 * smp_wmb(), pmd_high = 0, a second step. (set_pmd() and
 * pmdp_get_and_clear() are single 64-bit cmpxchg stores there: pxx_xchg64.)
 */
function* writePmdClear(ctx: Ctx, pmdp: PmdPtr, oldRaw: number): KGen {
  const c = ctx.k.config;
  if (!(c.pmdLowHigh && c.levels > 2)) {
    writePmd(ctx, pmdp, ctx.k.arch.pmdEmpty);
    return;
  }
  writePmd(ctx, pmdp, pmdHigh(oldRaw) * HALF);
  yield ctx.stepDynamic(
    () => `pmd_clear(${pmdKey(pmdp)}): pmd_high = 0`,
    () => pmdWriteFootprint(ctx, pmdp, ctx.k.arch.pmdEmpty),
  );
  writePmd(ctx, pmdp, ctx.k.arch.pmdEmpty);
}

/**
 * pmd_clear() under pmd_lock — e.g. mm/pt_reclaim.c try_get_and_clear_pmd()
 * and try_to_free_pte() (v6.14): the caller took the table's pmd value first.
 */
export function* pmdClear(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen {
  yield ctx.stepDynamic(
    () => `pmd_clear(${pmdKey(pmdp)})`,
    () => pmdWriteFootprint(ctx, pmdp, null),
  );
  ctx.k.pt.deref(ctx, pmdp.table, 'pmd_clear()');
  assertPmdLocked(ctx, mm, pmdp, 'pmd_clear()');
  const old = pmdValOf(ctx, ctx.k.mem.value(entryPa(ctx, pmdp)));
  const detached = old.table;
  if (detached) ctx.k.note(() => `pmd ${pmdKey(pmdp)} cleared: ${detached.label} detached`);
  yield* writePmdClear(ctx, pmdp, old.raw);
}

/**
 * pmdp_collapse_flush() — mm/pgtable-generic.c: clear the pmd and flush the
 * range ("collapse entails shooting down ptes not pmd"). Arches may override.
 */
export function pmdpCollapseFlush(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen<PmdVal> {
  const override = ctx.k.arch.pmdpCollapseFlush;
  if (override)
    return ctx.call('pmdp_collapse_flush', override.call(ctx.k.arch, ctx, vma, addr, pmdp));
  return ctx.call('pmdp_collapse_flush', pmdpCollapseFlushBody(ctx, vma, addr, pmdp));
}

function* pmdpCollapseFlushBody(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen<PmdVal> {
  const old = yield* pmdpGetAndClear(ctx, vma.mm, pmdp);
  yield* flushTlbRange(ctx, vma.mm, addr, addr + pmdSize(ctx));
  return old;
}

/** mm_inc_nr_ptes()/mm_dec_nr_ptes() — include/linux/mm.h */
export function mmIncNrPtes(ctx: Ctx, mm: Mm): void {
  mm.pgtablesBytes += ctx.k.config.PTRS_PER_PTE * ctx.k.config.pteSize;
}
export function mmDecNrPtes(ctx: Ctx, mm: Mm): void {
  mm.pgtablesBytes -= ctx.k.config.PTRS_PER_PTE * ctx.k.config.pteSize;
}

/** __pte_alloc() + pmd_install() — mm/memory.c: allocate a table, install it if the pmd is still none. 0 or -ENOMEM. */
export function* pteAlloc(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<number> {
  return yield* ctx.call('__pte_alloc', pteAllocBody(ctx, mm, pmdp));
}

function* pteAllocBody(ctx: Ctx, mm: Mm, pmdp: PmdPtr): KGen<number> {
  const pa = yield* ctx.k.arch.pteAllocOne(ctx, mm);
  if (pa === null) return -12;
  const pml = yield* pmdLock(ctx, mm, pmdp);
  const cur = yield* pmdpGet(ctx, pmdp);
  let installed = false;
  if (ctx.k.arch.pmdNone(cur.raw)) {
    mmIncNrPtes(ctx, mm);
    yield* pmdPopulate(ctx, mm, pmdp, pa);
    installed = true;
  }
  yield* spinUnlock(ctx, pml);
  if (!installed) yield* ctx.k.arch.pteFree(ctx, mm, pa);
  return 0;
}

/** Read every entry of a detached or locked table at once (page_table_check_pte_clear_range-like scans). */
export function* scanPtes(ctx: Ctx, ref: TableRef, what: string): KGen<number[]> {
  yield ctx.step(what, tableScanFootprint(ctx, ref), 'r');
  const t = ctx.k.pt.deref(ctx, ref, what);
  const out: number[] = new Array(t.entries);
  const w = ctx.k.mem.words(ref.pa);
  if (!w.values || !w.tags) {
    if (w.fillTag !== Tag.zero && w.fillTag !== Tag.pte)
      readEntryWord(ctx, { table: ref, index: 0 }, what, 'pte'); // raises the finding
    return out.fill(w.fill);
  }
  // Words never written hold the fill; with a bad fill tag, the first bad word is the finding.
  out.fill(w.fill);
  const span =
    w.fillTag === Tag.zero || w.fillTag === Tag.pte
      ? writtenRange(w, t.entries)
      : { from: 0, to: t.entries };
  for (let i = span.from; i < span.to; i++) {
    const tag = w.tags[w.start + i];
    // A word that is no PTE: readEntryWord() names it (and raises the finding).
    if (tag !== Tag.zero && tag !== Tag.pte)
      readEntryWord(ctx, { table: ref, index: i }, what, 'pte');
    out[i] = w.values[w.start + i] ?? 0;
  }
  return out;
}
