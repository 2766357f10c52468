import {
  type ArchConfig,
  type ArchImpl,
  type ArchPort,
  type Finding,
  ModelError,
} from '@ptlab/core';
import {
  type ExploreOptions,
  type ExploreResult,
  explore,
  makeTrace,
  type Program,
  renderStory,
  type SplitFigures,
  type StrategyName,
  type Trace,
} from '@ptlab/explore';
import type { Mutant } from './mutants.js';

export { mutantApplies } from './mutants.js';

import { scenarioProgram } from './program.js';
import {
  CAPABILITIES,
  hasCapability,
  pmdSlotsNeeded,
  type ValidScenario as Scenario,
} from './scenario-schema.js';

export { hasCapability };

/** One search of a cell's plan. The budget counts executions, never time, so verdicts are deterministic. */
export interface BudgetStep {
  readonly strategy: StrategyName;
  /** Executions at most. */
  readonly schedules: number;
  /** Exhaustive: at most this many preemptions per execution; absent: no bound. */
  readonly preemptionBound?: number;
}

/**
 * The search of a cell expected to pass (a mainline config), in order:
 * prove it (sound DPOR, no bound); failing that within the budget, prove it
 * within 2 preemptions; then sample beyond any bound (PCT and random walks).
 * A counterexample ends the search. Exhaustive steps weaker than a proof
 * already obtained are skipped. (A search within 3 preemptions, 10,000
 * executions, came between the two until no cell of the default run had
 * completed it: every cell the unbounded search could not prove, it could not
 * either, at a third of those cells' time.)
 */
export const CLEAN_BUDGET: readonly BudgetStep[] = [
  // 250,000 (100,000 until 4b9b9e7, 20,000 before). The largest proof of the
  // default run is x86-32-pae retract-vs-lockless-walkers, the torn-PAE-read
  // seed's scenario: 186,934 executions (74 s of one core at 4b9b9e7). At
  // 100,000 it ran out and fell back to the 2-preemption proof below, which
  // took 30,115 more: 130,115 executions for the weaker verdict. The next
  // largest: 54,181 (ppc64-hash-64k collapse-tlb-flush), 44,131
  // (ppc64-radix-64k), 19,932 (s390-2k).
  { strategy: 'exhaustive', schedules: 250_000 },
  // 40,000 (10,000 until 2026-12): for a cell the unbounded search cannot prove
  // (an arch module's; none of the default run's since 250,000 above).
  { strategy: 'exhaustive', schedules: 40_000, preemptionBound: 2 },
  { strategy: 'pct', schedules: 300 },
  { strategy: 'random', schedules: 300 },
];

/**
 * The search of a cell with a mutant switched on: iterative context bounding
 * first (0, 1, 2 preemptions: small counterexamples, found early), then no
 * bound, then sampling. A correct variant (`expect: 'pass'`) gets the same
 * searches in another order (VARIANT_BUDGET).
 */
export const MUTANT_BUDGET: readonly BudgetStep[] = [
  // Sized from the default run: every kill of the catalogue came within 340
  // executions of its cell, while cells a mutant does not reach were most of
  // the run's time (bench: suite figures).
  { strategy: 'exhaustive', schedules: 300, preemptionBound: 0 },
  { strategy: 'exhaustive', schedules: 1_000, preemptionBound: 1 },
  { strategy: 'exhaustive', schedules: 2_000, preemptionBound: 2 },
  { strategy: 'exhaustive', schedules: 2_000 },
  { strategy: 'pct', schedules: 100 },
  { strategy: 'random', schedules: 100 },
];

/**
 * The search of a correct variant's cell (`expect: 'pass'`): MUTANT_BUDGET's
 * searches, strongest first. It shows the checks do not fire on a correct
 * alternative (the clean cells' full plan proves the mainline design). No
 * counterexample is expected, so finding a small one early is worth nothing,
 * while a completed search makes every weaker one redundant (runCell skips
 * them): a cell the unbounded search proves runs nothing else, one proved
 * within 2 preemptions skips the 0- and 1-preemption searches. On a correct
 * variant every cell gets the verdict kind MUTANT_BUDGET gives it (the
 * strongest of the same four searches that completes); only the executions
 * spent on weaker ones go.
 */
