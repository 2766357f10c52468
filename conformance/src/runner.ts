import {
  type ArchConfig,
  type ArchImpl,
  type ArchPort,
  type Finding,
  ModelError,
} from '@ptlab/core';
import {
  type ExploreResult,
  explore,
  makeTrace,
  renderStory,
  type StrategyName,
  type Trace,
} from '@ptlab/explore';
import type { Mutant } from './mutants.js';
import { scenarioProgram } from './program.js';
import { CAPABILITIES, hasCapability, type ValidScenario as Scenario } from './scenario-schema.js';

export { hasCapability };

/** One strategy run of the suite's portfolio. */
export interface BudgetStep {
  readonly strategy: StrategyName;
  readonly schedules: number;
  readonly preemptionBound?: number;
}

/**
 * The suite's default search per cell, in order, stopping at the first
 * counterexample: bounded exhaustive first (small bugs, minimal schedules),
 * then PCT and random walks for deeper ones.
 */
export const DEFAULT_BUDGET: readonly BudgetStep[] = [
  { strategy: 'exhaustive', schedules: 400, preemptionBound: 2 },
  { strategy: 'pct', schedules: 150 },
  { strategy: 'random', schedules: 150 },
];

export interface CellResult {
  readonly arch: string;
  readonly scenario: string;
  readonly mutant: string | null;
  readonly result: 'pass' | 'fail' | 'n/a';
  /** Why n/a, or the finding's one-line summary on fail. */
  readonly reason?: string;
  readonly finding?: Finding;
  readonly strategy?: StrategyName;
  readonly schedules: number;
  readonly steps: number;
  /** Schedules cut off by the step budget before they ended: they proved nothing. */
  readonly truncated?: number;
  readonly elapsedMs: number;
  readonly trace?: Trace;
  readonly story?: string;
}

/** The reason a scenario does not apply to a config, or null when it does. */
export function notApplicable(s: Scenario, config: ArchConfig): string | null {
  for (const cap of s.requires)
    if (!hasCapability(config, cap)) return `not applicable: ${CAPABILITIES[cap]}`;
  return null;
}

/** Whether a mutant applies to a config (an mm mutant: every config with what it `requires`). */
export function mutantApplies(m: Mutant, config: ArchConfig): boolean {
  if (m.layer === 'mm') return (m.requires ?? []).every((c) => hasCapability(config, c));
  return m.arch === config.arch && (m.configs ?? []).includes(config.id);
}

export interface CellOptions {
  readonly port: ArchPort;
  readonly config: ArchConfig;
  readonly scenario: Scenario;
  readonly mutant?: Mutant | null;
  readonly seed?: number;
  readonly budget?: readonly BudgetStep[];
  /** Recorded in traces so `ptlab replay` can load the arch again. */
  readonly archModule?: string;
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

/** Run one scenario on one config (optionally with one mutant) under the budget. */
export function runCell(o: CellOptions): CellResult {
  const mutant = o.mutant ?? null;
  const base = { arch: o.config.id, scenario: o.scenario.id, mutant: mutant?.id ?? null };
  const na = notApplicable(o.scenario, o.config);
  if (na) return { ...base, result: 'n/a', reason: na, schedules: 0, steps: 0, elapsedMs: 0 };
  const variant = mutant?.layer === 'arch' ? mutant.id : undefined;
  const program = scenarioProgram(o.scenario, {
    arch: guardedCreate(o.port, o.config, variant),
    variants: [...(mutant?.layer === 'mm' ? [mutant.id] : []), ...(o.patches ?? [])],
  });
  const seed = o.seed ?? 1;
  const t0 = performance.now();
  let schedules = 0;
  let steps = 0;
  let truncated = 0;
  let r: ExploreResult | null = null;
  const wanted = o.scenario.exhaustiveSchedules;
  const budget =
    o.budget ??
    (wanted === undefined
      ? DEFAULT_BUDGET
      : DEFAULT_BUDGET.map((b) =>
          b.strategy === 'exhaustive' ? { ...b, schedules: Math.max(b.schedules, wanted) } : b,
        ));
  for (const b of budget) {
    r = explore(program, {
      strategy: b.strategy,
      schedules: b.schedules,
      seed,
      ...(b.preemptionBound !== undefined ? { preemptionBound: b.preemptionBound } : {}),
    });
    schedules += r.schedules;
    steps += r.steps;
    truncated += r.truncated;
    if (r.result === 'fail') break;
  }
  const elapsedMs = performance.now() - t0;
  if (!r || r.result === 'pass' || !r.finding)
    return {
      ...base,
      result: 'pass',
      schedules,
      steps,
      elapsedMs,
      ...(truncated ? { truncated } : {}),
    };
  const trace = makeTrace({
    arch: o.config.id,
    ...(o.archModule ? { archModule: o.archModule } : {}),
    scenario: o.scenario.id,
    mutant: mutant?.id ?? null,
    strategy: r.strategy,
    seed,
    schedule: r.schedule,
    finding: { check: r.finding.check, message: r.finding.message, step: r.finding.step },
  });
  const story = renderStory(r.records, r.finding, {
    title: `${o.scenario.id} on ${o.config.id}${mutant ? ` with mutant ${mutant.id}` : ''} (${r.strategy}, seed ${seed}, ${r.preemptions} preemption(s))`,
    seedRef: mutant?.seed ?? o.scenario.seed,
  });
  return {
    ...base,
    result: 'fail',
    reason: `${r.finding.check}: ${r.finding.message}`,
    finding: r.finding,
    strategy: r.strategy,
    schedules,
    steps,
    elapsedMs,
    ...(truncated ? { truncated } : {}),
    trace,
    story,
  };
}
