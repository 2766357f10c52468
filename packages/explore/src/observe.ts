/**
 * What a recorded run looked like beyond its step labels, for the trace
 * viewer: each CPU's context after every step (locks, RCU nesting, interrupts,
 * pending IPIs), each page table's life (allocated, populated, retracted,
 * deferred, queued for a grace period, freed), the objects every step
 * touched, and struct page as the run left it. Built only when a run records
 * (Run with record: true): it reads the kernel's state between steps and
 * changes nothing, and a search run never constructs one.
 */
import {
  describeObj,
  eventWhat,
  type Kernel,
  type LazyEvent,
  PG,
  type Step,
  stepFootprint,
  TAG_NAMES,
  type TagValue,
} from '@ptlab/core';
import type { StepRecord } from './execution.js';
import { objOf, writes } from './packed.js';

/** A CPU's context: what the swimlane draws as bands. */
export interface CpuState {
  /** Locks held, innermost last; `(r)` marks a read-held rwsem. */
  readonly locks: readonly string[];
  /** rcu_read_lock() nesting. */
  readonly rcu: number;
  readonly irqsOff: boolean;
  /** Running an RCU callback (softirq). */
  readonly softirq: boolean;
  /** IPIs waiting for this CPU to enable interrupts. */
  readonly ipis: readonly string[];
}

export type TableEventKind =
  | 'allocated'
  | 'populated'
  | 'retracted'
  | 'deferred'
  | 'rcu-queued'
  | 'grace-period'
  | 'freed'
  | 'page-freed'
  | 'reused';

/** Something that happened to a page table (or to the page it lives in). */
export interface TableEvent {
  /** The table's label (PageTable.label, e.g. `pt#2`). */
  readonly table: string;
  readonly kind: TableEventKind;
  readonly detail: string;
}

/** One object in a step's footprint. */
export interface Touch {
  /** As describeObj() names it (`page pfn 2`, `ptl of pfn 2`, `cpu 1 rcu`, ...). */
  readonly obj: string;
  readonly write: boolean;
  /** The page, for struct page / memory / ptlock objects. */
  readonly pfn?: number;
}

/** What a recorded step did besides its label (StepRecord.observed). */
export interface StepObservation {
  /** The step's footprint, as the scheduler saw it. */
  readonly touches: readonly Touch[];
  /** CPUs whose context the step changed, by CPU name: their context after it. */
  readonly cpus: Readonly<Record<string, CpuState>>;
  readonly events: readonly TableEvent[];
}

export interface TableInfo {
  readonly label: string;
  readonly kind: 'pte' | 'pmd';
  readonly pfn: number;
  readonly pa: number;
  /** Byte offset in its page (a fragment, a 2K half). */
  readonly offset: number;
  readonly entries: number;
  /** The mm it belongs to (its id), if any. */
  readonly mm: string | null;
  /** Step at which it was constructed (-1: before the first step). */
  readonly from: number;
}

/** One allocation of a page (pfn, generation): the tables constructed in it. */
export interface PageLife {
  readonly pfn: number;
  readonly gen: number;
  /** Step of its allocation (-1: before the first step). */
  readonly from: number;
  /** Step at which the page was allocated again (this life's end), if it was. */
  readonly to?: number;
  readonly tables: readonly string[];
}

/** struct page of a page-table page as the run left it (the failing step's state, when a check fired). */
export interface PageSlots {
  readonly pfn: number;
  readonly allocated: boolean;
  readonly owner: string;
  readonly flags: readonly string[];
  readonly refcount: number;
  /** Words 1-2 (lru / pt_list / pt_rcu_head / pmd_huge_pte): who holds them, and where written. */
  readonly lru: { readonly holder: string | null; readonly at?: { step: number; what: string } };
  /** Word 4 (index / pt_mm / pt_frag_refcount). */
  readonly index: { readonly holder: string | null; readonly at?: { step: number; what: string } };
  readonly ptl: string | null;
  /** The first words of each table in the page: what each holds (pte, poison, list pointer...). */
  readonly words: readonly { readonly table: string; readonly tags: readonly string[] }[];
}

/** The run's objects and CPUs, for drawing it. */
export interface World {
  /** Every CPU: the scenario's threads and the daemons (rcu, kworker), in spawn order. */
  readonly cpus: readonly {
    readonly name: string;
    readonly task: string;
    readonly daemon: boolean;
  }[];
  /** Context of each CPU before the first step. */
  readonly initial: Readonly<Record<string, CpuState>>;
  readonly tables: readonly TableInfo[];
  readonly pages: readonly PageLife[];
  /** What the setup (before the first step) did to tables. */
  readonly setup: readonly TableEvent[];
  /** struct page of every page that held a table, at the end of the run. */
  readonly slots: readonly PageSlots[];
  readonly pageSize: number;
}

const IDLE: CpuState = { locks: [], rcu: 0, irqsOff: false, softirq: false, ipis: [] };
const FLAG_NAMES = Object.entries(PG) as [string, number][];
const SHOWN_WORDS = 4;

