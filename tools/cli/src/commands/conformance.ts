import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutantApplies, mutantCatalogue, type ValidScenario } from '@ptlab/conformance';
import { type ScenarioError, UsageError } from '@ptlab/core';
import cliProgress from 'cli-progress';
import type { CellOutcome } from '../cell-worker.js';
import { junitXml } from '../junit.js';
import { runUnits, type Unit } from '../pool.js';
import type { LoadedPort } from '../registry.js';

export interface ConformanceOptions {
  readonly archs: readonly string[];
  readonly json?: string | undefined;
  readonly junit?: string | undefined;
  readonly tracesDir: string;
  readonly seed: number;
  readonly workers: number;
  readonly cellTimeoutMs: number;
  readonly mutants: boolean;
  /** Run every cell of every mutant, not only until its first kill per config. */
  readonly allMutantCells: boolean;
  readonly progress: boolean;
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
  const configs = ports.flatMap((p) => p.port.configs.map((config) => ({ p, config })));
  const known = new Set(configs.map((c) => c.config.id));
  for (const a of o.archs)
    if (!known.has(a))
      throw new UsageError(`unknown arch config "${a}" (known: ${[...known].join(', ')})`);
  const chosen = o.archs.length ? configs.filter((c) => o.archs.includes(c.config.id)) : configs;
  const fullCatalogue = o.mutants ? mutantCatalogue(ports.map((p) => p.port)) : [];
  // A mutant for configs outside --arch is not run, and says so, rather than counting as not killed.
  const catalogue = fullCatalogue.filter((m) =>
    chosen.some(({ config }) => mutantApplies(m, config)),
  );
  const skippedMutants = fullCatalogue.filter((m) => !catalogue.includes(m)).map((m) => m.id);

  const units: Unit[] = [];
  for (const { p, config } of chosen)
    for (const scenario of scenarios)
      units.push({
        kind: 'cell',
        task: { ref: p.ref, configId: config.id, scenario, mutant: null, seed: o.seed },
      });
  for (const m of catalogue) {
    for (const { p, config } of chosen) {
      if (!mutantApplies(m, config)) continue;
      units.push({
        kind: 'mutant',
        task: {
          ref: p.ref,
          configId: config.id,
          scenarios,
          mutant: m,
          seed: o.seed,
          all: o.allMutantCells,
        },
      });
    }
  }

  const bar =
    o.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: 'conformance [{bar}] {value}/{total} | {eta_formatted} left | {last}',
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(units.length, 0, { last: '' });
  let done = 0;
  let lastPct = -1;
  const t0 = performance.now();
  // Interrupted (Ctrl-C, CI timeout): keep every cell finished so far in the JSON report.
  const finished: (readonly CellOutcome[] | undefined)[] = new Array(units.length);
  const onInterrupt = () => {
    bar?.stop();
    const cells = finished.flatMap((rs) => rs ?? []).filter((r) => r.mutant === null);
    err(`conformance interrupted: ${done}/${units.length} units finished`);
    if (o.json) {
      writeFileSync(
        o.json,
        `${JSON.stringify(
          {
            ptlab: 1,
            seed: o.seed,
            interrupted: true,
            unitsFinished: done,
            unitsTotal: units.length,
            cells: cells.map((r) => ({
              arch: r.arch,
              scenario: r.scenario,
              result: r.result,
              ...(r.reason ? { reason: r.reason } : {}),
            })),
            mutantCells: finished
              .flatMap((rs) => rs ?? [])
              .filter((r) => r.mutant !== null)
              .map((r) => ({
                arch: r.arch,
                scenario: r.scenario,
                mutant: r.mutant,
                result: r.result,
              })),
          },
          null,
          2,
        )}\n`,
      );
      err(`partial results written to ${o.json}`);
    }
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  const grouped = await runUnits(
    units,
    { workers: o.workers, cellTimeoutMs: o.cellTimeoutMs },
    (rs, i) => {
      finished[i] = rs;
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
  process.off('SIGINT', onInterrupt);
  process.off('SIGTERM', onInterrupt);
  const results = grouped.flat();
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
      ok: m.expect === 'caught' ? killed : !killed && cells.every((c) => !c.error),
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
  const cols = chosen.map((c) => c.config.id);
  const w = Math.max(...scenarios.map((s) => s.id.length), 8);
  out(
    `ptlab conformance: ${scenarios.length} scenarios x ${cols.length} arch configs${o.mutants ? ` + ${catalogue.length} mutants` : ''}, seed ${o.seed}, ${results.length} cells in ${(elapsedMs / 1000).toFixed(1)} s`,
  );
  out('');
  for (const [i, c] of cols.entries()) out(`  [${String(i + 1).padStart(2)}] ${c}`);
  out('');
  out(`${''.padEnd(w)} ${cols.map((_, i) => String(i + 1).padStart(4)).join('')}`);
  for (const s of scenarios) {
    const row = cols.map((c) => {
      const r = base.find((x) => x.arch === c && x.scenario === s.id);
      return (r?.result === 'pass' ? 'ok' : r?.result === 'n/a' ? '-' : 'FAIL').padStart(4);
    });
    out(`${s.id.padEnd(w)} ${row.join('')}`);
  }
  out('  (ok: pass, -: not applicable, FAIL: a check fired or the cell could not run)');
  const failing = base.filter((r) => r.result === 'fail');
  if (failing.length) {
    out('');
    out('Failing cells:');
    for (const r of failing)
      out(
        `  FAIL ${r.arch} x ${r.scenario}: ${r.reason ?? ''}${tracePath.get(r) ? `\n       trace: ${tracePath.get(r)} (pnpm ptlab replay ${tracePath.get(r)})` : ''}`,
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
            : `NOT KILLED (${m.cells} cells ran${m.errors.length ? `; ${m.errors.length} could not run: ${m.errors[0]?.message}` : ''})`
          : m.killed
            ? `WRONGLY FAILS in ${m.killedBy.length} cells, first ${m.killedBy[0]?.arch} x ${m.killedBy[0]?.scenario} (${m.killedBy[0]?.check})`
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
  const ok = failing.length === 0 && mutants.every((m) => m.ok) && scenarioErrors.length === 0;
  out('');
  out(
    `${base.length - failing.length - notApplicable.length} passed, ${failing.length} failed, ${notApplicable.length} not applicable; mutants: ${mutants.filter((m) => m.ok).length}/${mutants.length} as expected${ok ? '' : ' -- NOT CONFORMANT'}`,
  );

  const report = {
    ptlab: 1,
    seed: o.seed,
    elapsedMs,
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
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
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
            ...(r.result === 'fail'
              ? { failure: `${r.reason ?? ''}${r.story ? `\n\n${r.story}` : ''}` }
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
  return ok ? 0 : 1;
}