export const VARIANT_BUDGET: readonly BudgetStep[] = [
  { strategy: 'exhaustive', schedules: 2_000 },
  { strategy: 'exhaustive', schedules: 2_000, preemptionBound: 2 },
  { strategy: 'exhaustive', schedules: 1_000, preemptionBound: 1 },
  { strategy: 'exhaustive', schedules: 300, preemptionBound: 0 },
  { strategy: 'pct', schedules: 100 },
  { strategy: 'random', schedules: 100 },
];

/**
 * A quick plan for a repository's own unit tests (ptlab's arch packages use
 * it): a short proof attempt, a ≤2-preemption search, a few random walks.
 * Its verdicts are weaker than the default run's; `ptlab conformance` (the
 * main job) gives the real ones.
 */
export const QUICK_BUDGET: readonly BudgetStep[] = [
  { strategy: 'exhaustive', schedules: 1_500 },
  { strategy: 'exhaustive', schedules: 1_500, preemptionBound: 2 },
  { strategy: 'random', schedules: 150 },
];

/**
 * The quick plan of a mutant cell, for a repository's unit tests (with
 * QUICK_BUDGET): 0, 1 and 2 preemptions, then a few random walks.
 */
export const QUICK_MUTANT_BUDGET: readonly BudgetStep[] = [
  { strategy: 'exhaustive', schedules: 200, preemptionBound: 0 },
  { strategy: 'exhaustive', schedules: 500, preemptionBound: 1 },
  { strategy: 'exhaustive', schedules: 1_000, preemptionBound: 2 },
  { strategy: 'random', schedules: 50 },
];

/** What one step of the plan did. */
export interface PhaseResult {
  readonly strategy: StrategyName;
  readonly preemptionBound?: number;
  readonly executions: number;
  /** The exhaustive search covered its whole (bounded) space with no schedule cut off. */
  readonly complete: boolean;
  /** The search was split across workers (runCellWith): its rounds and subtree tasks. */
  readonly split?: SplitFigures;
}

/** A cell's verdict (docs/model.md, "Verdicts"): what was proved, sampled or found; `error`: the cell could not run. */
export type CellVerdict = 'verified' | 'verified-bounded' | 'sampled' | 'fail' | 'n/a' | 'error';

export interface CellResult {
  readonly arch: string;
  readonly scenario: string;
  readonly mutant: string | null;
  readonly result: 'pass' | 'fail' | 'n/a';
  readonly verdict: CellVerdict;
  /** For `verified-bounded`: the preemption bound it holds within. */
  readonly bound?: number;
  /** Why n/a, or the finding's one-line summary on fail. */
  readonly reason?: string;
  readonly finding?: Finding;
  /** The strategy that found the finding. */
  readonly strategy?: StrategyName;
  /** Executions over every phase. */
  readonly schedules: number;
  readonly steps: number;
  /** Schedules cut off by the step budget before they ended: they proved nothing. */
  readonly truncated?: number;
  readonly phases?: readonly PhaseResult[];
  readonly elapsedMs: number;
  readonly trace?: Trace;
  readonly story?: string;
  /**
   * Clean cells: every mm/core variant id the kernel code asked about in any
   * execution of the search (mutant-reach.ts), sorted.
   */
  readonly variantsAsked?: readonly string[];
  /** A mutant cell not run: the clean search proved the mutant's code unreachable here (mutant-reach.ts). */
  readonly unreached?: true;
}

/** Progress of a running cell (every few hundred executions; a deterministic count). */
export interface CellProgress {
  readonly executions: number;
  readonly steps: number;
  readonly phase: string;
}

/** The reason a scenario does not apply to a config, or null when it does. */
export function notApplicable(s: Scenario, config: ArchConfig): string | null {
  for (const cap of s.requires)
    if (!hasCapability(config, cap)) return `not applicable: ${CAPABILITIES[cap]}`;
  const slots = pmdSlotsNeeded(s);
  if (slots > config.PTRS_PER_PMD)
    return `not applicable: the scenario spans ${slots} pmd slots, the pmd table has ${config.PTRS_PER_PMD} (PTRS_PER_PMD)`;
  return null;
}

