import type { Finding } from '@ptlab/core';
import { type Execution, execute, type Program, type StepRecord } from './execution.js';
import { guidedChooser } from './strategies.js';

/**
 * Context switches away from a user task that could have gone on (what a
 * reader must follow; the exhaustive search's preemption bound counts the same).
 */
export function countPreemptions(records: readonly StepRecord[]): number {
  let n = 0;
  for (const r of records) if (r.preempts) n++;
  return n;
}

function segments(names: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const n of names) {
    const last = out[out.length - 1];
    if (last && last[0] === n) last.push(n);
    else out.push([n]);
  }
  return out;
}

export interface MinimiseResult {
  readonly names: string[];
  readonly execution: Execution;
  readonly runs: number;
}

/**
 * Shrink a failing schedule: repeatedly drop one run of consecutive steps of
 * one task (the guided replay then lets the previous task go on), keeping the
 * change when the same check still fires. Fewer runs means fewer context
 * switches; the run also stops at the finding, so fewer steps.
 */
export function minimise(
  program: Program,
  names: readonly string[],
  finding: Finding,
  maxSteps: number,
  budget = 400,
): MinimiseResult {
  let best = [...names];
  let runs = 0;
  const tryNames = (cand: string[]): Execution | null => {
    runs++;
    const ex = execute(program, guidedChooser(cand), { maxSteps, record: false });
    ex.kernel.mem.release();
    return ex.finding?.check === finding.check ? ex : null;
  };
  let improved = true;
  while (improved && runs < budget) {
    improved = false;
    const segs = segments(best);
    for (let i = segs.length - 1; i >= 0 && runs < budget; i--) {
      const cand = segs.filter((_, j) => j !== i).flat();
      const ex = tryNames(cand);
      if (ex) {
        const executed = ex.picks;
        if (executed.length <= best.length && segments(executed).length < segs.length) {
          best = executed;
          improved = true;
          break;
        }
      }
    }
  }
  const final = execute(program, guidedChooser(best), { maxSteps, record: true });
  return { names: best, execution: final, runs };
}
