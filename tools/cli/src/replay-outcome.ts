/**
 * What a recorded schedule does on the code it is replayed on now: the same
 * finding, another one, none (the fix works), or a different path from some
 * step on. Unlike replaySchedule() (which refuses a schedule the model no
 * longer follows), this says where and how the model departs, so a trace can
 * confirm a fix. It runs wherever the port runs (a child for arch modules)
 * and returns plain data.
 */
import type { Finding, Task } from '@ptlab/core';
import {
  type Choice,
  type Chooser,
  type Execution,
  execute,
  guidedChooser,
  labelOf,
  type Program,
} from '@ptlab/explore';
import { z } from 'zod';
import { TraceViewSchema } from './report/view-schema.js';

/** Steps a continued run (after the schedule's end, or after a divergence) may take. */
export const CONTINUE_STEPS = 5000;

export interface FindingData {
  readonly check: string;
  readonly message: string;
  readonly step: number;
  readonly cpu: string;
  readonly fn: string;
}

/** A run that went on past the recorded schedule (or past a divergence) with the default scheduler. */
export interface Continued {
  /** Steps taken after the recorded schedule ended or diverged. */
  readonly steps: number;
  readonly finding: FindingData | null;
  /** The step budget ran out first. */
  readonly truncated: boolean;
}

export type ReplayOutcome =
  /** Every recorded step matched and a check fired: the recorded one, or the same check elsewhere. */
  | {
      readonly kind: 'still-failing';
      /** Same check, step and message as recorded. */
      readonly exact: boolean;
      readonly finding: FindingData;
    }
  /** Every step up to the finding matched, and another check fired (during the schedule, or after it ended). */
  | {
      readonly kind: 'fails-differently';
      readonly finding: FindingData;
      /** It fired after the recorded schedule ended (the run went on with the default scheduler). */
      readonly afterSchedule: boolean;
    }
  /** The recorded schedule ran to its end and no check fired, nor in the rest of the run. */
  | { readonly kind: 'gone'; readonly steps: number; readonly continued: Continued }
  /** At `step` the model no longer does what was recorded. */
  | {
      readonly kind: 'diverged';
      readonly step: number;
      readonly recorded: Choice;
      /** What the model does there now, in words. */
      readonly now: string;
      /** With --continue: what happened when the run went on. */
      readonly continued?: Continued;
    };

const data = (f: Finding): FindingData => ({
  check: f.check,
  message: f.message,
  step: f.step,
  cpu: f.cpu,
  fn: f.fn,
});

/**
 * Replay `schedule` on `program` and classify. With `goOn`, a diverged run
 * goes on: the recorded order of tasks where those tasks can run, otherwise
 * the default scheduler (the task that ran last goes on; else the first
 * runnable thread). A schedule used up without a finding always goes on the
 * same way to the end of the run, so a check at teardown (a leak) still fires.
 */
export function replayOutcome(
  program: Program,
  schedule: readonly Choice[],
  recordedFinding: { readonly check: string; readonly message: string; readonly step: number },
  goOn: boolean,
): { outcome: ReplayOutcome; execution: Execution } {
  let divergence: { step: number; recorded: Choice; now: string } | null = null;
  const names = schedule.map((c) => c.task);
  const fallback = guidedChooser(names);
  const choose: Chooser = (runnable: readonly Task[], depth, prev) => {
    if (divergence || depth >= schedule.length) return fallback(runnable, depth, prev);
    const want = schedule[depth] as Choice;
    const t = runnable.find((x) => x.name === want.task);
    const at = t?.pending ? labelOf(t, t.pending) : null;
    if (t && at === want.at) return t;
    divergence = {
      step: depth,
      recorded: want,
      now: t
        ? `${want.task} "${at}"`
        : `${want.task} cannot run here (runnable: ${runnable.map((x) => `${x.name} "${x.pending ? labelOf(x, x.pending) : ''}"`).join(', ') || 'none'})`,
    };
    return goOn ? fallback(runnable, depth, prev) : null;
  };
  const ex = execute(program, choose, {
    maxSteps: schedule.length + CONTINUE_STEPS,
    record: true,
  });
  const d = divergence as { step: number; recorded: Choice; now: string } | null;
  const past = Math.max(0, ex.steps - (d ? d.step : schedule.length));
  const continued: Continued = {
    steps: past,
    finding: ex.finding ? data(ex.finding) : null,
    truncated: ex.truncated,
  };
  if (d) {
    // A finding before the divergence point belongs to the recorded path; pruned there, none is.
    return {
      outcome: { kind: 'diverged', ...d, ...(goOn ? { continued } : {}) },
      execution: ex,
    };
  }
  if (ex.steps < schedule.length && !ex.finding) {
    // The run ended (every task done) before the recorded schedule did.
    const want = schedule[ex.steps] as Choice;
    return {
      outcome: {
        kind: 'diverged',
        step: ex.steps,
        recorded: want,
        now: 'nothing: every task has finished',
        ...(goOn ? { continued: { steps: 0, finding: null, truncated: false } } : {}),
      },
      execution: ex,
    };
  }
  const f = ex.finding;
  if (!f) return { outcome: { kind: 'gone', steps: schedule.length, continued }, execution: ex };
  // One rule for which finding this is, here and where the parent checks a child's claim.
  return {
    outcome: reclassify(
      { kind: 'fails-differently', finding: data(f), afterSchedule: false },
      { schedule, finding: recordedFinding },
    ),
    execution: ex,
  };
}

