import type { Finding } from '@ptlab/core';
import { ExhaustiveSearch } from './dpor.js';
import {
  type Choice,
  type Execution,
  execute,
  type Program,
  type StepRecord,
} from './execution.js';
import { countPreemptions, minimise } from './minimise.js';
import type { World } from './observe.js';
import { scheduleSeed } from './prng.js';
import { type RunTasks, type SplitResult, splitSearch } from './split.js';
import { guidedChooser as guidedReplay, pctChooser, randomChooser } from './strategies.js';

export type StrategyName = 'random' | 'pct' | 'exhaustive';

/** Executions each bounded re-search may spend looking for a counterexample with fewer preemptions. */
const MINIMISE_SEARCH_BUDGET = 2000;
export const STRATEGIES: readonly StrategyName[] = ['random', 'pct', 'exhaustive'];

/**
 * What a result promises (docs/model.md, "Verdicts"):
 *  - `verified`: every interleaving, up to equivalence, was explored (sound
 *    DPOR, no bound) and no check fired;
 *  - `verified-bounded`: the same within `bound` preemptions;
 *  - `sampled`: `executions` schedules ran and no check fired, but they do not
 *    cover every interleaving (a random walk, PCT, or an exhaustive search cut
 *    off by its budget, or with a schedule cut off by the step budget);
 *  - `fail`: a check fired.
 */
export type VerdictKind = 'verified' | 'verified-bounded' | 'sampled' | 'fail';
export const VERDICT_KINDS: readonly VerdictKind[] = [
  'verified',
  'verified-bounded',
  'sampled',
  'fail',
];

export interface ExploreOptions {
  readonly strategy: StrategyName;
  /** Executions to run at most (the budget counts executions, never time). */
  readonly schedules: number;
  readonly seed: number;
  /** Steps per schedule before the run is cut off. */
  readonly maxSteps?: number;
  /** Exhaustive: at most this many preemptions per schedule; absent: no bound. */
  readonly preemptionBound?: number | undefined;
  /** Exhaustive: partial-order reduction (default on); off explores every interleaving. */
  readonly por?: boolean;
  /** PCT: bug depth. */
  readonly pctDepth?: number;
  /** Shrink a counterexample before returning it (default on). */
  readonly minimise?: boolean;
  /** Progress, every few hundred executions (a deterministic count; callers rate-limit). */
  readonly onProgress?: ((p: { executions: number; steps: number }) => void) | undefined;
}

export interface ExploreResult {
  readonly result: 'pass' | 'fail';
  readonly verdict: VerdictKind;
  /** The preemption bound a `verified-bounded` verdict holds within. */
  readonly bound?: number | undefined;
  readonly strategy: StrategyName;
  readonly seed: number;
  /** Executions run (minimisation runs not counted). */
  readonly schedules: number;
  /** Steps executed over all schedules. */
  readonly steps: number;
  /** Schedule index (1-based) at which the first counterexample turned up. */
  readonly firstFailureAt: number | null;
  /** Exhaustive search covered its whole (bounded) space. */
  readonly complete: boolean;
  /** Exhaustive: executions cut short because every runnable thread was asleep (redundant). */
  readonly sleepBlocked: number;
  /** Schedules cut off by the step budget (they proved nothing). */
  readonly truncated: number;
  readonly finding: Finding | null;
  readonly schedule: readonly Choice[];
  readonly records: readonly StepRecord[];
  /** The counterexample run's objects (observe.ts), for stories with one name per page table. */
  readonly world?: World | undefined;
  /** The schedule as the search found it, before minimisation (when it was minimised). */
  readonly found?: readonly Choice[] | undefined;
  readonly preemptions: number;
  readonly minimiseRuns: number;
}

const sameSchedule = (a: readonly Choice[], b: readonly Choice[]): boolean =>
  a.length === b.length && a.every((c, i) => c.task === b[i]?.task && c.at === b[i]?.at);

/** What a search found, before the verdict and the counterexample are made of it. */
interface Searched {
  readonly schedules: number;
  readonly steps: number;
  readonly truncated: number;
  readonly complete: boolean;
  readonly sleepBlocked: number;
  readonly failingPicks: readonly string[] | null;
  readonly failingFinding: Finding | null;
}

/** The split search's own figures (split.ts). */
export interface SplitFigures {
  readonly rounds: number;
  readonly tasks: number;
}

/**
 * The exhaustive search split into subtree tasks that `runTasks` runs
 * (worker threads, split.ts). The result depends on the program and the
 * options only, never on the runner; the counterexample is then minimised
 * here, as explore() does.
 */
