import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KERNEL_FINDINGS,
  type KernelFinding,
  knownFixes,
  type MutantAccount,
  matchKnownFinding,
  mutantApplies,
  mutantCatalogue,
  mutantVerdictText,
  type SummaryCell,
  summariseRun,
  type ValidScenario,
  VERDICT_KINDS,
} from '@ptlab/conformance';
import type { ScenarioError } from '@ptlab/core';
import { BUILTIN_DOMAIN, type Child, moduleDomain } from '../child/process.js';
import { finishCoverage, moduleScope, prepareCoverageDir } from '../coverage/index.js';
import type { CellOutcome } from '../jobs.js';
import { junitXml } from '../junit.js';
import { colourEnabled, colours, unknownId } from '../output.js';
import { runUnits, type Unit } from '../pool.js';
import { type LoadedPort, portLabel } from '../registry.js';

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
  readonly warm?: readonly Child[];
  /** --coverage DIR; `fullRun`: every scenario of the suite (no --scenario, --scenario-dir, --arch-module). */
  readonly coverage?: { readonly dir: string; readonly fullRun: boolean } | undefined;
}

const slug = (s: string): string => s.replace(/[^a-z0-9.-]+/gi, '_');

/** A known kernel finding's check on one config: the mainline model, no fix applied. */
interface FindingReport {
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

/** How a clean cell shows in the matrix (4 columns). */
function matrixCell(r: CellOutcome | undefined, c: ReturnType<typeof colours>): string {
  if (!r) return c.dim('?'.padStart(5));
  switch (r.verdict) {
    case 'verified':
      return c.green('ok'.padStart(5));
    case 'verified-bounded':
      return c.green(`≤${r.bound ?? '?'}`.padStart(5));
    case 'sampled':
      return c.yellow('smp'.padStart(5));
    case 'n/a':
      return c.dim('-'.padStart(5));
    case 'error':
      return c.red('ERR'.padStart(5));
    default:
      return c.red('FAIL'.padStart(5));
  }
}

const toSummaryCell = (r: CellOutcome, trace: string | undefined): SummaryCell => ({
  arch: r.arch,
  scenario: r.scenario,
  mutant: r.mutant,
  result: r.result,
  verdict: r.verdict,
  bound: r.bound,
  finding: r.finding,
  reason: r.reason,
  error: r.error,
  tracePath: trace,
});

function mutantLine(m: MutantAccount, c: ReturnType<typeof colours>): string {
  const text = mutantVerdictText(m);
  if (m.verdict === 'not-run') return c.dim(text);
  return m.ok ? text : c.red(text);
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
  const c = colours(colourEnabled());
  const configs = ports.flatMap((p) => p.port.configs.map((config) => ({ p, config })));
  const known = configs.map((x) => x.config.id);
  for (const a of o.archs) if (!known.includes(a)) throw unknownId('arch config', a, known);
  const chosen = o.archs.length ? configs.filter((x) => o.archs.includes(x.config.id)) : configs;
  const chosenConfigs = chosen.map((x) => x.config);
  const catalogue = o.mutants ? mutantCatalogue(ports.map((p) => p.port)) : [];

  const domainOf = (p: LoadedPort) =>
    'module' in p.ref ? moduleDomain(p.ref.module) : BUILTIN_DOMAIN;
  const archModuleOf = (p: LoadedPort) =>
    'module' in p.ref ? { archModule: p.ref.module.entry } : {};
  // Every cell is judged with the known kernel findings' fixes applied, so a
  // known finding does not hide what else the cell would find.
  const patchesOf = (configId: string) => {
    const p = knownFixes(configId);
    return p.length ? { patches: p } : {};
  };
  const units: Unit[] = [];
  for (const { p, config } of chosen)
    for (const scenario of scenarios)
      units.push({
        domain: domainOf(p),
        cells: [
          {
            configId: config.id,
            scenario,
            mutant: null,
            seed: o.seed,
            ...archModuleOf(p),
            ...patchesOf(config.id),
          },
        ],
      });
  for (const m of catalogue)
    for (const { p, config } of chosen) {
      if (!mutantApplies(m, config)) continue;
      units.push({
        domain: domainOf(p),
        cells: scenarios.map((scenario) => ({
          configId: config.id,
          scenario,
          mutant: m,
          seed: o.seed,
          ...archModuleOf(p),
          ...patchesOf(config.id),
        })),
        // Scenarios in order until the first kill by its own check, unless --all-mutant-cells.
        stopAfter: (r) =>
          !o.allMutantCells &&
          m.expect === 'caught' &&
          r.result === 'fail' &&
          !!r.finding &&
          (m.checks.length === 0 || m.checks.includes(r.finding.check)),
      });
    }
  // Known kernel findings: their scenario on the mainline model, no fix applied.
  const findingCells: { f: KernelFinding; unit: number }[] = [];
  for (const f of KERNEL_FINDINGS) {
    const scenario = scenarios.find((s) => s.id === f.scenario);
    if (!scenario) continue;
    for (const { p, config } of chosen) {
      if (!f.configs.includes(config.id)) continue;
      findingCells.push({ f, unit: units.length });
      units.push({
        domain: domainOf(p),
        cells: [{ configId: config.id, scenario, mutant: null, seed: o.seed, ...archModuleOf(p) }],
      });
    }
  }

  const bar =
    o.progress && process.stderr.isTTY
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
  const t0 = performance.now();
  // Coverage is measured in child processes: --workers 0 runs one.
  const covRaw = o.coverage ? prepareCoverageDir(o.coverage.dir) : undefined;
  const run = await runUnits(
    units,
    {
      workers: covRaw ? Math.max(1, o.workers) : o.workers,
      ...(covRaw ? { coverageDir: covRaw } : {}),
      cellTimeoutMs: o.cellTimeoutMs,
      cellMemoryMb: o.cellMemoryMb,
      ...(o.warm ? { warm: o.warm } : {}),
      notice: (s) => {
        if (bar) bar.stop();
        err(s);
        if (bar) bar.start(units.length, done, { last: '' });
      },
    },
    (rs, _i) => {
      done++;
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
  const elapsedMs = Math.round(performance.now() - t0);
  const findingUnits = new Set(findingCells.map((x) => x.unit));
  const results = run.results.flatMap((rs, i) => (findingUnits.has(i) ? [] : rs));

  // Traces for failing cells (and the known findings').
  mkdirSync(o.tracesDir, { recursive: true });
  const tracePath = new Map<CellOutcome, string>();
  const writeTrace = (r: CellOutcome, suffix = ''): void => {
    if (r.result !== 'fail' || !r.trace) return;
    const file = join(
      o.tracesDir,
      `${slug(r.arch)}__${slug(r.scenario)}${r.mutant ? `__${slug(r.mutant)}` : ''}${suffix}.json`,
    );
    writeFileSync(file, `${JSON.stringify(r.trace, null, 2)}\n`);
    tracePath.set(r, file);
  };
  for (const r of results) writeTrace(r);

  const findings: FindingReport[] = [];
  for (const { f, unit } of findingCells) {
    const r = run.results[unit]?.[0];
    if (!r) continue;
    writeTrace(r, '__mainline');
    const status =
      r.error !== undefined
        ? 'error'
        : r.finding && matchKnownFinding(r.arch, r.finding) === f
          ? 'reproduces'
          : 'gone';
    findings.push({
      id: f.id,
      title: f.title,
      config: r.arch,
      scenario: f.scenario,
      status,
      detail: r.reason ?? `${r.verdict}: no check fired`,
      fix: f.fix.variant,
      upstream: f.upstream,
      ...(tracePath.get(r) ? { trace: tracePath.get(r) as string } : {}),
    });
  }

  const base = results.filter((r) => r.mutant === null);
  const summary = summariseRun(
    chosenConfigs,
    base.map((r) => toSummaryCell(r, tracePath.get(r))),
    catalogue,
    results.filter((r) => r.mutant !== null).map((r) => toSummaryCell(r, tracePath.get(r))),
  );
  const mutants = summary.mutants;

  // Terminal matrix: scenarios x configs.
  const cols = chosen.map((x) => x.config.id);
  const w = Math.max(...scenarios.map((s) => s.id.length), 8);
  out(
    `ptlab conformance: ${scenarios.length} scenarios x ${cols.length} arch configs${o.mutants ? ` + ${catalogue.length} mutants` : ''}, seed ${o.seed}, ${results.length} cells in ${(elapsedMs / 1000).toFixed(1)} s`,
  );
  out('');
  for (const [i, x] of chosen.entries())
    out(
      `  [${String(i + 1).padStart(2)}] ${x.config.id}${'module' in x.p.ref ? `  (${portLabel(x.p.ref)})` : ''}`,
    );
  out('');
  out(`${''.padEnd(w)} ${cols.map((_, i) => String(i + 1).padStart(5)).join('')}`);
  for (const s of scenarios) {
    const row = cols.map((id) =>
      matrixCell(
        base.find((x) => x.arch === id && x.scenario === s.id),
        c,
      ),
    );
    out(`${s.id.padEnd(w)} ${row.join('')}`);
  }
  out(
    `  (ok: verified, every interleaving up to equivalence; ≤k: verified within k preemptions; smp: sampled, no proof; -: not applicable; FAIL: a check fired; ERR: the cell could not run${run.interrupted ? '; ?: not run (interrupted)' : ''})`,
  );
  if (summary.failing.length) {
    out('');
    out('Failing cells:');
    for (const r of base.filter((x) => x.verdict === 'fail' || x.verdict === 'error'))
      out(
        `  ${c.red(r.verdict === 'error' ? 'ERR ' : 'FAIL')} ${r.arch} x ${r.scenario}: ${r.reason ?? r.result}${tracePath.get(r) ? `\n       trace: ${tracePath.get(r)} (ptlab replay ${tracePath.get(r)})` : ''}`,
      );
  }
  if (o.mutants) {
    out('');
    const mw = Math.max(...mutants.map((m) => m.id.length), 6);
    out(`${'mutant'.padEnd(mw)}  expect  verdict`);
    for (const m of mutants) out(`${m.id.padEnd(mw)}  ${m.expect.padEnd(6)}  ${mutantLine(m, c)}`);
  }
  if (findings.length) {
    out('');
    out(
      'Known kernel findings (mainline model, no fix; reported apart, not a conformance failure):',
    );
    for (const f of findings)
      out(
        `  ${f.status === 'reproduces' ? c.yellow('reproduces') : f.status === 'gone' ? c.cyan('GONE') : c.red('ERROR')} ${f.id} on ${f.config} x ${f.scenario}${f.status === 'gone' ? ` (no longer fires: ${f.detail}; update conformance/src/findings.ts)` : f.status === 'error' ? `: ${f.detail}` : ''}\n       fix: ${f.fix}; ${f.upstream.split(';')[0]}${f.trace ? `\n       trace: ${f.trace}` : ''}`,
      );
  }
  const cut = base.filter((r) => r.truncated);
  if (cut.length) {
    out(
      `note: ${cut.length} cell(s) had schedules cut off by the step budget, so they are at best sampled: ${cut.map((r) => `${r.arch} x ${r.scenario} (${r.truncated})`).join(', ')}`,
    );
  }
  for (const e of scenarioErrors) out(`\nscenario error: ${e.message}`);
  const unitsFinished = run.finished.filter(Boolean).length;
  const ok = !run.interrupted && summary.ok && scenarioErrors.length === 0;
  const n = summary.counts;
  const applicable = base.length - n['n/a'];
  out('');
  if (run.interrupted)
    out(
      c.yellow(
        `interrupted (${run.interrupted}): ${unitsFinished}/${units.length} units finished; the verdicts above cover only those`,
      ),
    );
  out(
    `clean cells: ${n.verified} verified, ${n['verified-bounded']} verified-bounded, ${n.sampled} sampled, ${n.fail} failed, ${n.error} errors (${applicable} applicable; ${n['n/a']} not applicable)`,
  );
  if (o.mutants) {
    const mc = summary.mutantCounts;
    out(
      `mutants: ${mc.killed} killed, ${mc['not-killed']} not killed, ${mc.passes} correct variants pass, ${mc['wrongly-fails']} wrongly fail, ${mc['not-run']} not run`,
    );
  }
  out(ok ? c.green('CONFORMANT') : c.red('NOT CONFORMANT'));
  const cov =
    o.coverage && !run.interrupted
      ? await finishCoverage(
          o.coverage.dir,
          ports.flatMap((p) =>
            'module' in p.ref ? [moduleScope(portLabel(p.ref), p.ref.module.entry)] : [],
          ),
          o.coverage.fullRun && !o.archs.length && o.mutants,
          out,
        )
      : null;

  const report = {
    ptlab: 2,
    seed: o.seed,
    elapsedMs,
    ...(run.interrupted
      ? { interrupted: run.interrupted, unitsFinished, unitsTotal: units.length }
      : {}),
    archConfigs: cols,
    scenarios: scenarios.map((s) => s.id),
    counts: summary.counts,
    cells: base.map((r) => ({
      arch: r.arch,
      scenario: r.scenario,
      result: r.result,
      verdict: r.verdict,
      ...(r.bound !== undefined ? { bound: r.bound } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.finding ? { check: r.finding.check } : {}),
      ...(tracePath.get(r) ? { trace: tracePath.get(r) } : {}),
      ...(r.error ? { error: r.error } : {}),
      schedules: r.schedules,
      steps: r.steps,
      ...(r.truncated ? { truncatedSchedules: r.truncated } : {}),
      ...(r.phases ? { phases: r.phases } : {}),
      elapsedMs: Math.round(r.elapsedMs),
    })),
    mutants,
    mutantCounts: summary.mutantCounts,
    knownFindings: findings,
    scenarioErrors: scenarioErrors.map((e) => e.message),
    verdictKinds: VERDICT_KINDS,
    ...(cov ? { coverage: cov.json } : {}),
    ok,
  };
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    if (run.interrupted) err(`partial results written to ${o.json}`);
  }
  if (o.junit) {
    writeFileSync(
      o.junit,
      junitXml([
        {
          name: 'conformance',
          cases: base.map((r) => ({
            classname: r.arch,
            name: r.scenario,
            timeMs: r.elapsedMs,
            ...(r.result !== 'pass' && r.result !== 'n/a'
              ? { failure: `${r.reason ?? r.result}${r.story ? `\n\n${r.story}` : ''}` }
              : {}),
            ...(r.result === 'n/a' ? { skipped: r.reason ?? 'not applicable' } : {}),
            output: `verdict: ${r.verdict}${r.bound !== undefined ? ` (≤${r.bound} preemptions)` : ''}, ${r.schedules} executions${tracePath.get(r) ? `\ntrace: ${tracePath.get(r)}` : ''}`,
          })),
        },
        {
          name: 'mutants',
          cases: mutants.map((m) => ({
            classname: `mutant.${m.layer}`,
            name: m.id,
            timeMs: 0,
            ...(m.verdict === 'not-run'
              ? { skipped: mutantVerdictText(m) }
              : m.ok
                ? { output: mutantVerdictText(m) }
                : { failure: mutantVerdictText(m) }),
          })),
        },
      ]),
    );
  }
  if (run.interrupted) return run.interrupted === 'SIGINT' ? 130 : 143;
  return ok && (cov?.ok ?? true) ? 0 : 1;
}
