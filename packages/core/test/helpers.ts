/**
 * Test helpers for @ptlab/core: a small ArchConfig for GenericArch, boot-time
 * setup of page tables, and a minimal deterministic driver.
 *
 * core must not depend on @ptlab/explore (explore depends on core: a
 * devDependency would make a package cycle), so `Sim` mirrors the semantics of
 * explore/src/execution.ts execute(): boot, startDaemons(), start every task,
 * then repeatedly pick a runnable task and advance it (k.stepNo counts steps);
 * no runnable task while a non-daemon task is unfinished is a `deadlock`
 * finding; once every task is done an optional teardown task runs, then
 * k.checkLeaks(). Checks fire by throwing BugFound, which the driver returns.
 */
import {
  type ArchConfig,
  BugFound,
  type CheckId,
  type Ctx,
  GENERIC_CONFIG,
  GenericArch,
  Kernel,
  type KernelOptions,
  type KGen,
  type Mm,
  memRcuHead,
  mmDecNrPtes,
  type PmdPtr,
  type PtePtr,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pteAlloc,
  pteLockptr,
  pteOffsetMapLock,
  pteUnmapUnlock,
  type RcuHead,
  type RelatedEvent,
  runToEnd,
  SINGLE_DEPTH_NESTING,
  setPteAt,
  spinLock,
  spinUnlock,
  type Task,
} from '../src/index.js';

/** x86-64-like constants (the GenericArch encoding is x86-64's), named as a test config. */
export const TEST_CONFIG: ArchConfig = {
  ...GENERIC_CONFIG,
  id: 'test-generic',
  arch: 'test',
  description: 'GenericArch with x86-64 constants, for core unit tests',
};

export function testConfig(over: Partial<ArchConfig> = {}): ArchConfig {
  return { ...TEST_CONFIG, ...over };
}

/** A fresh kernel on GenericArch. */
export function newKernel(
  over: Partial<ArchConfig> = {},
  opts: Omit<KernelOptions, 'arch'> = {},
): Kernel {
  const k = new Kernel({ ...opts, arch: new GenericArch(testConfig(over)) });
  // These tests drive tasks by hand and read the story's notes, as a recording explorer would.
  k.recording = true;
  return k;
}

/** Address of the first page of the n-th pmd range (2 MiB each with the test config). */
export function pmdAddr(n: number): number {
  return n * TEST_CONFIG.PTRS_PER_PTE * TEST_CONFIG.PAGE_SIZE;
}

/** Setup (boot context): give `addr` a PTE table; returns the pmd slot and the table's address. */
export function populate(k: Kernel, mm: Mm, addr: number): { pmdp: PmdPtr; pa: number } {
  const ctx = k.boot;
  const pmdp = pmdOffset(ctx, mm, addr);
  const rc = runToEnd(pteAlloc(ctx, mm, pmdp));
  if (rc !== 0) throw new Error(`populate: pte_alloc failed (${rc})`);
  const v = runToEnd(pmdpGet(ctx, pmdp));
  if (!v.table) throw new Error('populate: pmd has no table');
  return { pmdp, pa: v.table.pa };
}

/** Setup (boot context): install a PTE for `pfn` at `addr`, under the table's ptl. */
export function mapPage(k: Kernel, mm: Mm, addr: number, pfn: number): PtePtr {
  const ctx = k.boot;
  const pmdp = pmdOffset(ctx, mm, addr);
  const r = runToEnd(pteOffsetMapLock(ctx, mm, pmdp, addr));
  if (!r) throw new Error('mapPage: no table');
  runToEnd(setPteAt(ctx, mm, r.pte, k.arch.mkPte(pfn, { write: true })));
  runToEnd(pteUnmapUnlock(ctx, r.pte, r.ptl));
  return r.pte;
}

/**
 * retract_page_tables() (mm/khugepaged.c, v6.6) reduced to one pmd: pmd_lock,
 * the table's ptl nested, clear the pmd, unlock, mm_dec_nr_ptes, then
 * pte_free_defer() — or, with `free: 'now'`, pte_free() at once (the bug the
 * series is about: lockless walkers may still be inside the table).
 */
