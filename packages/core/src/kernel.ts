import type { ArchConfig, ArchImpl } from './arch-port.js';
import { bug } from './checks.js';
import { Ctx, Task } from './context.js';
import { Cpu } from './cpu.js';
import { type FootprintEntry, Global, globalObj, type ObjId } from './deps.js';
import { Lockdep, SpinLock } from './locks.js';
import { PhysMem, Tag, writtenRange } from './memory.js';
import { AddressSpace, Folio, Mm } from './mm.js';
import { PG } from './page.js';
import { allocatorPfnEnd, PageAllocator } from './page-alloc.js';
import { PageTables } from './pgtable-registry.js';
import { Rcu, rcuDaemon } from './rcu.js';
import type { KCall, KGen } from './step.js';
import type { LeafClear } from './tlb-check.js';

export interface KernelOptions {
  readonly arch: ArchImpl;
  /** Historical mm/core variants switched on (mutants), by id. */
  readonly variants?: Iterable<string>;
  /**
   * Every variant id has() is asked about goes here, on or off: what code a
   * search reached that a mutant could change (conformance's mutant reach).
   */
  readonly consulted?: Set<string> | undefined;
  /** Fault injection points switched on (e.g. tlb-batch-nomem). */
  readonly inject?: Iterable<string>;
}

/** The workqueue's dependency object. */
const WORKQUEUE = globalObj(Global.workqueue);
/** Creating a data folio: its pfns and creation number come from one counter. */
export const FOLIO_ALLOC = globalObj(Global.folioAlloc);

/**
 * One simulated boot: memory, allocator, RCU, locks, CPUs and tasks. The
 * explorer builds a fresh Kernel for every schedule it runs.
 */
/**
 * The `recording` of Kernels constructed from now on: true (a kernel built by a
 * test or a tool records); the explorer turns it off around Program.boot() of
 * its search runs. Module state, not a static field: the child processes that
 * run arch modules freeze ptlab's classes.
 */
let recordingNext = true;

/** Set whether Kernels constructed from now on record (see Kernel.recording). */
export function recordNextKernels(on: boolean): void {
  recordingNext = on;
}

/**
 * worker_thread() — kernel/workqueue.c: runs queued work items in order. A
 * named generator function: V8 keeps the context of a generator closure it
 * has run alive across young GCs, and with it the whole kernel (pgtable.ts).
 */
function* kworker(ctx: Ctx, work: { name: string; fn: (ctx: Ctx) => KGen }[]): KGen {
  for (;;) {
    yield ctx.step('run queued work', WORKQUEUE, 'w', () => work.length > 0);
    const w = work.shift();
    if (w) yield* ctx.call(w.name, w.fn(ctx));
  }
}

export class Kernel {
  readonly arch: ArchImpl;
  readonly config: ArchConfig;
  readonly mem: PhysMem;
  readonly pages: PageAllocator;
  readonly pt: PageTables;
  readonly lockdep = new Lockdep();
  readonly rcu: Rcu;
  readonly cpus: Cpu[] = [];
  readonly tasks: Task[] = [];
  readonly daemons: Task[] = [];
  readonly mms: Mm[] = [];
  readonly files: AddressSpace[] = [];
  /** Data folios live outside the page allocator, in their own pfn range (they are not page tables). */
  readonly folios: Folio[] = [];
  /** Above every pfn the page allocator can hand out (page-alloc.ts allocatorPfnEnd()), at a 2^30 boundary. */
  private nextFolioPfn: number;
  private readonly variantSet: ReadonlySet<string>;
  private readonly consulted: Set<string> | undefined;
  private readonly injectSet: ReadonlySet<string>;
  private readonly work: { name: string; fn: (ctx: Ctx) => KGen }[] = [];
  /** Steps executed so far; the scheduler advances it. */
  stepNo = 0;
  /** The stale-TLB check's record of cleared leaf entries (tlb-check.ts), made at the first clear. */
  leafClears: Map<number, LeafClear[]> | null = null;
  /** Notes made during the current step, collected by the scheduler for the story. */
  notes: string[] = [];
  /**
   * Whether the run records a story: notes are kept and the call chain is
   * tracked (search runs skip both). Set at construction from
   * recordNextKernels(), because task bodies may enter their first kernel
   * function when they are spawned, inside Program.boot().
   */
  recording: boolean;

