/**
 * The default suite's cells per second: the default conformance plan
 * (CLEAN_BUDGET for clean cells, MUTANT_BUDGET for mutants, the known
 * findings) over a fixed subset of configs and scenarios, run in this
 * process through the CLI's own runner, as `ptlab conformance --workers 0
 * --arch … --scenario …` runs it. The whole suite is `pnpm bench --suite`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinPorts, planConformance, runPlanUnits } from '@ptlab/cli';
import { loadScenarios } from '@ptlab/conformance';
import { type Rate, rate, type Timing, timedAsync } from './measure.js';

/** The fixed subset (changing it makes the figure incomparable with the baseline's). */
export const CELLS_SUBSET = {
  archs: ['x86-64', 'x86-32-pae', 'arm64-4k', 'sparc32'],
  scenarios: ['retract-vs-exit', 'retract-vs-hmm', 'hugetlb-walk-balance'],
} as const;

export const subsetCommand = (): string =>
  `ptlab conformance --workers 0 ${CELLS_SUBSET.archs.map((a) => `--arch ${a}`).join(' ')} ${CELLS_SUBSET.scenarios.map((s) => `--scenario ${s}`).join(' ')}`;

export interface CellsFigures {
  readonly subset: string;
  readonly units: number;
  /** Clean and mutant cells run (not-applicable ones included, as the suite counts them). */
  readonly cells: number;
  readonly executions: number;
  readonly steps: number;
  readonly timing: Timing;
  readonly cellsPerSec: Rate;
}

export async function measureCells(): Promise<CellsFigures> {
  const all = loadScenarios().scenarios;
  const scenarios = all.filter((s) => (CELLS_SUBSET.scenarios as readonly string[]).includes(s.id));
  const plan = planConformance(builtinPorts(), scenarios, {
    archs: [...CELLS_SUBSET.archs],
    seed: 1,
    mutants: true,
    allMutantCells: false,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ptlab-bench-cells-'));
  try {
    const { value: run, ...timing } = await timedAsync(() =>
      runPlanUnits(
        plan.units,
        {
          tracesDir: dir,
          workers: 0,
          cellTimeoutMs: 3_600_000,
          cellMemoryMb: 2048,
          progress: false,
        },
        () => {},
      ),
    );
    // As the CLI counts them: clean and mutant cells (the known findings' runs apart).
    const cells = [...run.records.values()]
      .filter((r) => (JSON.parse(r.key) as string[])[0] !== 'finding')
      .flatMap((r) => r.cells);
    return {
      subset: subsetCommand(),
      units: plan.units.length,
      cells: cells.length,
      executions: cells.reduce((a, c) => a + c.schedules, 0),
      steps: cells.reduce((a, c) => a + c.steps, 0),
      timing,
      cellsPerSec: rate(cells.length, timing),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