export function retractTable(
  ctx: Ctx,
  mm: Mm,
  pmdp: PmdPtr,
  pa: number,
  free: 'defer' | 'now' = 'defer',
): KGen {
  return ctx.call(
    'retract_page_tables',
    (function* () {
      const pml = yield* pmdLock(ctx, mm, pmdp);
      const ptl = pteLockptr(ctx, mm, yield* pmdpGet(ctx, pmdp));
      if (ptl !== pml) yield* spinLock(ctx, ptl, SINGLE_DEPTH_NESTING);
      yield* pmdpGetAndClear(ctx, mm, pmdp);
      if (ptl !== pml) yield* spinUnlock(ctx, ptl);
      yield* spinUnlock(ctx, pml);
      mmDecNrPtes(ctx, mm);
      if (free === 'defer') yield* ctx.k.arch.pteFreeDefer(ctx, mm, pa);
      else yield* ctx.k.arch.pteFree(ctx, mm, pa);
    })(),
  );
}

/** A kernel body from a plain generator function (for readability in tests). */
export type Body = (ctx: Ctx) => KGen<unknown>;

export interface Outcome {
  readonly finding: Bug | null;
  /** Task name run at each step. */
  readonly picks: readonly string[];
  readonly k: Kernel;
}

/**
 * A step-by-step driver over one kernel. Tests either script the interleaving
 * (`until`, `step`, `finish`) or let it run (`drain`). Findings are thrown as
 * BugFound from the scripted calls; `drain` and `run` return them.
 */
export class Sim {
  readonly k: Kernel;
  readonly picks: string[] = [];
  private prev: Task | null = null;
  private teardownStarted = false;
  private readonly teardown: Body | undefined;

  constructor(k: Kernel, opts: { teardown?: Body } = {}) {
    this.k = k;
    this.teardown = opts.teardown;
    k.startDaemons();
    for (const t of k.allTasks) t.start();
  }

  task(name: string): Task {
    const t = this.k.allTasks.find((x) => x.name === name);
    if (!t) throw new Error(`no task ${name}`);
    return t;
  }

  runnable(name: string): boolean {
    return this.task(name).runnable;
  }

  /** The task has a pending step it cannot take now (a lock, an IPI, a grace period). */
  blocked(name: string): boolean {
    const t = this.task(name);
    return !t.done && t.pending !== null && !t.runnable;
  }

  /** What the task is about to do. */
  pending(name: string): string {
    return this.task(name).pendingLabel ?? '(done)';
  }

  private advance(t: Task): void {
    this.picks.push(t.name);
    this.prev = t;
    t.advance();
    this.k.stepNo++;
  }

  /** Perform `n` steps of `name`; each must be runnable. */
  step(name: string, n = 1): void {
    for (let i = 0; i < n; i++) {
      const t = this.task(name);
      if (!t.runnable)
        throw new Error(
          `step: ${name} is not runnable (${t.done ? 'done' : `blocked at "${t.pendingLabel}"`})`,
        );
      this.advance(t);
    }
  }

  /** Run `name` until its pending step matches `what` (the step is not performed). */
  until(name: string, what: string | RegExp): void {
    const t = this.task(name);
    const hit = (): boolean => {
      const w = t.pendingLabel ?? '';
      return typeof what === 'string' ? w.includes(what) : what.test(w);
    };
    while (!hit()) {
      if (!t.runnable)
        throw new Error(
          `until(${name}, ${String(what)}): ${t.done ? 'finished' : `blocked at "${t.pendingLabel}"`} first`,
        );
      this.advance(t);
    }
  }

  /** Run `name` to completion without interleaving; it must not block. */
  finish(name: string): void {
    const t = this.task(name);
    while (!t.done) this.step(name);
  }

  /** Let the grace-period daemon run every callback whose grace period has ended. */
  graceperiods(): number {
    let n = 0;
    while (this.runnable('rcu') || this.runnable('kworker')) {
      this.advance(this.runnable('rcu') ? this.task('rcu') : this.task('kworker'));
      n++;
    }
    return n;
  }