  /** The context setup code runs in (not a racing CPU). */
  readonly boot: Ctx;

  constructor(opts: KernelOptions) {
    this.recording = recordingNext;
    this.arch = opts.arch;
    this.config = opts.arch.config;
    this.variantSet = new Set(opts.variants ?? []);
    this.consulted = opts.consulted;
    this.injectSet = new Set(opts.inject ?? []);
    this.mem = new PhysMem(this.config.PAGE_SIZE, this.config.pteSize);
    this.pt = new PageTables(this.config.PAGE_SIZE);
    this.pages = new PageAllocator(this.config.pfnBase ?? 1, this.config.pfnStride ?? 1);
    const end = allocatorPfnEnd(this.config.pfnBase ?? 1, this.config.pfnStride ?? 1);
    this.nextFolioPfn = Math.ceil(end / 2 ** 30) * 2 ** 30;
    this.rcu = new Rcu(() => this.cpus);
    this.boot = new Ctx(this, new Cpu(-1, 'boot'));
  }

  /** Is historical variant `id` (a mutant of mm or core) switched on? */
  has(id: string): boolean {
    this.consulted?.add(id);
    return this.variantSet.has(id);
  }

  /**
   * Arch code that the port's variant `id` runs differently is about to run
   * (ArchVariant.reachRecorded): recorded like has(), for mutant reach; it
   * changes nothing in the run. The arch's variant itself is chosen at
   * create(), so has() would answer false for it.
   */
  reach(id: string): void {
    this.consulted?.add(id);
  }

  injected(id: string): boolean {
    return this.injectSet.has(id);
  }

  /** Note what the current step did, for the story. Pass a function so nothing is built when not recording. */
  note(text: string | (() => string)): void {
    if (this.recording) this.notes.push(typeof text === 'string' ? text : text());
  }

  /** A new CPU running `body`; a task with `mm` puts its CPU in that mm's cpumask. */
  spawn(
    name: string,
    body: (ctx: Ctx) => KCall<unknown>,
    opts: { mm?: Mm; daemon?: boolean } = {},
  ): Task {
    const cpu = new Cpu(this.cpus.length, opts.daemon ? name : `cpu${this.cpus.length}`);
    this.cpus.push(cpu);
    if (opts.mm) {
      cpu.mm = opts.mm;
      opts.mm.cpumask.add(cpu);
    }
    const ctx = new Ctx(this, cpu);
    const task = new Task(name, ctx, body(ctx), opts.daemon ?? false, this.taskCount++);
    (opts.daemon ? this.daemons : this.tasks).push(task);
    this.taskCache = null;
    return task;
  }
  private taskCount = 0;

  /** Start the grace-period engine and the workqueue; call once, after the scenario's tasks are spawned. */
  startDaemons(): void {
    this.spawn('rcu', rcuDaemon, { daemon: true });
    const work = this.work;
    this.spawn('kworker', (ctx) => kworker(ctx, work), { daemon: true });
  }

  /** schedule_work(): run `fn` later in process context (a kworker). */
  deferWork(name: string, fn: (ctx: Ctx) => KGen): void {
    this.work.push({ name, fn });
  }

  get pendingWork(): number {
    return this.work.length;
  }

  private taskCache: Task[] | null = null;
  /** Every task in spawn order, i.e. by Task.index (cached: the scheduler asks at every step). */
  get allTasks(): Task[] {
    if (!this.taskCache)
      this.taskCache = [...this.tasks, ...this.daemons].sort((a, b) => a.index - b.index);
    return this.taskCache;
  }

