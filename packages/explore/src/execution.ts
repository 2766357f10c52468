import {
  BugFound,
  type Ctx,
  type Finding,
  type Kernel,
  type KGen,
  packFootprint,
  recordNextKernels,
  type Step,
  stepFootprint,
  stepLabel,
  type Task,
} from '@ptlab/core';
import { Observer, type StepObservation, type World } from './observe.js';

/** A program the explorer can run again and again: each boot is a fresh kernel with its tasks spawned. */
export interface Program {
  /** Build a fresh kernel with the scenario's tasks spawned (daemons are started by the explorer). */
  boot(): Kernel;
  /** Runs once every task has finished: exit, truncate, rcu_barrier... then leaks are checked. */
  teardown?: ((ctx: Ctx) => KGen) | undefined;
}

/** One executed step as the story shows it. */
export interface StepRecord {
  readonly n: number;
  readonly task: string;
  readonly cpu: string;
  readonly stack: readonly string[];
  readonly what: string;
  readonly locks: readonly string[];
  readonly rcu: number;
  readonly irqsOff: boolean;
  readonly notes: readonly string[];
  /** Tasks that could have run at this step (who was preempted, if anyone). */
  readonly runnable: readonly string[];
  /** The task this step preempted: a user task that could have gone on (daemons are not preempted). */
  readonly preempts?: string | undefined;
  /** Footprint, context changes and page-table events of the step (recorded runs only, observe.ts). */
  readonly observed?: StepObservation | undefined;
}

/** A decision: which task ran, and what it was about to do (so replay can check it is the same model). */
export interface Choice {
  readonly task: string;
  readonly at: string;
}

/** Picks the next task among the runnable ones. `prev` is the task that ran last. */
export type Chooser = (runnable: readonly Task[], depth: number, prev: Task | null) => Task | null;

export interface ExecOptions {
  readonly maxSteps: number;
  /** Keep full step records (for stories and traces); search runs keep only task indices. */
  readonly record: boolean;
}

export interface Execution {
  readonly finding: Finding | null;
  /** Name of the task chosen at each step. */
  readonly picks: string[];
  readonly choices: Choice[];
  readonly records: StepRecord[];
  readonly steps: number;
  /** The chooser stopped the run (pruned by partial-order reduction). */
  readonly pruned: boolean;
  /** The step budget ran out before the run ended. */
  readonly truncated: boolean;
  /** The kernel as the run left it (for state digests in tests). */
  readonly kernel: Kernel;
  /** Recorded runs: the CPUs, page tables and struct pages of the run (observe.ts). */
  readonly world?: World | undefined;
}

export function labelOf(task: Task, step: Step): string {
  return `${task.ctx.fn}: ${stepLabel(step)}`;
}

/** A step's footprint at this moment, packed (object * 2 + write), appended to `out`. */
export function pendingFootprint(step: Step, out: number[]): void {
  stepFootprint(step, out);
}

/** The objects a pending step only waits on (Step.wait), packed as reads onto `out`. */
export function pendingWait(step: Step, out: number[]): void {
  const w = step.wait;
  if (w === undefined) return;
  packFootprint(typeof w === 'function' ? w() : w, false, out);
}

function findingOf(k: Kernel, e: BugFound, task: Task | null, fn: string | null): Finding {
  const msg = e.message.startsWith(`${e.check}: `)
    ? e.message.slice(e.check.length + 2)
    : e.message;
  return {
    check: e.check,
    message: msg,
    step: k.stepNo,
    cpu: task?.ctx.cpu.name ?? '-',
    fn: fn ?? task?.ctx.fn ?? 'scheduler',
    related: e.related,
  };
}

/**
 * One execution of a program, driven step by step: the caller asks which
 * tasks can run and runs one. `execute()` drives it with a Chooser; the
 * exhaustive search drives it directly. Teardown is spawned (always with the
 * same task index) once every scenario task has finished; the leak check runs
 * when nothing is left to run.
 */
export class Run {
  readonly k: Kernel;
  readonly record: boolean;
  finding: Finding | null = null;
  /** Nothing can run any more: finished, a finding, or a deadlock (also a finding). */
  over = false;
  steps = 0;
  readonly picks: string[] = [];
  readonly choices: Choice[] = [];
  readonly records: StepRecord[] = [];
  /** The teardown task, once spawned (index: after every scenario task and daemon). */
  teardown: Task | null = null;
  /** The task that took the last step. */
  private prev: Task | null = null;
  private readonly program: Program;
  private readonly scratch: Task[] = [];
  private readonly userTasks: Task[];
  /** Recorded runs only: watches what each step did (observe.ts). */
  readonly observer: Observer | null = null;

  constructor(program: Program, record: boolean) {
    this.program = program;
    this.record = record;
    recordNextKernels(record);
    let k: Kernel;
    try {
      k = program.boot();
    } finally {
      recordNextKernels(true);
    }
    this.k = k;
    k.recording = record;
    k.startDaemons();
    this.userTasks = [...k.tasks];
    try {
      for (const t of k.allTasks) t.start();
      this.maybeSpawnTeardown();
    } catch (e) {
      this.fail(e, null, null);
    }
    if (record) this.observer = new Observer(k);
  }