/**
 * Classify a finding again against the trace, in the process that read it: a
 * child (an arch module) reports the finding its run ended with, and only
 * that is believed, never its claim that the finding is the recorded one.
 */
export function reclassify(
  o: ReplayOutcome,
  trace: {
    readonly schedule: readonly unknown[];
    readonly finding: { readonly check: string; readonly message: string; readonly step: number };
  },
): ReplayOutcome {
  if (o.kind !== 'still-failing' && o.kind !== 'fails-differently') return o;
  const f = o.finding;
  const want = trace.finding;
  if (f.check === want.check)
    return {
      kind: 'still-failing',
      exact: f.step === want.step && f.message === want.message,
      finding: f,
    };
  return { kind: 'fails-differently', finding: f, afterSchedule: f.step >= trace.schedule.length };
}

/** The first line of a replay's output: what the recorded schedule does on this code. */
export function verdictLine(
  o: ReplayOutcome,
  trace: { readonly finding: { readonly check: string; readonly step: number } },
  where: string,
): string {
  const rec = `${trace.finding.check} at step ${trace.finding.step}`;
  const f = (x: FindingData) => `${x.check} at step ${x.step} on ${x.cpu} (${x.fn}): ${x.message}`;
  const cont = (c: Continued) =>
    c.finding
      ? `a check fired ${c.steps} step(s) on: ${f(c.finding)}`
      : `no check fired in ${c.steps} more step(s)${c.truncated ? ' (stopped by the step budget)' : ', to the end of the run'}`;
  switch (o.kind) {
    case 'still-failing':
      return o.exact
        ? `still failing: ${where}: same finding reproduced (${rec})`
        : `still failing: ${where}: the same check fires, now ${f(o.finding)} (recorded: ${rec})`;
    case 'fails-differently':
      return `still failing, differently: ${where}: ${f(o.finding)}${o.afterSchedule ? ', after the recorded schedule ended (the run went on with the default scheduler)' : ''} (recorded: ${rec})`;
    case 'gone':
      return `finding gone: ${where}: the recorded schedule ran to its end (${o.steps} steps) and no check fired; the run went on with the default scheduler: ${cont(o.continued)} (recorded: ${rec})`;
    case 'diverged':
      return `diverged at step ${o.step}: ${where}: recorded ${o.recorded.task} "${o.recorded.at}", the model now does ${o.now}${o.continued ? `; continued (the recorded task order where it can run, else the default scheduler): ${cont(o.continued)}` : '; --continue goes on from there'}`;
  }
}

/** The exit status of an outcome (README, docs/reading-traces.md). */
export function replayExitCode(o: ReplayOutcome): number {
  switch (o.kind) {
    case 'gone':
      return 0;
    case 'still-failing':
    case 'fails-differently':
      return 1;
    case 'diverged':
      return o.continued?.finding ? 1 : 3;
  }
}

const findingData = z.strictObject({
  check: z.string(),
  message: z.string(),
  step: z.number().int().nonnegative(),
  cpu: z.string(),
  fn: z.string(),
});
const continuedData = z.strictObject({
  steps: z.number().int().nonnegative(),
  finding: findingData.nullable(),
  truncated: z.boolean(),
});

/** What a child sends back for a replay job: checked before the CLI believes it. */
export const ReplayRunSchema = z.strictObject({
  outcome: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('still-failing'), exact: z.boolean(), finding: findingData }),
    z.strictObject({
      kind: z.literal('fails-differently'),
      finding: findingData,
      afterSchedule: z.boolean(),
    }),
    z.strictObject({
      kind: z.literal('gone'),
      steps: z.number().int().nonnegative(),
      continued: continuedData,
    }),
    z.strictObject({
      kind: z.literal('diverged'),
      step: z.number().int().nonnegative(),
      recorded: z.strictObject({ task: z.string(), at: z.string() }),
      now: z.string(),
      continued: continuedData.optional(),
    }),
  ]),
  story: z.string(),
  view: TraceViewSchema.optional(),
});
