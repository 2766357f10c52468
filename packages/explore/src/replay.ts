import { TraceError } from '@ptlab/core';
import {
  type Choice,
  type Chooser,
  type Execution,
  execute,
  labelOf,
  type Program,
} from './execution.js';

/**
 * Re-execute a recorded schedule exactly. At every decision the named task
 * must be runnable and about to do the recorded thing; otherwise the trace
 * does not match this model and replay says where.
 */
export function replaySchedule(
  program: Program,
  schedule: readonly Choice[],
  maxSteps = schedule.length + 1,
): Execution {
  let mismatch: string | null = null;
  const choose: Chooser = (runnable, depth) => {
    const want = schedule[depth];
    if (!want) {
      mismatch = `the recorded schedule ends after ${schedule.length} steps but the run goes on (${runnable.map((t) => t.name).join(', ')} still runnable)`;
      return null;
    }
    const t = runnable.find((x) => x.name === want.task);
    if (!t) {
      mismatch = `step ${depth}: the trace runs ${want.task} ("${want.at}"), but ${want.task} is not runnable here (runnable: ${runnable.map((x) => x.name).join(', ')})`;
      return null;
    }
    const at = t.pending ? labelOf(t, t.pending) : '';
    if (at !== want.at) {
      mismatch = `step ${depth}: the trace has ${want.task} at "${want.at}", but this model has it at "${at}"`;
      return null;
    }
    return t;
  };
  const ex = execute(program, choose, { maxSteps, record: true });
  if (mismatch)
    throw new TraceError(
      'E_TRACE_MISMATCH',
      `trace does not match the code it is replayed on: ${mismatch}`,
    );
  return ex;
}
