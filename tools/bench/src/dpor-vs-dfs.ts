/**
 * Issue 11's measurement: executions to exhaust cells with sound DPOR against
 * plain unreduced DFS (the same ExhaustiveSearch with `por: false`). DFS is
 * capped; a cell it does not finish within the cap is shown as "> cap", so
 * the ratio is a lower bound there.
 */
import { BUILTIN_PORTS } from '@ptlab/cli';
import { guardedCreate, knownFixes, loadScenarios, scenarioProgram } from '@ptlab/conformance';
import { ExhaustiveSearch } from '@ptlab/explore';

export interface DporRow {
  readonly config: string;
  readonly scenario: string;
  readonly dpor: number;
  readonly dporComplete: boolean;
  readonly dfs: number;
  readonly dfsComplete: boolean;
  /** dfs / dpor (a lower bound when DFS did not complete). */
  readonly ratio: number;
}

/** The cells measured: small ones DFS can finish, and the bench workload. */
export const DPOR_CELLS: readonly { config: string; scenario: string }[] = [
  { config: 'x86-64', scenario: 'retract-vs-hmm' },
  { config: 'x86-64', scenario: 'mremap-vs-retract' },
  { config: 'x86-64', scenario: 'retract-vs-secondary-mmu' },
  { config: 'x86-64', scenario: 'retract-file-mapped-twice' },
  { config: 'x86-64', scenario: 'retract-vs-fault' },
  { config: 's390-2k', scenario: 'deferred-table-not-reused' },
  { config: 'x86-64', scenario: 'retract-vs-lockless-walkers' },
];

export function dporVsDfs(
  cells: readonly { config: string; scenario: string }[] = DPOR_CELLS,
  dfsCap = 100_000,
  dporCap = 200_000,
): DporRow[] {
  const { scenarios } = loadScenarios();
  const rows: DporRow[] = [];
  for (const c of cells) {
    const port = BUILTIN_PORTS.find((p) => p.configs.some((x) => x.id === c.config));
    const config = port?.configs.find((x) => x.id === c.config);
    const scenario = scenarios.find((s) => s.id === c.scenario);
    if (!port || !config || !scenario)
      throw new Error(`bench cell ${c.config} x ${c.scenario} not found`);
    const program = scenarioProgram(scenario, {
      arch: guardedCreate(port, config),
      variants: knownFixes(config.id),
    });
    const run = (por: boolean, cap: number) =>
      new ExhaustiveSearch(program, { por, maxExecutions: cap, maxSteps: 5000 }).run();
    const d = run(true, dporCap);
    const f = run(false, dfsCap);
    rows.push({
      config: c.config,
      scenario: c.scenario,
      dpor: d.executions,
      dporComplete: d.complete,
      dfs: f.executions,
      dfsComplete: f.complete,
      ratio: f.executions / Math.max(1, d.executions),
    });
  }
  return rows;
}