export async function exploreSplit(
  program: Program,
  opts: ExploreOptions,
  runTasks: RunTasks,
): Promise<ExploreResult & { readonly split: SplitFigures }> {
  if (opts.strategy !== 'exhaustive')
    throw new Error(`the split search is an exhaustive search, not ${opts.strategy}`);
  const maxSteps = opts.maxSteps ?? 5000;
  const r: SplitResult = await splitSearch(
    program,
    {
      por: opts.por ?? true,
      preemptionBound: opts.preemptionBound,
      maxExecutions: opts.schedules,
      maxSteps,
      onProgress: opts.onProgress,
    },
    runTasks,
  );
  const done = conclude(program, opts, maxSteps, {
    schedules: r.executions,
    steps: r.steps,
    truncated: r.truncated,
    complete: r.complete,
    sleepBlocked: r.sleepBlocked,
    failingPicks: r.failing?.picks ?? null,
    failingFinding: r.failing?.finding ?? null,
  });
  return { ...done, split: { rounds: r.rounds, tasks: r.tasks } };
}

/** Run `program` under one strategy until a check fires or the budget is spent. */
export function explore(program: Program, opts: ExploreOptions): ExploreResult {
  const maxSteps = opts.maxSteps ?? 5000;
  let steps = 0;
  let truncated = 0;
  let failingPicks: readonly string[] | null = null;
  let failingFinding: Finding | null = null;
  let schedules = 0;
  let complete = false;
  let sleepBlocked = 0;

  if (opts.strategy === 'exhaustive') {
    const r = new ExhaustiveSearch(program, {
      por: opts.por ?? true,
      preemptionBound: opts.preemptionBound,
      maxExecutions: opts.schedules,
      maxSteps,
      onProgress: opts.onProgress,
    }).run();
    schedules = r.executions;
    steps = r.steps;
    truncated = r.truncated;
    complete = r.complete;
    sleepBlocked = r.sleepBlocked;
    if (r.failing) {
      failingPicks = r.failing.picks;
      failingFinding = r.failing.finding;
    }
  } else {
    let horizon = 100;
    for (let i = 0; i < opts.schedules; i++) {
      const s = scheduleSeed(opts.seed, i);
      const chooser =
        opts.strategy === 'random' ? randomChooser(s) : pctChooser(s, opts.pctDepth ?? 3, horizon);
      const ex = execute(program, chooser, { maxSteps, record: false });
      ex.kernel.mem.release();
      schedules++;
      steps += ex.steps;
      horizon = Math.max(horizon, ex.steps);
      if (ex.truncated) truncated++;
      if (opts.onProgress && schedules % 200 === 0)
        opts.onProgress({ executions: schedules, steps });
      if (ex.finding) {
        failingPicks = ex.picks;
        failingFinding = ex.finding;
        break;
      }
    }
  }

  return conclude(program, opts, maxSteps, {
    schedules,
    steps,
    truncated,
    complete,
    sleepBlocked,
    failingPicks,
    failingFinding,
  });
}

/** The verdict of a search, and its counterexample minimised and recorded. */
function conclude(
  program: Program,
  opts: ExploreOptions,
  maxSteps: number,
  s: Searched,
): ExploreResult {
  const { schedules, steps, complete, sleepBlocked, truncated, failingPicks, failingFinding } = s;
  const base = {
    strategy: opts.strategy,
    seed: opts.seed,
    schedules,
    steps,
    complete,
    sleepBlocked,
    truncated,
  };
  if (!failingPicks || !failingFinding) {
    const verified = complete && truncated === 0;
    return {
      ...base,
      result: 'pass',
      verdict: verified
        ? opts.preemptionBound === undefined
          ? 'verified'
          : 'verified-bounded'
        : 'sampled',
      ...(verified && opts.preemptionBound !== undefined ? { bound: opts.preemptionBound } : {}),
      firstFailureAt: null,
      finding: null,
      schedule: [],
      records: [],
      preemptions: 0,
      minimiseRuns: 0,
    };
  }
  let picks = failingPicks;
  let extraRuns = 0;
  let found: Execution | null = null;
  if (opts.minimise !== false) {
    // Fewest preemptions first (iterative context bounding, as CHESS does): look for the same
    // check within fewer preemptions than the schedule found, then shrink its steps.
    found = execute(program, guidedReplay(picks), { maxSteps, record: true });
    const p = countPreemptions(found.records);
    for (let k = 0; k < p; k++) {
      const r = new ExhaustiveSearch(program, {
        por: true,
        preemptionBound: k,
        maxExecutions: MINIMISE_SEARCH_BUDGET,
        maxSteps,
      }).run();
      extraRuns += r.executions;
      if (r.failing && r.failing.finding.check === failingFinding.check) {
        picks = r.failing.picks;
        break;
      }
    }
  }
  const m =
    opts.minimise === false
      ? {
          names: picks,
          execution: execute(program, guidedReplay(picks), { maxSteps, record: true }),
          runs: 0,
        }
      : minimise(program, picks, failingFinding, maxSteps);
  const final: Execution = m.execution;
  return {
    ...base,
    result: 'fail',
    verdict: 'fail',
    firstFailureAt: schedules,
    finding: final.finding ?? failingFinding,
    schedule: final.choices,
    records: final.records,
    ...(final.world ? { world: final.world } : {}),
    ...(found && !sameSchedule(found.choices, final.choices) ? { found: found.choices } : {}),
    preemptions: countPreemptions(final.records),
    minimiseRuns: m.runs + extraRuns,
  };
}