  /** mm_alloc() + pgd_alloc(): an mm with its pmd table (upper levels folded). */
  createMm(id: string): Mm {
    const ctx = this.boot;
    const mm = new Mm(id, this.mms.length);
    const page = this.pages.allocNow(ctx, `pmd table of mm ${id}`);
    const pa = page.pfn * this.config.PAGE_SIZE;
    const entries = Math.min(this.config.PTRS_PER_PMD, this.mem.wordsPerPage);
    const t = this.pt.constructed(ctx, pa, 'pmd', entries, mm);
    page.setFlag(PG.table);
    page.ptl = new SpinLock(`pmd ptl of mm ${id}`, 'ptlock', { pfn: page.pfn, gen: page.gen });
    this.mem.fill(pa, entries, this.arch.pmdEmpty, Tag.pmd);
    mm.pmdTable = this.pt.refOf(t);
    this.arch.initContext(ctx, mm);
    this.mms.push(mm);
    return mm;
  }

  createFile(id: string, shmem: boolean): AddressSpace {
    const f = new AddressSpace(id, shmem, this.files.length);
    this.files.push(f);
    return f;
  }

  /**
   * A folio of 2^order pages in `mapping` at page index `index` (or anonymous).
   * During a run, the step that creates one must declare FOLIO_ALLOC (and the
   * page cache it goes into).
   */
  createFolio(id: string, order: number, mapping: AddressSpace | null, index: number): Folio {
    const f = new Folio(id, this.nextFolioPfn, order, mapping, index, this.folios.length);
    this.nextFolioPfn += 2 ** Math.max(order, 9);
    this.folios.push(f);
    if (mapping) mapping.pageCache.set(index, f);
    return f;
  }

  /** The folio a pfn belongs to (pfn_folio()). */
  folioOf(pfn: number): Folio | undefined {
    for (const f of this.folios) if (pfn >= f.pfn && pfn < f.pfn + f.nrPages) return f;
    return undefined;
  }

  /** The page_table_check objects of the folios a page table's entries map (footprint of page_table_check_pte_clear_range()). */
  foliosMappedBy(ref: { readonly pa: number }): FootprintEntry[] {
    const out: ObjId[] = [];
    const a = this.arch;
    const t = this.pt.get(ref.pa);
    const n = t?.entries ?? this.config.PTRS_PER_PTE;
    const w = this.mem.words(ref.pa);
    if (!w.values) return out;
    // Entries never written hold the fill: when it is absent, they map nothing.
    const { from, to } =
      a.pteNone(w.fill) || !a.ptePresent(w.fill) ? writtenRange(w, n) : { from: 0, to: n };
    for (let i = from; i < to; i++) {
      const pte = w.values[w.start + i] ?? 0;
      if (a.pteNone(pte) || !a.ptePresent(pte)) continue;
      const f = this.folioOf(a.ptePfn(pte));
      if (f && !out.includes(f.ptcObj)) out.push(f.ptcObj);
    }
    return out;
  }

  /** At the very end: nothing may still be allocated (the scenario's teardown freed what it set up). */
  checkLeaks(ctx: Ctx): void {
    // Boot-reserved memory (PG_reserved, e.g. the sparc32 SRMMU nocache pool) is never freed.
    const left = this.pages.allocated().filter((m) => !m.testFlag(PG.reserved));
    const held = this.folios.filter((f) => f.refcount !== 0);
    if (held.length) {
      bug(
        'page-leak',
        `folio(s) still referenced at teardown: ${held.map((f) => `${f.id} (refcount ${f.refcount}, mapcount ${f.mapcount})`).join(', ')}`,
      );
    }
    if (left.length) {
      const first = left[0];
      bug(
        'page-leak',
        `${left.length} page(s) still allocated at teardown: ${left
          .slice(0, 4)
          .map((m) => `pfn ${m.pfn} (${m.owner})`)
          .join(', ')}${left.length > 4 ? ', ...' : ''}`,
        first?.allocatedAt ? [first.allocatedAt] : [],
      );
    }
    void ctx;
  }
}