function cpuState(c: Kernel['cpus'][number]): CpuState {
  return {
    locks: c.held.map((h) => `${h.lock.id}${h.mode === 'shared' ? '(r)' : ''}`),
    rcu: c.rcuNesting,
    irqsOff: c.irqOff > 0,
    softirq: c.inSoftirq,
    ipis: c.pendingIpis.map((i) => i.name),
  };
}

const sameState = (a: CpuState, b: CpuState): boolean =>
  a.rcu === b.rcu &&
  a.irqsOff === b.irqsOff &&
  a.softirq === b.softirq &&
  a.locks.join('\n') === b.locks.join('\n') &&
  a.ipis.join('\n') === b.ipis.join('\n');

const PAGE_OBJ = /^(?:page|ptl of) pfn (\d+)$/;

const at = (e: LazyEvent | null): { step: number; what: string } | undefined =>
  e ? { step: e.step, what: eventWhat(e) } : undefined;

/** A page life as it is being recorded. */
interface Life {
  readonly pfn: number;
  readonly gen: number;
  readonly from: number;
  to?: number;
  /** Its page went back to the allocator (reported once). */
  freed: boolean;
  readonly tables: string[];
}

interface TableSeen {
  gen: number;
  label: string;
  state: string;
  linkedFrom: string | null;
}

/** Watches one recorded run: call touches() before a step's effect, after() once it is done. */
export class Observer {
  private readonly k: Kernel;
  private readonly cpus = new Map<string, CpuState>();
  private readonly tablesSeen = new Map<number, TableSeen>();
  private readonly pageGen = new Map<number, number>();
  private readonly queued = new Set<object>();
  private readonly tables: TableInfo[] = [];
  private readonly lives: Life[] = [];
  private readonly initial: Record<string, CpuState> = {};
  private readonly setup: TableEvent[];
  private pending: Touch[] = [];

  constructor(k: Kernel) {
    this.k = k;
    for (const c of k.cpus) {
      const s = cpuState(c);
      this.cpus.set(c.name, s);
      this.initial[c.name] = s;
    }
    this.setup = this.diff(-1);
  }

  /** The footprint of `step`, about to be taken (evaluated as the scheduler evaluates it). */
  touches(step: Step): void {
    const packed = stepFootprint(step);
    const out: Touch[] = [];
    for (const p of packed) {
      const obj = describeObj(objOf(p));
      const m = PAGE_OBJ.exec(obj);
      out.push({ obj, write: writes(p), ...(m ? { pfn: Number(m[1]) } : {}) });
    }
    this.pending = out;
  }

  /** The step `rec` is done (or raised a finding): attach what it did. */
  after(rec: StepRecord): void {
    const cpus: Record<string, CpuState> = {};
    for (const c of this.k.cpus) {
      const s = cpuState(c);
      const was = this.cpus.get(c.name) ?? IDLE;
      if (!sameState(s, was)) cpus[c.name] = s;
      this.cpus.set(c.name, s);
    }
    const observed: StepObservation = { touches: this.pending, cpus, events: this.diff(rec.n) };
    this.pending = [];
    (rec as { observed?: StepObservation }).observed = observed;
  }

