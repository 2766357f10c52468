import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutantApplies, mutantCatalogue, type ValidScenario } from '@ptlab/conformance';
import type { ScenarioError } from '@ptlab/core';
import { BUILTIN_DOMAIN, type Child, moduleDomain } from '../child/process.js';
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
}

interface MutantReport {
  id: string;
  layer: string;
  expect: 'caught' | 'pass';
  killed: boolean;
  ok: boolean;
  killedBy: { arch: string; scenario: string; check: string; trace?: string }[];
  cells: number;
  /** Cells that could not run (an arch error or timeout): they prove nothing either way. */
  errors: { arch: string; scenario: string; message: string }[];
}

const slug = (s: string): string => s.replace(/[^a-z0-9.-]+/gi, '_');

/** `ptlab conformance`: every scenario on every config, every mutant; exit 0 only when all pass and all mutants are killed. */
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
  const fullCatalogue = o.mutants ? mutantCatalogue(ports.map((p) => p.port)) : [];
  // A mutant for configs outside --arch is not run, and says so, rather than counting as not killed.
  const catalogue = fullCatalogue.filter((m) =>
    chosen.some(({ config }) => mutantApplies(m, config)),
  );
  const skippedMutants = fullCatalogue.filter((m) => !catalogue.includes(m)).map((m) => m.id);

  const domainOf = (p: LoadedPort) =>
    'module' in p.ref ? moduleDomain(p.ref.module) : BUILTIN_DOMAIN;
  const archModuleOf = (p: LoadedPort) =>
    'module' in p.ref ? { archModule: p.ref.module.entry } : {};
  const units: Unit[] = [];
  for (const { p, config } of chosen)
    for (const scenario of scenarios)
      units.push({
        domain: domainOf(p),
        cells: [{ configId: config.id, scenario, mutant: null, seed: o.seed, ...archModuleOf(p) }],
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
        })),
        // Scenarios in order until the first that kills the mutant, unless --all-mutant-cells.
        stopAfter: (r) => !o.allMutantCells && m.expect === 'caught' && r.result === 'fail',
      });
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
  const results = run.results.flat();
  const elapsedMs = Math.round(performance.now() - t0);

  // Traces for failing cells.
  mkdirSync(o.tracesDir, { recursive: true });
  const tracePath = new Map<CellOutcome, string>();
  for (const r of results) {
    if (r.result !== 'fail' || !r.trace) continue;
    const file = join(
      o.tracesDir,
      `${slug(r.arch)}__${slug(r.scenario)}${r.mutant ? `__${slug(r.mutant)}` : ''}.json`,
    );
    writeFileSync(file, `${JSON.stringify(r.trace, null, 2)}\n`);
    tracePath.set(r, file);
  }

  const base = results.filter((r) => r.mutant === null);
  const mutants: MutantReport[] = catalogue.map((m) => {
    const cells = results.filter((r) => r.mutant === m.id);
    const killers = cells.filter((r) => r.result === 'fail' && r.finding);
    const killed = killers.length > 0;
    return {
      id: m.id,
      layer: m.layer,
      expect: m.expect,
      killed,
      ok: m.expect === 'caught' ? killed : !killed && cells.every((x) => !x.error),
      cells: cells.length,
      errors: cells
        .filter((r) => r.error)
        .map((r) => ({ arch: r.arch, scenario: r.scenario, message: r.error?.message ?? '' })),
      killedBy: killers.map((r) => ({
        arch: r.arch,
        scenario: r.scenario,
        check: r.finding?.check ?? '?',
        ...(tracePath.get(r) ? { trace: tracePath.get(r) as string } : {}),
      })),
    };
  });

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
  out(`${''.padEnd(w)} ${cols.map((_, i) => String(i + 1).padStart(4)).join('')}`);
  const cell = (r: CellOutcome | undefined): string => {
    if (!r) return c.dim('?'.padStart(4));
    if (r.result === 'pass') return c.green('ok'.padStart(4));
    if (r.result === 'n/a') return c.dim('-'.padStart(4));
    return c.red('FAIL'.padStart(4));
  };
  for (const s of scenarios) {
    const row = cols.map((id) => cell(base.find((x) => x.arch === id && x.scenario === s.id)));
    out(`${s.id.padEnd(w)} ${row.join('')}`);
  }
  out(
    `  (ok: pass, -: not applicable, FAIL: a check fired or the cell could not run${run.interrupted ? ', ?: not run (interrupted)' : ''})`,
  );
  // Anything that is not a pass or n/a fails: a verdict kind this CLI does not know is not green.
  const failing = base.filter((r) => r.result !== 'pass' && r.result !== 'n/a');
  if (failing.length) {
    out('');
    out('Failing cells:');
    for (const r of failing)
      out(
        `  ${c.red('FAIL')} ${r.arch} x ${r.scenario}: ${r.reason ?? r.result}${tracePath.get(r) ? `\n       trace: ${tracePath.get(r)} (pnpm ptlab replay ${tracePath.get(r)})` : ''}`,
      );
  }
  if (o.mutants) {
    out('');
    const mw = Math.max(...mutants.map((m) => m.id.length), 6);
    out(`${'mutant'.padEnd(mw)}  expect  verdict`);
    for (const m of mutants) {
      const verdict =
        m.expect === 'caught'
          ? m.killed
            ? `killed by ${m.killedBy.length}/${m.cells} cells, first ${m.killedBy[0]?.arch} x ${m.killedBy[0]?.scenario} (${m.killedBy[0]?.check})`
            : c.red(
                `NOT KILLED (${m.cells} cells ran${m.errors.length ? `; ${m.errors.length} could not run: ${m.errors[0]?.message}` : ''})`,
              )
          : m.killed
            ? c.red(
                `WRONGLY FAILS in ${m.killedBy.length} cells, first ${m.killedBy[0]?.arch} x ${m.killedBy[0]?.scenario} (${m.killedBy[0]?.check})`,
              )
            : `passes all ${m.cells} cells, as it should`;
      out(`${m.id.padEnd(mw)}  ${m.expect.padEnd(6)}  ${verdict}`);
    }
  }
  const cut = base.filter((r) => r.truncated);
  if (cut.length) {
    out(
      `warning: ${cut.length} cell(s) had schedules cut off by the step budget (they prove nothing): ${cut.map((r) => `${r.arch} x ${r.scenario} (${r.truncated})`).join(', ')}`,
    );
  }
  if (skippedMutants.length)
    out(`not run (no chosen config has them): ${skippedMutants.join(', ')}`);
  for (const e of scenarioErrors) out(`\nscenario error: ${e.message}`);
  const notApplicable = base.filter((r) => r.result === 'n/a');
  const unitsFinished = run.finished.filter(Boolean).length;
  const ok =
    !run.interrupted &&
    failing.length === 0 &&
    mutants.every((m) => m.ok) &&
    scenarioErrors.length === 0;
  out('');
  if (run.interrupted)
    out(
      c.yellow(
        `interrupted (${run.interrupted}): ${unitsFinished}/${units.length} units finished; the verdicts above cover only those`,
      ),
    );
  out(
    `${base.length - failing.length - notApplicable.length} passed, ${failing.length} failed, ${notApplicable.length} not applicable; mutants: ${mutants.filter((m) => m.ok).length}/${mutants.length} as expected${ok ? '' : c.red(' -- NOT CONFORMANT')}`,
  );

  const report = {
    ptlab: 1,
    seed: o.seed,
    elapsedMs,
    ...(run.interrupted
      ? { interrupted: run.interrupted, unitsFinished, unitsTotal: units.length }
      : {}),
    archConfigs: cols,
    scenarios: scenarios.map((s) => s.id),
    cells: base.map((r) => ({
      arch: r.arch,
      scenario: r.scenario,
      result: r.result,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.finding ? { check: r.finding.check } : {}),
      ...(tracePath.get(r) ? { trace: tracePath.get(r) } : {}),
      ...(r.error ? { error: r.error } : {}),
      schedules: r.schedules,
      steps: r.steps,
      ...(r.truncated ? { truncatedSchedules: r.truncated } : {}),
      elapsedMs: Math.round(r.elapsedMs),
    })),
    mutants,
    mutantsNotRun: skippedMutants,
    scenarioErrors: scenarioErrors.map((e) => e.message),
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
            ...(tracePath.get(r) ? { output: `trace: ${tracePath.get(r)}` } : {}),
          })),
        },
        {
          name: 'mutants',
          cases: mutants.map((m) => ({
            classname: `mutant.${m.layer}`,
            name: m.id,
            timeMs: 0,
            ...(m.ok
              ? {}
              : {
                  failure:
                    m.expect === 'caught'
                      ? `mutant ${m.id} was not killed by any of ${m.cells} cells`
                      : `alternative design ${m.id} fails: ${m.killedBy.map((k) => `${k.arch} x ${k.scenario} (${k.check})`).join(', ')}`,
                }),
          })),
        },
      ]),
    );
  }
  if (run.interrupted) return run.interrupted === 'SIGINT' ? 130 : 143;
  return ok ? 0 : 1;
}
