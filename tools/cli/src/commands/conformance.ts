import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutantVerdictText, type ValidScenario } from '@ptlab/conformance';
import type { ScenarioError } from '@ptlab/core';
import type { Child } from '../child/process.js';
import { finishCoverage, moduleScope, prepareCoverageDir } from '../coverage/index.js';
import { type RunIdentity, type RunOptionsIdentity, runIdentity } from '../identity.js';
import type { CellOutcome } from '../jobs.js';
import { type JournalTrace, openJournal } from '../journal.js';
import { withMutantReach } from '../mutant-reach.js';
import { colourEnabled, colours } from '../output.js';
import { type ConformancePlan, type PlannedUnit, planConformance } from '../plan.js';
import { runUnits } from '../pool.js';
import { type LoadedPort, portLabel } from '../registry.js';
import { writeHtmlReport } from '../report/write.js';
import { type BuiltReport, buildReport, cellRecord, type UnitRecord } from '../report.js';
import { renderReport, reportJunit } from '../report-render.js';
import { firstIssue, ReportSchema } from '../report-schema.js';
import { type ShardSpec, shardName, shardUnits, unitCosts } from '../shard.js';

export interface ConformanceOptions {
  readonly archs: readonly string[];
  readonly json?: string | undefined;
  readonly junit?: string | undefined;
  /** Write an HTML report (index and trace viewer pages) to this directory. */
  readonly html?: string | undefined;
  readonly tracesDir: string;
  readonly seed: number;
  readonly workers: number;
  readonly cellTimeoutMs: number;
  readonly cellMemoryMb: number;
  readonly mutants: boolean;
  /** Run every cell of every mutant, not only until its first kill per config. */
  readonly allMutantCells: boolean;
  /** --split-above (plan.ts PlanOptions.splitAbove). */
  readonly splitAbove: number;
  readonly progress: boolean;
  /** Children that loaded the modules already (see runUnits). */
  readonly warm?: readonly Child[] | undefined;
  /** --scenario and --scenario-dir as given (recorded in journals and shard reports). */
  readonly scenarioIds?: readonly string[] | undefined;
  readonly scenarioDirs?: readonly string[] | undefined;
  /** Run only this shard of the plan's units. */
  readonly shard?: ShardSpec | undefined;
  /** Journal finished units to this file, and skip those it already holds. */
  readonly resume?: string | undefined;
  /** --coverage DIR; `fullRun`: every scenario of the suite (no --scenario, --scenario-dir, --arch-module). */
  readonly coverage?: { readonly dir: string; readonly fullRun: boolean } | undefined;
}

/** The options a journal or a shard report records (identity.ts). */
export function identityOptions(
  o: ConformanceOptions,
  ports: readonly LoadedPort[],
): RunOptionsIdentity {
  return {
    seed: o.seed,
    archs: [...o.archs],
    scenarios: [...(o.scenarioIds ?? [])],
    scenarioDirs: [...(o.scenarioDirs ?? [])],
    archModules: ports.flatMap((p) =>
      'module' in p.ref ? [{ spec: p.ref.module.spec, sha256: p.ref.module.sha256 }] : [],
    ),
    mutants: o.mutants,
    allMutantCells: o.allMutantCells,
    splitAbove: o.splitAbove,
    tracesDir: o.tracesDir,
    cellTimeoutMs: o.cellTimeoutMs,
    cellMemoryMb: o.cellMemoryMb,
    shard: o.shard ? shardName(o.shard) : null,
  };
}

/** What a shard report carries for ptlab merge: its run, its units, and their records. */
export interface ShardSection {
  readonly index: number;
  readonly total: number;
  readonly run: RunIdentity;
  /** Plan indices of its units. */
  readonly units: readonly number[];
  /** One per finished unit, in plan order. */
  readonly records: readonly UnitRecord[];
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
): { record: UnitRecord; traces: JournalTrace[]; views: [string, unknown][] } {
  const suffix = u.kind === 'finding' ? '__mainline' : '';
  const traces: JournalTrace[] = [];
  const views: [string, unknown][] = [];
  const cells = rs.map((r) => {
    const path = writeTrace(tracesDir, r, suffix);
    if (path) traces.push({ path, trace: r.trace });
    if (path && r.view) views.push([path, r.view]);
    return cellRecord(r, path);
  });
  return { record: { unit: u.index, key: u.key, cells }, traces, views };
}