  /** What changed in the page tables, their pages and the RCU queue since the last look. */
  private diff(step: number): TableEvent[] {
    const k = this.k;
    const ev: TableEvent[] = [];
    const pageSize = k.config.PAGE_SIZE;
    // Pages allocated again start a new life (the tables of the old one are gone with it).
    for (const m of k.pages.all()) {
      const was = this.pageGen.get(m.pfn);
      if (was === m.gen) continue;
      this.pageGen.set(m.pfn, m.gen);
      const old = this.lifeOf(m.pfn);
      if (old && old.to === undefined && was !== undefined) {
        old.to = step;
        for (const t of old.tables)
          ev.push({
            table: t,
            kind: 'reused',
            detail: `pfn ${m.pfn} allocated again (${m.owner})`,
          });
      }
      this.lives.push({ pfn: m.pfn, gen: m.gen, from: step, freed: false, tables: [] });
    }
    for (const t of k.pt.all()) {
      let seen = this.tablesSeen.get(t.pa);
      if (!seen || seen.gen !== t.gen) {
        if (seen && seen.gen !== t.gen)
          ev.push({ table: seen.label, kind: 'reused', detail: `its memory is now ${t.label}` });
        seen = { gen: t.gen, label: t.label, state: 'new', linkedFrom: null };
        this.tablesSeen.set(t.pa, seen);
        this.tables.push({
          label: t.label,
          kind: t.kind,
          pfn: t.pfn,
          pa: t.pa,
          offset: t.pa - t.pfn * pageSize,
          entries: t.entries,
          mm: t.mm?.id ?? null,
          from: step,
        });
        const life = this.lifeOf(t.pfn);
        if (life) life.tables.push(t.label);
        ev.push({
          table: t.label,
          kind: 'allocated',
          detail: `${t.kind} table at pfn ${t.pfn}${t.pa % pageSize ? `+0x${(t.pa % pageSize).toString(16)}` : ''}${t.mm ? ` for mm ${t.mm.id}` : ''}`,
        });
      }
      if (t.linkedFrom !== seen.linkedFrom) {
        if (seen.linkedFrom !== null)
          ev.push({
            table: t.label,
            kind: 'retracted',
            detail: `pmd ${seen.linkedFrom} no longer points to it`,
          });
        if (t.linkedFrom !== null)
          ev.push({
            table: t.label,
            kind: 'populated',
            detail: `pmd ${t.linkedFrom} points to it`,
          });
        seen.linkedFrom = t.linkedFrom;
      }
      if (t.state !== seen.state) {
        if (t.state === 'deferred')
          ev.push({
            table: t.label,
            kind: 'deferred',
            detail: 'pte_free_defer(): must stay a valid, empty table until a grace period ends',
          });
        if (t.state === 'free')
          ev.push({ table: t.label, kind: 'freed', detail: 'its memory went back for reuse' });
        seen.state = t.state;
      }
    }
    for (const m of k.pages.all()) {
      if (m.allocated) continue;
      const life = this.lifeOf(m.pfn);
      if (!life || life.to !== undefined || life.freed) continue;
      life.freed = true;
      for (const t of life.tables)
        ev.push({
          table: t,
          kind: 'page-freed',
          detail: `pfn ${m.pfn} back to the page allocator`,
        });
    }
    // Callbacks queued and taken (a grace period ended) on an rcu_head in a table's page.
    const now = new Set<object>(k.rcu.queue);
    for (const cb of k.rcu.queue) {
      if (this.queued.has(cb)) continue;
      for (const t of this.tablesOfHead(cb.head))
        ev.push({
          table: t,
          kind: 'rcu-queued',
          detail: `call_rcu(${cb.head.label}, ${cb.fnName})`,
        });
    }
    for (const cb of this.queued) {
      if (now.has(cb)) continue;
      const c = cb as (typeof k.rcu.queue)[number];
      for (const t of this.tablesOfHead(c.head))
        ev.push({ table: t, kind: 'grace-period', detail: `grace period ended: ${c.fnName} runs` });
    }
    this.queued.clear();
    for (const cb of k.rcu.queue) this.queued.add(cb);
    return ev;
  }

  private lifeOf(pfn: number): Life | undefined {
    for (let i = this.lives.length - 1; i >= 0; i--) {
      const l = this.lives[i];
      if (l && l.pfn === pfn) return l;
    }
    return undefined;
  }

  private tablesOfHead(h: {
    readonly page?: { readonly pfn: number } | undefined;
    readonly pa?: number | undefined;
  }): readonly string[] {
    const pfn = h.page
      ? h.page.pfn
      : h.pa !== undefined
        ? Math.floor(h.pa / this.k.config.PAGE_SIZE)
        : undefined;
    return pfn === undefined ? [] : (this.lifeOf(pfn)?.tables ?? []);
  }

  /** The run's objects as it leaves them. */
  world(): World {
    const k = this.k;
    const pfns = [...new Set(this.tables.map((t) => t.pfn))].sort((a, b) => a - b);
    const slots: PageSlots[] = pfns.map((pfn) => {
      const m = k.pages.raw(pfn);
      const lru = at(m.lru.writer);
      const index = at(m.index.writer);
      const life = this.lifeOf(pfn);
      return {
        pfn,
        allocated: m.allocated,
        owner: m.owner,
        flags: FLAG_NAMES.filter(([, f]) => m.testFlag(f)).map(([n]) => n),
        refcount: m.refcount,
        lru: { holder: m.lru.holder, ...(lru ? { at: lru } : {}) },
        index: { holder: m.index.holder, ...(index ? { at: index } : {}) },
        ptl: m.ptl?.id ?? null,
        words: (life?.tables ?? []).map((label) => {
          const t = this.tables.find((x) => x.label === label) as TableInfo;
          const tags: string[] = [];
          for (let i = 0; i < Math.min(SHOWN_WORDS, t.entries); i++)
            tags.push(TAG_NAMES[k.mem.tag(t.pa + i * k.mem.wordSize) as TagValue] ?? '?');
          return { table: label, tags };
        }),
      };
    });
    return {
      cpus: k.allTasks.map((t) => ({ name: t.ctx.cpu.name, task: t.name, daemon: t.daemon })),
      initial: this.initial,
      tables: this.tables,
      pages: this.lives
        .filter((l) => l.tables.length > 0)
        .map(({ pfn, gen, from, to, tables }) => ({
          pfn,
          gen,
          from,
          ...(to !== undefined ? { to } : {}),
          tables,
        })),
      setup: this.setup,
      slots,
      pageSize: k.config.PAGE_SIZE,
    };
  }
}
