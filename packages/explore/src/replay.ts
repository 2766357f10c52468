import { type Finding, TraceError, visible } from '@ptlab/core';
import {
  type Choice,
  type Chooser,
  type Execution,
  execute,
  labelOf,
  type Program,
} from './execution.js';
import type { Trace } from './trace.js';

function mismatch(message: string): TraceError {
  return new TraceError(
    'E_TRACE_MISMATCH',
    visible(`trace does not match the code it is replayed on: ${message}`),
  );
}

/**
 * Re-execute a recorded schedule exactly, and use it up exactly. At every
 * decision the named task must be runnable and about to do the recorded
 * thing; the run must not go on past the schedule, and the schedule must not
 * go on past the run (steps after a finding, or after every task ended).
 * Otherwise the trace does not match this model and replay says where.
 */
export function replaySchedule(
  program: Program,
  schedule: readonly Choice[],
  maxSteps = schedule.length + 1,
): Execution {
  let why: string | null = null;
  const choose: Chooser = (runnable, depth) => {
    const want = schedule[depth];
    if (!want) {
      why = `the recorded schedule ends after ${schedule.length} steps but the run goes on (${runnable.map((t) => t.name).join(', ')} still runnable)`;
      return null;
    }
    const t = runnable.find((x) => x.name === want.task);
    if (!t) {
      why = `step ${depth}: the trace runs ${want.task} ("${want.at}"), but ${want.task} is not runnable here (runnable: ${runnable.map((x) => x.name).join(', ')})`;
      return null;
    }
    const at = t.pending ? labelOf(t, t.pending) : '';
    if (at !== want.at) {
      why = `step ${depth}: the trace has ${want.task} at "${want.at}", but this model has it at "${at}"`;
      return null;
    }
    return t;
  };
  const ex = execute(program, choose, { maxSteps, record: true });
  if (why) throw mismatch(why);
  const left = schedule.length - ex.steps;
  if (left > 0 && ex.finding)
    throw mismatch(
      `trace has ${left} steps after its finding at step ${ex.finding.step} (${ex.finding.check})`,
    );
  if (left > 0)
    throw mismatch(
      `the run ended after ${ex.steps} steps, but the trace has ${schedule.length} (${left} left over)`,
    );
  return ex;
}

/** The trace's finding came out again: same check, same step, same message, the schedule used up exactly. */
export interface Reproduced {
  readonly verdict: 'reproduced';
  readonly finding: Finding;
  readonly execution: Execution;
}

/** Anything else, with the TraceError (E_TRACE_MISMATCH) that says what differs. */
export interface NotReproduced {
  readonly verdict: 'not-reproduced';
  /** `schedule`: the model departs from the recorded steps, or they are not used up exactly. */
  readonly reason: 'schedule' | 'no-finding' | 'other-finding';
  readonly error: TraceError;
  /** The replayed run, when it got to its end. */
  readonly execution: Execution | null;
}

export type ReplayResult = Reproduced | NotReproduced;

/**
 * Replay a parsed trace on `program` (built from the trace's arch, scenario
 * and mutant). "Same finding reproduced" means `verdict === 'reproduced'`:
 * the schedule was followed step by step and used up exactly, and the check
 * that fired, its step and its message are the trace's.
 */
export function replayTrace(program: Program, trace: Trace, source = 'trace'): ReplayResult {
  let ex: Execution;
  try {
    ex = replaySchedule(program, trace.schedule);
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    return { verdict: 'not-reproduced', reason: 'schedule', error: e, execution: null };
  }
  const want = trace.finding;
  const f = ex.finding;
  if (!f)
    return {
      verdict: 'not-reproduced',
      reason: 'no-finding',
      error: mismatch(
        `replay of ${source} ran all ${trace.schedule.length} steps but no check fired (the trace says ${want.check} at step ${want.step})`,
      ),
      execution: ex,
    };
  if (f.check !== want.check || f.step !== want.step || f.message !== want.message)
    return {
      verdict: 'not-reproduced',
      reason: 'other-finding',
      error: mismatch(
        `replay of ${source} found ${f.check} at step ${f.step} ("${f.message}"), but the trace says ${want.check} at step ${want.step} ("${want.message}")`,
      ),
      execution: ex,
    };
  return { verdict: 'reproduced', finding: f, execution: ex };
}
