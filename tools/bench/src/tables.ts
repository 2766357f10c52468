/**
 * `pnpm bench --tables`: the detailed tables (slow): throughput of a random
 * walk over every clean cell, schedules to the first counterexample per
 * mutant and strategy, and the schedules sleep sets save.
 */
import { BUILTIN_PORTS } from '@ptlab/cli';
import {
  guardedCreate,
  loadScenarios,
  mutantApplies,
  mutantCatalogue,
  notApplicable,
  runCell,
  scenarioProgram,
  type ValidScenario,
} from '@ptlab/conformance';
import type { ArchConfig, ArchPort } from '@ptlab/core';
import { explore, STRATEGIES, type StrategyName } from '@ptlab/explore';
import { killRate, readCoverageSummary, suiteFigureLines } from './suite-figures.js';

const SEED = 1;

function program(
  port: ArchPort,
  config: ArchConfig,
  s: ValidScenario,
  mutant?: { id: string; layer: 'mm' | 'arch' },
) {
  return scenarioProgram(s, {
    arch: guardedCreate(port, config, mutant?.layer === 'arch' ? mutant.id : undefined),
    variants: mutant?.layer === 'mm' ? [mutant.id] : [],
  });
}

export function table(head: string[], rows: (string | number)[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) =>
    r
      .map((c, i) =>
        typeof c === 'number' ? String(c).padStart(w[i] ?? 0) : String(c).padEnd(w[i] ?? 0),
      )
      .join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

/** The tables, printed as they are made. */
export function printTables(quick: boolean, log: (s: string) => void): void {
  const { scenarios } = loadScenarios();
  const configs = BUILTIN_PORTS.flatMap((port) => port.configs.map((config) => ({ port, config })));

  // 1. Throughput.
  const thr: (string | number)[][] = [];
  let totSteps = 0;
  let totMs = 0;
  let totSched = 0;
  for (const { port, config } of configs) {
    for (const s of scenarios) {
      if (notApplicable(s, config)) continue;
      const n = quick ? 50 : 300;
      const t0 = performance.now();
      const r = explore(program(port, config, s), { strategy: 'random', schedules: n, seed: SEED });
      const ms = performance.now() - t0;
      totSteps += r.steps;
      totMs += ms;
      totSched += r.schedules;
      thr.push([
        config.id,
        s.id,
        r.schedules,
        r.steps,
        Math.round(r.steps / (ms / 1000)),
        Math.round(r.schedules / (ms / 1000)),
      ]);
    }
  }
  log('Throughput (random walk over the clean suite, one thread, wall time)');
  log(table(['config', 'scenario', 'schedules', 'steps', 'steps/s', 'schedules/s'], thr));
  log(
    `overall: ${Math.round(totSteps / (totMs / 1000))} steps/s, ${Math.round(totSched / (totMs / 1000))} schedules/s\n`,
  );

  // 2. Time to first counterexample, per mutant and strategy: find the mutant's killing cell
  // (the first config x scenario where the suite's budget kills it), then time each strategy there.
  const budget: Record<StrategyName, number> = {
    random: quick ? 500 : 3000,
    pct: quick ? 500 : 3000,
    exhaustive: quick ? 1000 : 5000,
  };
  const rows: (string | number)[][] = [];
  const kills: { id: string; killed: boolean }[] = [];
  for (const m of mutantCatalogue(BUILTIN_PORTS).filter((x) => x.expect === 'caught')) {
    let cell: { port: ArchPort; config: ArchConfig; s: ValidScenario } | null = null;
    for (const { port, config } of configs) {
      if (cell || !mutantApplies(m, config)) continue;
      for (const s of scenarios) {
        if (cell || notApplicable(s, config)) continue;
        if (runCell({ port, config, scenario: s, mutant: m, seed: SEED }).result === 'fail')
          cell = { port, config, s };
      }
    }
    kills.push({ id: m.id, killed: cell !== null });
    if (!cell) {
      rows.push([m.id, '-', '-', '-', '-', '-', 'no killing cell']);
      continue;
    }
    for (const strategy of STRATEGIES) {
      const t0 = performance.now();
      const r = explore(program(cell.port, cell.config, cell.s, m), {
        strategy,
        schedules: budget[strategy],
        seed: SEED,
        minimise: false,
        preemptionBound: 2,
      });
      const ms = Math.round(performance.now() - t0);
      rows.push([
        m.id,
        strategy,
        cell.config.id,
        cell.s.id,
        r.result === 'fail' ? (r.firstFailureAt ?? 0) : `>${r.schedules}`,
        ms,
        r.finding?.check ?? 'not found within budget',
      ]);
    }
  }
  log("First counterexample per mutant and strategy (seed 1, in the mutant's first killing cell)");
  log(table(['mutant', 'strategy', 'config', 'scenario', 'schedules', 'ms', 'check'], rows));
  log('');
  // The suite's power: kill rate, and branch coverage of the last --coverage run (suite-figures.ts).
  const covPath = '.ptlab/coverage/coverage-summary.json';
  for (const l of suiteFigureLines(killRate(kills), readCoverageSummary(covPath), covPath)) log(l);
  log('');

  // 3. Partial-order reduction.
  const por: (string | number)[][] = [];
  for (const { port, config } of configs.slice(0, quick ? 1 : 3)) {
    for (const s of scenarios.slice(0, 2)) {
      if (notApplicable(s, config)) continue;
      for (const bound of [0, 1]) {
        const cap = quick ? 2000 : 20000;
        const t0 = performance.now();
        const a = explore(program(port, config, s), {
          strategy: 'exhaustive',
          schedules: cap,
          seed: SEED,
          preemptionBound: bound,
          por: true,
        });
        const t1 = performance.now();
        const b = explore(program(port, config, s), {
          strategy: 'exhaustive',
          schedules: cap,
          seed: SEED,
          preemptionBound: bound,
          por: false,
        });
        const t2 = performance.now();
        const fmt = (r: typeof a) => `${r.schedules}${r.complete ? '' : '+ (cap)'}`;
        por.push([
          config.id,
          s.id,
          bound,
          fmt(a),
          Math.round(t1 - t0),
          fmt(b),
          Math.round(t2 - t1),
          a.complete && b.complete ? `${(b.schedules / a.schedules).toFixed(1)}x` : 'n/a',
        ]);
      }
    }
  }
  log('Partial-order reduction (sleep sets): schedules to exhaust the bounded space');
  log(
    table(
      ['config', 'scenario', 'preemptions', 'with POR', 'ms', 'without POR', 'ms', 'reduction'],
      por,
    ),
  );
}
