/**
 * The split search (issue 12, "big cells use both cores"): wall time of one
 * big cell's exhaustive search, sequential in this process against split
 * across 2 worker threads (the pool `ptlab check --split 2` uses), and the
 * split search's extra executions. Wall time is the figure here: the
 * workers' CPU time is not this process's. Worker start-up (each worker
 * loads ptlab and builds the program) is timed apart.
 */
import { loadavg } from 'node:os';
import { BUILTIN_PORTS, configOf, programOf, SplitPool } from '@ptlab/cli';
import { loadScenarios, scenarioById } from '@ptlab/conformance';
import { ExhaustiveSearch, splitSearch } from '@ptlab/explore';
import { timed, timedAsync } from './measure.js';

export const SPLIT_CELLS: readonly {
  readonly config: string;
  readonly scenario: string;
  readonly bound: number | undefined;
}[] = [
  { config: 's390-2k', scenario: 'collapse-tlb-flush', bound: 2 },
  { config: 'arm64-4k', scenario: 'gen-truncate-hugetlb', bound: undefined },
];

const MAX_STEPS = 5000;
const WORKERS = 2;

export interface SplitRow {
  readonly cell: string;
  readonly sequential: { readonly executions: number; readonly wallMs: number };
  readonly split: {
    readonly executions: number;
    readonly wallMs: number;
    readonly rounds: number;
    readonly tasks: number;
    readonly startupMs: number;
  };
  /** Sequential wall time / split wall time (start-up not counted). */
  readonly speedup: number;
  /** Split executions / sequential executions. */
  readonly overhead: number;
  /** The 1-minute load average when the cell started (2 cores: above 2, someone else was running). */
  readonly load: number;
}

export async function measureSplit(maxExecutions: number): Promise<SplitRow[]> {
  const scenarios = loadScenarios();
  const rows: SplitRow[] = [];
  for (const c of SPLIT_CELLS) {
    const load = loadavg()[0] ?? 0;
    const { port, config } = configOf(BUILTIN_PORTS, c.config);
    const scenario = scenarioById(scenarios, c.scenario);
    const program = programOf(port, config, scenario, null, []);
    const o = { preemptionBound: c.bound, maxSteps: MAX_STEPS, maxExecutions };
    const seq = timed(() => new ExhaustiveSearch(program, o).run());
    const t0 = performance.now();
    const pool = new SplitPool(
      {
        configId: c.config,
        scenario,
        mutant: null,
        patches: [],
        options: { preemptionBound: c.bound, maxSteps: MAX_STEPS },
      },
      WORKERS,
    );
    try {
      await pool.ready();
      const startupMs = performance.now() - t0;
      const par = await timedAsync(() => splitSearch(program, o, pool.run));
      rows.push({
        cell: `${c.config} x ${c.scenario} (${c.bound === undefined ? 'unbounded' : `bound ${c.bound}`})`,
        sequential: { executions: seq.value.executions, wallMs: seq.wallMs },
        split: {
          executions: par.value.executions,
          wallMs: par.wallMs,
          rounds: par.value.rounds,
          tasks: par.value.tasks,
          startupMs,
        },
        speedup: seq.wallMs / par.wallMs,
        overhead: par.value.executions / seq.value.executions,
        load,
      });
    } finally {
      await pool.close();
    }
  }
  return rows;
}
