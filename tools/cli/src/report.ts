/**
 * Cells → report: the one function every conformance report is built with,
 * whether its cells were just run, read back from a `--resume` journal, or
 * gathered from shard reports by `ptlab merge`. A cell enters as a CellRecord
 * (plain JSON data), so a report built from records read back from a file is
 * the same, byte for byte, as one built from the cells as they ran.
 */
import {
  type CellVerdict,
  matchKnownFinding,
  type PhaseResult,
  type RunSummary,
  type SummaryCell,
  summariseRun,
  VERDICT_KINDS,
} from '@ptlab/conformance';
import type { CheckId, Finding } from '@ptlab/core';
import type { CellOutcome } from './jobs.js';
import type { ConformancePlan, PlannedUnit } from './plan.js';
import type { Report } from './report-schema.js';

/** What a run keeps of one cell; the report, the journal and shard reports all carry this. */
export interface CellRecord {
  readonly arch: string;
  readonly scenario: string;
  readonly mutant: string | null;
  readonly result: 'pass' | 'fail' | 'n/a';
  readonly verdict: CellVerdict;
  readonly bound?: number;
  readonly reason?: string;
  readonly finding?: { readonly check: CheckId; readonly message: string };
  readonly error?: { readonly code: string; readonly message: string };
  readonly schedules: number;
  readonly steps: number;
  /** Schedules cut off by the step budget. */
  readonly truncated?: number;
  readonly phases?: readonly PhaseResult[];
  /** Wall time of the cell (a timing field: it differs between runs; see TIMING_FIELDS). */
  readonly elapsedMs: number;
  /** Where its trace was written. */
  readonly trace?: string;
  /** The counterexample told as a story: kept for failing clean cells only (JUnit shows it). */
  readonly story?: string;
}

/** One finished unit of the plan: its cells in order. */
export interface UnitRecord {
  readonly unit: number;
  readonly key: string;
  readonly cells: readonly CellRecord[];
}

/** A cell outcome as a record: JSON data only, no undefined fields, so it reads back identical. */
export function cellRecord(r: CellOutcome, trace: string | undefined): CellRecord {
  const keepStory = r.mutant === null && r.result === 'fail' && r.story;
  return {
    arch: r.arch,
    scenario: r.scenario,
    mutant: r.mutant,
    result: r.result,
    verdict: r.verdict,
    ...(r.bound !== undefined ? { bound: r.bound } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.finding ? { finding: { check: r.finding.check, message: r.finding.message } } : {}),
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
    schedules: r.schedules,
    steps: r.steps,
    ...(r.truncated ? { truncated: r.truncated } : {}),
    ...(r.phases ? { phases: JSON.parse(JSON.stringify(r.phases)) as PhaseResult[] } : {}),
    elapsedMs: r.elapsedMs,
    ...(trace ? { trace } : {}),
    ...(keepStory ? { story: r.story as string } : {}),
  };
}

/** A known kernel finding's check on one config: the mainline model, no fix applied. */
export interface FindingReport {
  readonly id: string;
  readonly title: string;
  readonly config: string;
  readonly scenario: string;
  /** `reproduces`: still fires; `gone`: no longer (the catalogue is stale); `error`: could not run. */
  readonly status: 'reproduces' | 'gone' | 'error';
  readonly detail: string;
  readonly fix: string;
  readonly upstream: string;
  readonly trace?: string;
}

export interface ReportMeta {
  readonly scenarioErrors: readonly string[];
  /** Wall time of the run (a timing field). */
  readonly elapsedMs: number;
  /** Set when the run was stopped by a signal before every unit finished. */
  readonly interrupted: NodeJS.Signals | null;
  readonly unitsFinished: number;
  readonly unitsTotal: number;
  /**
   * `i/N` for one shard's report: its verdict covers its clean cells only,
   * since a mutant may be killed in another shard (ptlab merge judges them).
   */
  readonly shard: string | null;
}

/** The --json report: ReportSchema (report-schema.ts) is its definition. */
export type ConformanceReport = Report;

/** The fields of a report that are wall-clock times: the only ones two runs of the same plan differ in. */
export const TIMING_FIELDS = {
  report: ['elapsedMs'],
  cell: ['elapsedMs'],
} as const;

/** A report without its timing fields (to compare runs, e.g. a resumed run with an uninterrupted one). */
export type UntimedReport = Omit<ConformanceReport, 'elapsedMs' | 'cells'> & {
  readonly cells: readonly Omit<ConformanceReport['cells'][number], 'elapsedMs'>[];
};
export function untimed(report: ConformanceReport): UntimedReport {
  const { elapsedMs: _e, ...rest } = report;
  return {
    ...rest,
    cells: report.cells.map(({ elapsedMs: _c, ...c }) => c),
  };
}

