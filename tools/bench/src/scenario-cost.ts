/**
 * What scenarios cost the default run: each scenario on each config under
 * the suite's default budget (CLEAN_BUDGET, known findings' fixes applied, as
 * `ptlab conformance` runs clean cells), with its verdict, executions and
 * milliseconds, and the totals. One thread, in this process.
 *
 *   node --conditions=source --import tsx tools/bench/src/scenario-cost.ts [--dir DIR]... [--scenario ID]... [--arch CONFIG]... [--json FILE]
 *
 * Executions are deterministic; milliseconds are wall-clock here, outside the simulator.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILTIN_PORTS } from '@ptlab/cli';
import { knownFixes, loadScenarios, runCell, type ValidScenario } from '@ptlab/conformance';
import type { ArchConfig, ArchPort } from '@ptlab/core';

export interface CellCost {
  readonly scenario: string;
  readonly config: string;
  readonly verdict: string;
  readonly executions: number;
  readonly ms: number;
  readonly reason?: string;
}

/** Run each scenario on each config with the default budget; `onCell` sees each as it ends. */
export function scenarioCosts(
  scenarios: readonly ValidScenario[],
  configs: readonly { port: ArchPort; config: ArchConfig }[],
  onCell: (c: CellCost) => void = () => {},
): CellCost[] {
  const out: CellCost[] = [];
  for (const s of scenarios)
    for (const { port, config } of configs) {
      const patches = knownFixes(config.id);
      const t0 = performance.now();
      const r = runCell({
        port,
        config,
        scenario: s,
        seed: 1,
        ...(patches.length ? { patches } : {}),
      });
      const c: CellCost = {
        scenario: s.id,
        config: config.id,
        verdict: r.verdict,
        executions: r.schedules,
        ms: Math.round(performance.now() - t0),
        ...(r.verdict === 'fail' || r.verdict === 'error' ? { reason: r.reason ?? '' } : {}),
      };
      out.push(c);
      onCell(c);
    }
  return out;
}

function main(argv: readonly string[]): void {
  const opt = (name: string) =>
    argv.flatMap((a, i) =>
      a === name && argv[i + 1] !== undefined ? [argv[i + 1] as string] : [],
    );
  const dirs = opt('--dir');
  const ids = opt('--scenario');
  const archs = opt('--arch');
  const load = dirs.length ? loadScenarios(dirs) : loadScenarios();
  for (const e of load.errors) console.error(`scenario error: ${e.message}`);
  const scenarios = ids.length ? load.scenarios.filter((s) => ids.includes(s.id)) : load.scenarios;
  const configs = BUILTIN_PORTS.flatMap((port) =>
    port.configs.map((config) => ({ port, config })),
  ).filter((x) => !archs.length || archs.includes(x.config.id));
  const cells = scenarioCosts(scenarios, configs, (c) =>
    console.log(
      `${c.scenario.padEnd(36)} ${c.config.padEnd(18)} ${c.verdict.padEnd(16)} ${String(c.executions).padStart(6)} ${String(c.ms).padStart(7)} ms${c.reason ? `  ${c.reason.slice(0, 160)}` : ''}`,
    ),
  );
  const per = new Map<string, { executions: number; ms: number; cells: number }>();
  for (const c of cells) {
    const p = per.get(c.scenario) ?? { executions: 0, ms: 0, cells: 0 };
    per.set(c.scenario, {
      executions: p.executions + c.executions,
      ms: p.ms + c.ms,
      cells: p.cells + (c.verdict === 'n/a' ? 0 : 1),
    });
  }
  console.log('\nper scenario (applicable cells, executions, ms):');
  for (const [s, p] of per)
    console.log(
      `  ${s.padEnd(36)} ${String(p.cells).padStart(3)} ${String(p.executions).padStart(8)} ${String(p.ms).padStart(8)}`,
    );
  const tot = cells.reduce((a, c) => ({ e: a.e + c.executions, ms: a.ms + c.ms }), { e: 0, ms: 0 });
  const bad = cells.filter((c) => c.verdict === 'fail' || c.verdict === 'error');
  console.log(
    `total: ${scenarios.length} scenarios, ${cells.filter((c) => c.verdict !== 'n/a').length} applicable cells of ${cells.length}, ${tot.e} executions, ${(tot.ms / 1000).toFixed(1)} s CPU; ${bad.length} failing, ${cells.filter((c) => c.verdict === 'sampled' || c.verdict === 'verified-bounded').length} not fully verified`,
  );
  const json = opt('--json')[0];
  if (json) writeFileSync(json, `${JSON.stringify({ cells, total: tot }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  main(process.argv.slice(2));