  /** Every task, by index. */
  get tasks(): readonly Task[] {
    return this.k.allTasks;
  }

  /**
   * Tasks that can take a step now, by index (a shared array: copy it to keep it).
   * Computed once per state: settle() and the scheduler both ask between two steps.
   */
  runnable(): Task[] {
    const out = this.scratch;
    if (this.over) {
      out.length = 0;
      return out;
    }
    if (this.runnableAt === this.steps) return out;
    // Overwrite in place: the array is reused from step to step.
    let n = 0;
    const all = this.k.allTasks;
    for (let i = 0; i < all.length; i++) {
      const t = all[i] as Task;
      if (t.runnable) out[n++] = t;
    }
    while (out.length > n) out.pop(); // pop() is inlined; setting length is a runtime call
    this.runnableAt = this.steps;
    return out;
  }
  /** The step count `scratch` was computed at (-1: stale). */
  private runnableAt = -1;

  /** When nothing can run: end the run (leak check, or deadlock). Returns true if the run is over. */
  settle(): boolean {
    if (this.over) return true;
    if (this.runnable().length > 0) return false;
    this.over = true;
    const stuck = this.k.tasks.filter((t) => !t.done);
    try {
      if (stuck.length) {
        throw new BugFound(
          'deadlock',
          `no CPU can make progress: ${stuck.map((t) => `${t.ctx.cpu.name} ${t.name} waits at "${t.pending ? labelOf(t, t.pending) : '?'}"`).join('; ')}`,
        );
      }
      if (this.program.teardown) this.k.checkLeaks(this.k.boot);
    } catch (e) {
      this.fail(e, null, 'scheduler');
    }
    return true;
  }

  /** Take one step of `t` (which must be runnable). */
  step(t: Task, runnable?: readonly Task[]): void {
    const k = this.k;
    const step = t.pending as Step;
    this.picks.push(t.name);
    let rec: StepRecord | null = null;
    if (this.record) {
      const c = t.ctx.cpu;
      this.choices.push({ task: t.name, at: labelOf(t, step) });
      k.notes = [];
      const runs = runnable ?? this.runnable();
      const p = this.prev;
      const preempts = p && p !== t && !p.daemon && runs.includes(p) ? p.name : undefined;
      this.observer?.touches(step);
      rec = {
        n: k.stepNo,
        task: t.name,
        cpu: c.name,
        stack: [...t.ctx.stack],
        what: stepLabel(step),
        locks: c.held.map((h) => `${h.lock.id}${h.mode === 'shared' ? '(r)' : ''}`),
        rcu: c.rcuNesting,
        irqsOff: c.irqOff > 0,
        notes: k.notes,
        runnable: runs.map((x) => x.name),
        ...(preempts ? { preempts } : {}),
      };
      this.records.push(rec);
    }
    this.prev = t;
    const fnBefore = t.ctx.fn;
    try {
      t.advance();
    } catch (e) {
      // The finding is at the step that raised it.
      this.fail(e, t, fnBefore);
      k.stepNo++;
      this.steps++;
      if (rec) this.observer?.after(rec);
      return;
    }
    k.stepNo++;
    this.steps++;
    if (rec) this.observer?.after(rec);
    // The last user task to finish does so at a step of its own (its exit): only then can teardown start.
    if (!t.done) return;
    try {
      this.maybeSpawnTeardown();
    } catch (e) {
      this.fail(e, null, 'teardown');
    }
  }

  private maybeSpawnTeardown(): void {
    if (this.teardown || !this.program.teardown) return;
    const user = this.userTasks;
    for (let i = 0; i < user.length; i++) if (!(user[i] as Task).done) return;
    this.teardown = this.k.spawn('teardown', this.program.teardown);
    this.teardown.start();
  }

  private fail(e: unknown, t: Task | null, fn: string | null): void {
    if (!(e instanceof BugFound)) throw e;
    this.over = true;
    this.finding = findingOf(this.k, e, t, fn);
  }
}

/** Run one schedule of `program`, asking `choose` at every step. */
export function execute(program: Program, choose: Chooser, opts: ExecOptions): Execution {
  const run = new Run(program, opts.record);
  let pruned = false;
  let truncated = false;
  let prev: Task | null = null;
  while (!run.settle()) {
    if (run.steps >= opts.maxSteps) {
      truncated = true;
      break;
    }
    const runnable = run.runnable();
    const t = choose(runnable, run.steps, prev);
    if (!t) {
      pruned = true;
      break;
    }
    prev = t;
    run.step(t, runnable);
  }
  return {
    finding: run.finding,
    picks: run.picks,
    choices: run.choices,
    records: run.records,
    steps: run.steps,
    pruned,
    truncated,
    kernel: run.k,
    ...(run.observer ? { world: run.observer.world() } : {}),
  };
}
