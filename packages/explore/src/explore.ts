import type { Finding } from '@ptlab/core';
import {
  type Choice,
  type Execution,
  execute,
  type Program,
  type StepRecord,
} from './execution.js';
import { countPreemptions, minimise } from './minimise.js';
import { scheduleSeed } from './prng.js';
import {
  ExhaustiveSearch,
  guidedChooser as guidedReplay,
  pctChooser,
  randomChooser,
} from './strategies.js';

export type StrategyName = 'random' | 'pct' | 'exhaustive';
export const STRATEGIES: readonly StrategyName[] = ['random', 'pct', 'exhaustive'];

export interface ExploreOptions {
  readonly strategy: StrategyName;
  /** Schedules to try at most. */
  readonly schedules: number;
  readonly seed: number;
  /** Steps per schedule before the run is cut off. */
  readonly maxSteps?: number;
  /** Exhaustive: context switches allowed per schedule (grace periods are free). */
  readonly preemptionBound?: number;
  /** Exhaustive: sleep-set partial-order reduction (on by default). */
  readonly por?: boolean;
  /** PCT: bug depth. */
  readonly pctDepth?: number;
  /** Shrink a counterexample before returning it (default on). */
  readonly minimise?: boolean;
}

export interface ExploreResult {
  readonly result: 'pass' | 'fail';
  readonly strategy: StrategyName;
  readonly seed: number;
  /** Schedules executed (including minimisation runs not counted). */
  readonly schedules: number;
  /** Steps executed over all schedules. */
  readonly steps: number;
  /** Schedule index (1-based) at which the first counterexample turned up. */
  readonly firstFailureAt: number | null;
  /** Exhaustive search covered its whole bounded space. */
  readonly exhausted: boolean;
  /** Schedules cut off by the step budget (a warning: they proved nothing). */
  readonly truncated: number;
  readonly finding: Finding | null;
  readonly schedule: readonly Choice[];
  readonly records: readonly StepRecord[];
  readonly preemptions: number;
  readonly minimiseRuns: number;
}

/** Run `program` under one strategy until a check fires or the budget is spent. */
export function explore(program: Program, opts: ExploreOptions): ExploreResult {
  const maxSteps = opts.maxSteps ?? 5000;
  let steps = 0;
  let truncated = 0;
  let failing: Execution | null = null;
  let schedules = 0;
  let exhausted = false;
  let horizon = 100;

  if (opts.strategy === 'exhaustive') {
    // Iterative context bounding (CHESS): all schedules with 0 preemptions, then 1, ...
    // so the first counterexample found has the fewest preemptions.
    const top = opts.preemptionBound ?? 2;
    for (let bound = 0; bound <= top && !failing && schedules < opts.schedules; bound++) {
      const search = new ExhaustiveSearch(bound, opts.por ?? true);
      for (;;) {
        if (schedules >= opts.schedules) break;
        const ex = execute(program, search.chooser(), { maxSteps, record: false });
        schedules++;
        steps += ex.steps;
        if (ex.truncated) truncated++;
        if (ex.finding) {
          failing = ex;
          break;
        }
        if (!search.advance()) {
          exhausted = bound === top;
          break;
        }
      }
    }
  } else {
    for (let i = 0; i < opts.schedules; i++) {
      const s = scheduleSeed(opts.seed, i);
      const chooser =
        opts.strategy === 'random' ? randomChooser(s) : pctChooser(s, opts.pctDepth ?? 3, horizon);
      const ex = execute(program, chooser, { maxSteps, record: false });
      schedules++;
      steps += ex.steps;
      horizon = Math.max(horizon, ex.steps);
      if (ex.truncated) truncated++;
      if (ex.finding) {
        failing = ex;
        break;
      }
    }
  }

  const base = { strategy: opts.strategy, seed: opts.seed, schedules, steps, exhausted, truncated };
  if (!failing?.finding) {
    return {
      ...base,
      result: 'pass',
      firstFailureAt: null,
      finding: null,
      schedule: [],
      records: [],
      preemptions: 0,
      minimiseRuns: 0,
    };
  }
  const m =
    opts.minimise === false
      ? {
          names: failing.picks,
          execution: execute(program, guidedReplay(failing.picks), { maxSteps, record: true }),
          runs: 0,
        }
      : minimise(program, failing.picks, failing.finding, maxSteps);
  const final = m.execution;
  return {
    ...base,
    result: 'fail',
    firstFailureAt: schedules,
    finding: final.finding ?? failing.finding,
    schedule: final.choices,
    records: final.records,
    preemptions: countPreemptions(
      final.records.map((r) => r.task),
      final.records.map((r) => r.runnable),
    ),
    minimiseRuns: m.runs,
  };
}
