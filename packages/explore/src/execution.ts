import {
  BugFound,
  type Ctx,
  type Finding,
  type Kernel,
  type KGen,
  type Step,
  type Task,
} from '@ptlab/core';

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
}

export function labelOf(task: Task, step: Step): string {
  return `${task.ctx.fn}: ${step.what}`;
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

/** Run one schedule of `program`, asking `choose` at every step. */
export function execute(program: Program, choose: Chooser, opts: ExecOptions): Execution {
  const k = program.boot();
  k.recording = opts.record;
  k.startDaemons();
  const picks: string[] = [];
  const choices: Choice[] = [];
  const records: StepRecord[] = [];
  let finding: Finding | null = null;
  let pruned = false;
  let truncated = false;
  let teardownStarted = false;
  let prev: Task | null = null;

  try {
    for (const t of k.allTasks) t.start();
    for (;;) {
      if (!teardownStarted && k.tasks.every((t) => t.done)) {
        teardownStarted = true;
        if (program.teardown) {
          const td = program.teardown;
          k.spawn('teardown', td).start();
          continue;
        }
      }
      const tasks = k.allTasks;
      const runnable = tasks.filter((t) => t.runnable);
      if (runnable.length === 0) {
        const stuck = k.tasks.filter((t) => !t.done);
        if (stuck.length) {
          throw new BugFound(
            'deadlock',
            `no CPU can make progress: ${stuck.map((t) => `${t.ctx.cpu.name} ${t.name} waits at "${t.pending ? labelOf(t, t.pending) : '?'}"`).join('; ')}`,
          );
        }
        break;
      }
      if (picks.length >= opts.maxSteps) {
        truncated = true;
        break;
      }
      const t = choose(runnable, picks.length, prev);
      if (!t) {
        pruned = true;
        break;
      }
      picks.push(t.name);
      if (opts.record) {
        const step = t.pending as Step;
        const c = t.ctx.cpu;
        choices.push({ task: t.name, at: labelOf(t, step) });
        k.notes = [];
        records.push({
          n: k.stepNo,
          task: t.name,
          cpu: c.name,
          stack: [...t.ctx.stack],
          what: step.what,
          locks: c.held.map((h) => `${h.lock.id}${h.mode === 'shared' ? '(r)' : ''}`),
          rcu: c.rcuNesting,
          irqsOff: c.irqOff > 0,
          notes: k.notes,
          runnable: runnable.map((x) => x.name),
        });
      }
      prev = t;
      const fnBefore = t.ctx.fn;
      try {
        t.advance();
      } catch (e) {
        if (e instanceof BugFound) throw Object.assign(e, { task: t, fn: fnBefore });
        throw e;
      }
      k.stepNo++;
    }
    if (!truncated && !pruned && program.teardown) k.checkLeaks(k.boot);
  } catch (e) {
    if (!(e instanceof BugFound)) throw e;
    const at = e as BugFound & { task?: Task; fn?: string };
    finding = findingOf(k, e, at.task ?? null, at.fn ?? null);
  }
  return { finding, picks, choices, records, steps: picks.length, pruned, truncated };
}