export interface CellOptions {
  readonly port: ArchPort;
  readonly config: ArchConfig;
  readonly scenario: Scenario;
  readonly mutant?: Mutant | null;
  readonly seed?: number;
  /** The search plan (default: CLEAN_BUDGET; MUTANT_BUDGET with a mutant on, VARIANT_BUDGET with a correct variant). */
  readonly budget?: readonly BudgetStep[];
  /** Recorded in traces so `ptlab replay` can load the arch again. */
  readonly archModule?: string;
  readonly onProgress?: ((p: CellProgress) => void) | undefined;
  /**
   * Kernel patch ids switched on beside the mutant (Kernel `variants`, read
   * with `ctx.k.has(id)`): the proposed fixes of known kernel findings
   * (findings.ts knownFixes()), so a cell is judged on everything else.
   */
  readonly patches?: readonly string[];
}

/** Wrap a port's create() so a throwing or nonsensical arch is reported by name, not as a crash. */
export function guardedCreate(
  port: ArchPort,
  config: ArchConfig,
  variant?: string,
): () => ArchImpl {
  return () => {
    let impl: ArchImpl;
    try {
      impl = port.create(config, variant);
    } catch (e) {
      throw new ModelError(
        `arch-${port.arch}`,
        `create(${config.id}${variant ? `, ${variant}` : ''}) threw: ${(e as Error).message}`,
      );
    }
    if (!impl || typeof impl.pteAllocOne !== 'function' || impl.config?.id !== config.id) {
      throw new ModelError(
        `arch-${port.arch}`,
        `create(${config.id}) returned something that is not an ArchImpl for ${config.id}`,
      );
    }
    return impl;
  };
}

/** The phase's name in progress reports: "exhaustive", "exhaustive ≤2", "pct". */
function phaseName(b: BudgetStep): string {
  return b.strategy === 'exhaustive' && b.preemptionBound !== undefined
    ? `exhaustive ≤${b.preemptionBound}`
    : b.strategy;
}

/** Names a cell of a run by config and scenario (clean cells of a run are unique by it). */
export const cellKey = (configId: string, scenarioId: string): string =>
  `${configId}\u0000${scenarioId}`;

/** One search of a cell's plan, as runCell() asks for it: the program and explore()'s options. */
export interface CellSearch {
  readonly program: Program;
  readonly options: ExploreOptions;
  /**
   * Clean cells: the set the program's kernels add every variant id they ask
   * about to (CellResult.variantsAsked). A searcher that runs executions on
   * programs of its own (worker threads) adds theirs here.
   */
  readonly consulted?: Set<string>;
}

/**
 * Runs one search of a cell's plan. explore() by default; runCellWith() may
 * run the exhaustive ones split across workers (exploreSplit()), whose
 * result is the same whatever the workers.
 */
export type CellSearcher = (s: CellSearch) => Promise<CellSearchResult>;

/** A search's result; `split` when it was split (exploreSplit()'s rounds and tasks). */
export type CellSearchResult = ExploreResult & { readonly split?: SplitFigures | undefined };

/** Run one scenario on one config (optionally with one mutant) under its budget. */
export function runCell(o: CellOptions): CellResult {
  const it = cellSearches(o);
  let step = it.next();
  while (!step.done) step = it.next(explore(step.value.program, step.value.options));
  return step.value;
}

/** runCell(), with each search of the plan run by `search` (the CLI splits big cells this way). */
export async function runCellWith(o: CellOptions, search: CellSearcher): Promise<CellResult> {
  const it = cellSearches(o);
  let step = it.next();
  while (!step.done) step = it.next(await search(step.value));
  return step.value;
}