  /**
   * Run to the end: the previous task goes on while it can, else the first
   * runnable non-daemon task, else a daemon. Returns the finding, if any.
   */
  drain(maxSteps = 10_000): Bug | null {
    return catchBug(() => {
      for (;;) {
        const k = this.k;
        if (!this.teardownStarted && k.tasks.every((t) => t.done)) {
          this.teardownStarted = true;
          if (this.teardown) {
            k.spawn('teardown', this.teardown).start();
            continue;
          }
        }
        const runnable = k.allTasks.filter((t) => t.runnable);
        if (runnable.length === 0) {
          const stuck = k.tasks.filter((t) => !t.done);
          if (stuck.length)
            throw new BugFound(
              'deadlock',
              `no CPU can make progress: ${stuck.map((t) => `${t.name} waits at "${t.pendingLabel}"`).join('; ')}`,
            );
          break;
        }
        if (this.picks.length >= maxSteps) throw new Error('drain: step budget exhausted');
        const prev = this.prev;
        const t =
          (prev && runnable.includes(prev) ? prev : undefined) ??
          runnable.find((x) => !x.daemon) ??
          (runnable[0] as Task);
        this.advance(t);
      }
      if (this.teardown) this.k.checkLeaks(this.k.boot);
    });
  }
}

/** A finding as tests see it: the check, the message without its "<check>: " prefix, the causes. */
export interface Bug {
  readonly check: CheckId;
  readonly message: string;
  readonly related: readonly RelatedEvent[];
}

/** Run `fn`; return the finding it raised (null if none). Other errors propagate. */
export function catchBug(fn: () => void): Bug | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!(e instanceof BugFound)) throw e;
    const prefix = `${e.check}: `;
    const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return { check: e.check, message, related: e.related };
  }
}

/**
 * Boot `build()` and run it: first the scripted `order` (task names, each
 * must be runnable), then `drain()`. The kernel's tasks must be spawned by
 * `build`; daemons are started here.
 */
export function run(
  build: () => Kernel,
  order: readonly string[] = [],
  opts: { teardown?: Body } = {},
): Outcome {
  const sim = new Sim(build(), opts);
  const scripted = catchBug(() => {
    for (const name of order) sim.step(name);
  });
  const finding = scripted ?? sim.drain();
  return { finding, picks: sim.picks, k: sim.k };
}

/**
 * Every interleaving of a small program (no bound, no reduction): stateless
 * DFS that re-boots for every schedule and replays the prefix. `visit` sees
 * each finished schedule's outcome. Returns the number of schedules.
 */
export function forEachSchedule(
  build: () => Kernel,
  visit: (o: Outcome) => void,
  limit = 20_000,
): number {
  // Each frame: the runnable names at that depth and which one is being explored.
  const stack: { options: string[]; i: number }[] = [];
  let count = 0;
  for (;;) {
    const k = build();
    const sim = new Sim(k);
    let depth = 0;
    const finding = catchBug(() => {
      for (;;) {
        const runnable = k.allTasks.filter((t) => t.runnable).map((t) => t.name);
        if (runnable.length === 0) {
          const stuck = k.tasks.filter((t) => !t.done);
          if (stuck.length)
            throw new BugFound(
              'deadlock',
              `no CPU can make progress: ${stuck.map((t) => t.name).join(', ')}`,
            );
          return;
        }
        let frame = stack[depth];
        if (!frame) {
          frame = { options: runnable, i: 0 };
          stack.push(frame);
        }
        const name = frame.options[frame.i];
        if (name === undefined || runnable.join() !== frame.options.join())
          throw new Error('forEachSchedule: the program is not deterministic');
        sim.step(name);
        depth++;
      }
    });
    stack.length = Math.min(stack.length, depth + (finding ? 1 : 0));
    visit({ finding, picks: sim.picks, k });
    if (++count >= limit) throw new Error(`forEachSchedule: more than ${limit} schedules`);
    // Backtrack to the deepest frame with an unexplored option.
    while (stack.length) {
      const top = stack[stack.length - 1] as { options: string[]; i: number };
      if (top.i + 1 < top.options.length) {
        top.i++;
        break;
      }
      stack.pop();
    }
    if (!stack.length) return count;
  }
}

const heads = new WeakMap<Kernel, { pa: number; names: string[] }>();
/**
 * An rcu_head with storage of its own, for tests of the RCU engine: slots in a
 * page set aside at boot, one per name (call_rcu() derives identity from where
 * a head lives, so a test needs real storage too).
 */
export function rcuHeadIn(k: Kernel, name: string): RcuHead {
  let h = heads.get(k);
  if (!h) {
    h = { pa: k.pages.allocNow(k.boot, 'test rcu_heads').pfn * k.config.PAGE_SIZE, names: [] };
    heads.set(k, h);
  }
  let i = h.names.indexOf(name);
  if (i < 0) i = h.names.push(name) - 1;
  return memRcuHead(h.pa + i * 2 * k.config.pteSize, name);
}