export interface RunOptions {
  readonly tracesDir: string;
  readonly workers: number;
  readonly cellTimeoutMs: number;
  readonly cellMemoryMb: number;
  readonly progress: boolean;
  readonly warm?: readonly Child[] | undefined;
  /** Raw V8 coverage of the children goes here (--coverage; see coverage/). */
  readonly coverageDir?: string | undefined;
}

export interface PlanRun {
  /** Records of the units that finished, and of those cut short (their finished cells). */
  readonly records: Map<number, UnitRecord>;
  /** Plan indices of the units that finished. */
  readonly finished: ReadonlySet<number>;
  readonly unitsFinished: number;
  readonly interrupted: NodeJS.Signals | null;
  readonly elapsedMs: number;
  /** Trace path -> its drawing for the viewer (--html), as the child sent it (checked when written). */
  readonly views: ReadonlyMap<string, unknown>;
}

/**
 * Run `units` of a plan; `onRecord` gets each finished unit's record as it
 * finishes (in completion order), e.g. to journal it.
 */
export async function runPlanUnits(
  planUnits: readonly PlannedUnit[],
  o: RunOptions,
  err: (s: string) => void,
  onRecord: (r: UnitRecord, traces: readonly JournalTrace[]) => void = () => {},
): Promise<PlanRun> {
  // Longest expected unit first (shard-costs.ts), so a run does not end with one worker busy on
  // the biggest unit; reports are in plan order whatever order units run in.
  const costs = unitCosts(planUnits);
  const cost = (u: PlannedUnit) => costs.get(u.index)?.cost ?? 0;
  const units = [...planUnits].sort((a, b) => cost(b) - cost(a) || a.index - b.index);
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
  const views = new Map<string, unknown>();
  const finished = new Set<number>();
  const t0 = performance.now();
  const reach = withMutantReach(units);
  const run = await runUnits(
    reach.units,
    {
      // Coverage is measured in child processes: --workers 0 runs one.
      workers: o.coverageDir ? Math.max(1, o.workers) : o.workers,
      ...(o.coverageDir ? { coverageDir: o.coverageDir } : {}),
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
      reach.record(u, rs);
      const { record, traces, views: drawn } = unitRecord(u, rs, o.tracesDir);
      records.set(u.index, record);
      for (const [path, v] of drawn) views.set(path, v);
      finished.add(u.index);
      onRecord(record, traces);
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
  if (reach.skipped > 0)
    err(
      `mutant reach: ${reach.skipped} mutant cells not searched, each passing by its verified clean search, which never reached the mutant's code`,
    );
  // Units cut short by a signal: their finished cells still show (the run is marked interrupted).
  for (const [i, rs] of run.results.entries()) {
    const u = units[i] as PlannedUnit;
    if (!run.finished[i] && rs.length) {
      const cut = unitRecord(u, rs, o.tracesDir);
      records.set(u.index, cut.record);
      for (const [path, v] of cut.views) views.set(path, v);
    }
  }
  return {
    records,
    finished,
    unitsFinished: run.finished.filter(Boolean).length,
    interrupted: run.interrupted,
    elapsedMs: Math.round(performance.now() - t0),
    views,
  };
}

/** Where a built report goes besides the terminal. */
export interface ReportOutputs {
  readonly json?: string | undefined;
  readonly junit?: string | undefined;
  readonly html?: string | undefined;
}

/** Every trace a report names: failing clean cells, mutant kills, known findings. */
function tracePaths(b: BuiltReport): string[] {
  const paths = [
    ...b.base.map((r) => r.trace),
    ...b.summary.mutants.flatMap((m) => [...m.kills, ...m.otherFailures].map((k) => k.trace)),
    ...b.findings.map((f) => f.trace),
  ];
  return [...new Set(paths.filter((p): p is string => p !== undefined))];
}

/**
 * Write the report's files; `extra` adds fields to the JSON (a shard's own);
 * `views` are the failing cells' drawings for the HTML report's trace pages.
 * The report is checked against its schema first, and written even when it
 * fails (nothing is lost); the return value says whether it passed.
 */
export function writeReportFiles(
  b: BuiltReport,
  o: ReportOutputs,
  err: (s: string) => void,
  extra: Readonly<Record<string, unknown>> = {},
  views: ReadonlyMap<string, unknown> = new Map(),
): boolean {
  const json = { ...b.json, ...extra };
  const valid = ReportSchema.safeParse(json);
  if (!valid.success)
    err(`ptlab: internal error: the report does not match its schema: ${firstIssue(valid.error)}`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(json, null, 2)}\n`);
  if (o.junit) writeFileSync(o.junit, reportJunit(b));
  if (o.html) {
    const h = writeHtmlReport({
      dir: o.html,
      report: b.json,
      traces: tracePaths(b).map((path) => [path, views.get(path)] as const),
      kernels: new Map(b.plan.configs.map((x) => [x.config.id, x.config.kernel])),
      mutantText: new Map(b.summary.mutants.map((m) => [m.id, mutantVerdictText(m)])),
    });
    err(`HTML report: ${h.index} (${h.pages} trace pages)`);
    for (const s of h.skipped) err(`  no trace page for ${s}`);
  }
  return valid.success;
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
 * With --shard only that shard's units run (its verdict covers its clean
 * cells; `ptlab merge` gives the run's); with --resume finished units are
 * journaled and those already journaled are not run again.
 */
export async function runConformanceCommand(
  ports: readonly LoadedPort[],
  scenarios: readonly ValidScenario[],
  scenarioErrors: readonly ScenarioError[],
  o: ConformanceOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  // A split cell uses as many threads as the run has workers; under --coverage its tasks
  // run in the cell's own process, whose coverage is the one measured (same result).
  const plan: ConformancePlan = planConformance(ports, scenarios, {
    ...o,
    splitThreads: o.coverage ? 0 : Math.max(1, o.workers),
  });
  const units = o.shard ? shardUnits(plan.units, o.shard) : plan.units;
  const identity = runIdentity(plan, identityOptions(o, ports), units.length);
  mkdirSync(o.tracesDir, { recursive: true });
  if (o.shard && !o.json)
    err(
      `note: shard ${shardName(o.shard)} without --json leaves nothing for ptlab merge to combine`,
    );
  const journal = o.resume ? openJournal(o.resume, identity, units) : null;
  if (journal) {
    for (const n of journal.notes) err(n);
    // Traces of journaled cells come back if their files went away.
    for (const t of journal.traces)
      if (!existsSync(t.path)) writeFileSync(t.path, `${JSON.stringify(t.trace, null, 2)}\n`);
    if (journal.done.size || journal.retried)
      err(
        `resuming from ${journal.file}: ${journal.done.size}/${units.length} units already done${journal.retried ? `, ${journal.retried} that could not run run again` : ''}`,
      );
  }
  const todo = journal ? units.filter((u) => !journal.done.has(u.index)) : units;
  const coverageDir = o.coverage ? prepareCoverageDir(o.coverage.dir) : undefined;
  let run: PlanRun;
  try {
    run = await runPlanUnits(todo, { ...o, coverageDir }, err, (r, traces) =>
      journal?.append(r, traces),
    );
  } finally {
    journal?.close();
  }
  const records = new Map<number, UnitRecord>([...(journal?.done ?? []), ...run.records]);
  const finished = new Set([...(journal?.done.keys() ?? []), ...run.finished]);
  const built = buildReport(plan, units, records, {
    scenarioErrors: scenarioErrors.map((e) => e.message),
    elapsedMs: run.elapsedMs,
    interrupted: run.interrupted,
    unitsFinished: finished.size,
    unitsTotal: units.length,
    shard: o.shard ? shardName(o.shard) : null,
  });
  const code = finishReport(built, out);
  const cov =
    o.coverage && !run.interrupted
      ? await finishCoverage(
          o.coverage.dir,
          ports.flatMap((p) =>
            'module' in p.ref ? [moduleScope(portLabel(p.ref), p.ref.module.entry)] : [],
          ),
          o.coverage.fullRun && !o.archs.length && o.mutants && !o.shard && !journal?.done.size,
          out,
        )
      : null;
  const shard: ShardSection | null = o.shard
    ? {
        index: o.shard.index,
        total: o.shard.total,
        run: identity,
        units: units.map((u) => u.index),
        records: units.flatMap((u) => {
          const r = finished.has(u.index) ? records.get(u.index) : undefined;
          return r ? [r] : [];
        }),
      }
    : null;
  const valid = writeReportFiles(
    built,
    o,
    err,
    { ...(cov ? { coverage: cov.json } : {}), ...(shard ? { shard } : {}) },
    run.views,
  );
  if (o.json && run.interrupted) err(`partial results written to ${o.json}`);
  if (o.resume && run.interrupted)
    err(`finished units are in ${o.resume}: run the same command again to resume`);
  if (!valid && !run.interrupted) return 2;
  return code === 0 && cov && !cov.ok ? 1 : code;
}
