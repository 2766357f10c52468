import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidScenario } from '@ptlab/conformance';
import type { ScenarioError } from '@ptlab/core';
import type { Child } from '../child/process.js';
import type { CellOutcome } from '../jobs.js';
import { colourEnabled, colours } from '../output.js';
import { type ConformancePlan, type PlannedUnit, planConformance } from '../plan.js';
import { runUnits } from '../pool.js';
import type { LoadedPort } from '../registry.js';
import { type BuiltReport, buildReport, cellRecord, type UnitRecord } from '../report.js';
import { renderReport, reportJunit } from '../report-render.js';

export interface ConformanceOptions {
  readonly archs: readonly string[];
  readonly json?: string | undefined;
  readonly junit?: string | undefined;
  readonly tracesDir: string;
  readonly seed: number;
  readonly workers: number;
  readonly cellTimeoutMs: number;
  readonly cellMemoryMb: number;
  readonly mutants: boolean;
  /** Run every cell of every mutant, not only until its first kill per config. */
  readonly allMutantCells: boolean;
  readonly progress: boolean;
  /** Children that loaded the modules already (see runUnits). */
  readonly warm?: readonly Child[] | undefined;
}

const slug = (s: string): string => s.replace(/[^a-z0-9.-]+/gi, '_');

/** Write a failing cell's trace (the known findings' with suffix __mainline); its path, if written. */
function writeTrace(dir: string, r: CellOutcome, suffix: string): string | undefined {
  if (r.result !== 'fail' || !r.trace) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `${slug(r.arch)}__${slug(r.scenario)}${r.mutant ? `__${slug(r.mutant)}` : ''}${suffix}.json`,
  );
  writeFileSync(file, `${JSON.stringify(r.trace, null, 2)}\n`);
  return file;
}

/** A unit's outcomes as its record, writing their traces on the way. */
export function unitRecord(
  u: PlannedUnit,
  rs: readonly CellOutcome[],
  tracesDir: string,
): UnitRecord {
  const suffix = u.kind === 'finding' ? '__mainline' : '';
  return {
    unit: u.index,
    key: u.key,
    cells: rs.map((r) => cellRecord(r, writeTrace(tracesDir, r, suffix))),
  };
}

export interface RunOptions {
  readonly tracesDir: string;
  readonly workers: number;
  readonly cellTimeoutMs: number;
  readonly cellMemoryMb: number;
  readonly progress: boolean;
  readonly warm?: readonly Child[] | undefined;
}

export interface PlanRun {
  /** Records of the units that finished, and of those cut short (their finished cells). */
  readonly records: Map<number, UnitRecord>;
  readonly unitsFinished: number;
  readonly interrupted: NodeJS.Signals | null;
  readonly elapsedMs: number;
}

/**
 * Run `units` of a plan; `onRecord` gets each finished unit's record as it
 * finishes (in completion order), e.g. to journal it.
 */
export async function runPlanUnits(
  units: readonly PlannedUnit[],
  o: RunOptions,
  err: (s: string) => void,
  onRecord: (r: UnitRecord) => void = () => {},
): Promise<PlanRun> {
  const bar =
    o.progress && process.stderr.isTTY && units.length > 0
      ? new (await import('cli-progress')).default.SingleBar({
          stream: process.stderr,
          format: 'conformance [{bar}] {value}/{total} | {eta_formatted} left | {last}',
          hideCursor: true,
          barCompleteChar: '=',
          barIncompleteChar: '-',
        })
      : null;
  bar?.start(units.length, 0, { last: '' });
  let done = 0;
  let lastPct = -1;
  const records = new Map<number, UnitRecord>();
  const t0 = performance.now();
  const run = await runUnits(
    units,
    {
      workers: o.workers,
      cellTimeoutMs: o.cellTimeoutMs,
      cellMemoryMb: o.cellMemoryMb,
      ...(o.warm ? { warm: o.warm } : {}),
      notice: (s) => {
        if (bar) bar.stop();
        err(s);
        if (bar) bar.start(units.length, done, { last: '' });
      },
    },
    (rs, i) => {
      done++;
      const u = units[i] as PlannedUnit;
      const rec = unitRecord(u, rs, o.tracesDir);
      records.set(u.index, rec);
      onRecord(rec);
      const r = rs[rs.length - 1];
      if (bar)
        bar.update(done, {
          last: r ? `${r.arch} ${r.scenario}${r.mutant ? ` [${r.mutant}]` : ''}` : '',
        });
      else if (o.progress) {
        const pct = Math.floor((done * 10) / units.length);
        if (pct !== lastPct) {
          lastPct = pct;
          err(`conformance: ${done}/${units.length} units`);
        }
      }
    },
  );
  bar?.stop();
  // Units cut short by a signal: their finished cells still show (the run is marked interrupted).
  for (const [i, rs] of run.results.entries()) {
    const u = units[i] as PlannedUnit;
    if (!run.finished[i] && rs.length) records.set(u.index, unitRecord(u, rs, o.tracesDir));
  }
  return {
    records,
    unitsFinished: run.finished.filter(Boolean).length,
    interrupted: run.interrupted,
    elapsedMs: Math.round(performance.now() - t0),
  };
}

/** Where a built report goes besides the terminal. */
export interface ReportOutputs {
  readonly json?: string | undefined;
  readonly junit?: string | undefined;
}

/** Write the report's files; `extra` adds fields to the JSON (a shard's own). */
export function writeReportFiles(
  b: BuiltReport,
  o: ReportOutputs,
  extra: Readonly<Record<string, unknown>> = {},
): void {
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ ...b.json, ...extra }, null, 2)}\n`);
  if (o.junit) writeFileSync(o.junit, reportJunit(b));
}

/** Print the report and the verdict line; the exit code of the verdict. */
export function finishReport(b: BuiltReport, out: (s: string) => void): number {
  const c = colours(colourEnabled());
  renderReport(b, c, out);
  out(b.json.ok ? c.green('CONFORMANT') : c.red('NOT CONFORMANT'));
  if (b.meta.interrupted) return b.meta.interrupted === 'SIGINT' ? 130 : 143;
  return b.json.ok ? 0 : 1;
}

/**
 * `ptlab conformance`: every scenario on every config, every mutant, the known
 * kernel findings. Exit 0 when conformant (no clean cell fails, every mutant
 * as expected), 1 otherwise; sampled cells are shown as such, not as proofs.
 */
export async function runConformanceCommand(
  ports: readonly LoadedPort[],
  scenarios: readonly ValidScenario[],
  scenarioErrors: readonly ScenarioError[],
  o: ConformanceOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const plan: ConformancePlan = planConformance(ports, scenarios, o);
  mkdirSync(o.tracesDir, { recursive: true });
  const run = await runPlanUnits(plan.units, o, err);
  const built = buildReport(plan, plan.units, run.records, {
    scenarioErrors: scenarioErrors.map((e) => e.message),
    elapsedMs: run.elapsedMs,
    interrupted: run.interrupted,
    unitsFinished: run.unitsFinished,
    unitsTotal: plan.units.length,
  });
  const code = finishReport(built, out);
  writeReportFiles(built, o);
  if (o.json && run.interrupted) err(`partial results written to ${o.json}`);
  return code;
}