export interface BuiltReport {
  readonly plan: ConformancePlan;
  readonly json: ConformanceReport;
  readonly summary: RunSummary;
  /** Clean cells, in plan order. */
  readonly base: readonly CellRecord[];
  readonly findings: readonly FindingReport[];
  readonly meta: ReportMeta;
  /** Clean and mutant cells that ran. */
  readonly cellsRun: number;
  /** Units of the plan this report does not cover (they are in other shards). */
  readonly unitsOutside: number;
}

const toSummaryCell = (r: CellRecord): SummaryCell => ({
  arch: r.arch,
  scenario: r.scenario,
  mutant: r.mutant,
  result: r.result,
  verdict: r.verdict,
  bound: r.bound,
  finding: r.finding,
  reason: r.reason,
  error: r.error,
  tracePath: r.trace,
});

function findingReport(u: PlannedUnit, r: CellRecord): FindingReport {
  const f = u.finding;
  if (!f) throw new Error(`unit ${u.key} is not a known finding`);
  const status =
    r.error !== undefined
      ? 'error'
      : r.finding && matchKnownFinding(r.arch, r.finding as Finding) === f
        ? 'reproduces'
        : 'gone';
  return {
    id: f.id,
    title: f.title,
    config: r.arch,
    scenario: f.scenario,
    status,
    detail: r.reason ?? `${r.verdict}: no check fired`,
    fix: f.fix.variant,
    upstream: f.upstream,
    ...(r.trace ? { trace: r.trace } : {}),
  };
}

/**
 * The report of the given units of `plan` (all of them, or one shard's) from
 * the records that exist (a unit without one did not run: interrupted).
 */
export function buildReport(
  plan: ConformancePlan,
  units: readonly PlannedUnit[],
  records: ReadonlyMap<number, UnitRecord>,
  meta: ReportMeta,
): BuiltReport {
  const base: CellRecord[] = [];
  const mutantCells: CellRecord[] = [];
  const findings: FindingReport[] = [];
  for (const u of units) {
    const rec = records.get(u.index);
    if (!rec) continue;
    if (rec.key !== u.key)
      throw new Error(`record of unit ${u.index} is for ${rec.key}, not ${u.key}`);
    if (u.kind === 'clean') base.push(...rec.cells);
    else if (u.kind === 'mutant') mutantCells.push(...rec.cells);
    else if (rec.cells[0]) findings.push(findingReport(u, rec.cells[0]));
  }
  const summary = summariseRun(
    plan.configs.map((x) => x.config),
    base.map(toSummaryCell),
    plan.catalogue,
    mutantCells.map(toSummaryCell),
  );
  const judged = meta.shard ? summary.failing.length === 0 : summary.ok;
  const ok = !meta.interrupted && judged && meta.scenarioErrors.length === 0;
  const json: ConformanceReport = {
    ptlab: 2,
    seed: plan.options.seed,
    elapsedMs: Math.round(meta.elapsedMs),
    // The same fields whether or not the run was interrupted (one schema).
    interrupted:
      meta.interrupted === 'SIGINT' || meta.interrupted === 'SIGTERM' ? meta.interrupted : null,
    unitsFinished: meta.unitsFinished,
    unitsTotal: meta.unitsTotal,
    archConfigs: plan.configs.map((x) => x.config.id),
    scenarios: plan.scenarios.map((s) => s.id),
    counts: summary.counts,
    cells: base.map((r) => ({
      arch: r.arch,
      scenario: r.scenario,
      result: r.result,
      verdict: r.verdict,
      ...(r.bound !== undefined ? { bound: r.bound } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.finding ? { check: r.finding.check } : {}),
      ...(r.trace ? { trace: r.trace } : {}),
      ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
      schedules: r.schedules,
      steps: r.steps,
      ...(r.truncated ? { truncatedSchedules: r.truncated } : {}),
      ...(r.phases
        ? {
            phases: r.phases.map((p) => ({
              strategy: p.strategy,
              ...(p.preemptionBound !== undefined ? { preemptionBound: p.preemptionBound } : {}),
              executions: p.executions,
              complete: p.complete,
              ...(p.split ? { split: { rounds: p.split.rounds, tasks: p.split.tasks } } : {}),
            })),
          }
        : {}),
      elapsedMs: Math.round(r.elapsedMs),
    })),
    mutants: summary.mutants,
    mutantCounts: summary.mutantCounts,
    knownFindings: findings,
    scenarioErrors: meta.scenarioErrors,
    verdictKinds: [...VERDICT_KINDS],
    ok,
  };
  return {
    plan,
    json,
    summary,
    base,
    findings,
    meta,
    cellsRun: base.length + mutantCells.length,
    unitsOutside: plan.units.length - units.length,
  };
}