/** The plan of one cell as a coroutine: it yields each search and is resumed with its result. */
function* cellSearches(o: CellOptions): Generator<CellSearch, CellResult, CellSearchResult> {
  const mutant = o.mutant ?? null;
  const base = { arch: o.config.id, scenario: o.scenario.id, mutant: mutant?.id ?? null };
  const na = notApplicable(o.scenario, o.config);
  if (na)
    return {
      ...base,
      result: 'n/a',
      verdict: 'n/a',
      reason: na,
      schedules: 0,
      steps: 0,
      elapsedMs: 0,
    };
  const variant = mutant?.layer === 'arch' ? mutant.id : undefined;
  const asked = mutant ? undefined : new Set<string>();
  const program = scenarioProgram(o.scenario, {
    arch: guardedCreate(o.port, o.config, variant),
    variants: [...(mutant?.layer === 'mm' ? [mutant.id] : []), ...(o.patches ?? [])],
    consulted: asked,
  });
  const seed = o.seed ?? 1;
  const t0 = performance.now();
  let schedules = 0;
  let steps = 0;
  let truncated = 0;
  let failing: ExploreResult | null = null;
  /** The strongest proof so far: no bound (Infinity), or the largest bound completed. */
  let proved = -1;
  const phases: PhaseResult[] = [];
  const wanted = o.scenario.exhaustiveSchedules;
  const plan =
    o.budget ??
    (mutant ? (mutant.expect === 'pass' ? VARIANT_BUDGET : MUTANT_BUDGET) : CLEAN_BUDGET);
  const budget =
    wanted === undefined
      ? plan
      : plan.map((b) =>
          b.strategy === 'exhaustive' ? { ...b, schedules: Math.max(b.schedules, wanted) } : b,
        );
  for (const b of budget) {
    const bound = b.strategy === 'exhaustive' ? (b.preemptionBound ?? Infinity) : -1;
    // An exhaustive search no stronger than a proof already made adds nothing.
    if (b.strategy === 'exhaustive' && bound <= proved) continue;
    if (proved === Infinity) break;
    const before = schedules;
    const options: ExploreOptions = {
      strategy: b.strategy,
      schedules: b.schedules,
      seed,
      ...(b.preemptionBound !== undefined ? { preemptionBound: b.preemptionBound } : {}),
      ...(o.onProgress
        ? {
            onProgress: (p: { executions: number; steps: number }) =>
              o.onProgress?.({
                executions: before + p.executions,
                steps: steps + p.steps,
                phase: phaseName(b),
              }),
          }
        : {}),
    };
    const r: CellSearchResult = yield { program, options, ...(asked ? { consulted: asked } : {}) };
    schedules += r.schedules;
    steps += r.steps;
    truncated += r.truncated;
    const complete = b.strategy === 'exhaustive' && r.complete && r.truncated === 0;
    phases.push({
      strategy: b.strategy,
      ...(b.preemptionBound !== undefined ? { preemptionBound: b.preemptionBound } : {}),
      executions: r.schedules,
      complete,
      ...(r.split ? { split: r.split } : {}),
    });
    if (r.result === 'fail') {
      failing = r;
      break;
    }
    if (complete) proved = Math.max(proved, bound);
  }
  const elapsedMs = performance.now() - t0;
  const common = {
    schedules,
    steps,
    elapsedMs,
    phases,
    ...(truncated ? { truncated } : {}),
    ...(asked ? { variantsAsked: [...asked].sort() } : {}),
  };
  if (!failing?.finding) {
    // A truncated schedule anywhere proves nothing about its cell.
    const verdict: CellVerdict =
      truncated > 0 || proved < 0
        ? 'sampled'
        : proved === Infinity
          ? 'verified'
          : 'verified-bounded';
    return {
      ...base,
      result: 'pass',
      verdict,
      ...(verdict === 'verified-bounded' ? { bound: proved } : {}),
      ...common,
    };
  }
  const r = failing;
  const finding = failing.finding;
  const trace = makeTrace({
    arch: o.config.id,
    ...(o.archModule ? { archModule: o.archModule } : {}),
    scenario: o.scenario.id,
    mutant: mutant?.id ?? null,
    ...(o.patches?.length ? { patches: [...o.patches] } : {}),
    strategy: r.strategy,
    seed,
    schedule: r.schedule,
    ...(r.found ? { found: r.found } : {}),
    finding: { check: finding.check, message: finding.message, step: finding.step },
  });
  const story = renderStory(r.records, finding, {
    title: `${o.scenario.id} on ${o.config.id}${mutant ? ` with mutant ${mutant.id}` : ''} (${r.strategy}, seed ${seed}, ${r.preemptions} preemption(s))`,
    seedRef: mutant?.seed ?? o.scenario.seed,
    kernel: o.config.kernel,
    world: r.world,
  });
  return {
    ...base,
    result: 'fail',
    verdict: 'fail',
    reason: `${finding.check}: ${finding.message}`,
    finding,
    strategy: r.strategy,
    ...common,
    trace,
    story,
  };
}
