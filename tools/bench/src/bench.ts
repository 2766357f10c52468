/**
 * pnpm bench: ptlab's speed as figures, in one process and one run.
 *   pnpm bench [--json] [--quick] [--suite] [--tables] [--root DIR] [--only ID,...]
 *  - engine: steps/s and schedules/s on the bench workload, steps/s of a bare
 *    generator loop, and their ratio (the figure that holds across machines);
 *  - cells: the default suite's cells/s on a fixed subset of its plan;
 *  - --suite: the whole default `ptlab conformance` (built CLI): wall and CPU
 *    time, peak memory summed over its processes, the slowest cells;
 *  - --tables: the detailed per-scenario, per-mutant and POR tables;
 *  - --split: big cells' exhaustive search, sequential vs split across 2
 *    worker threads (ptlab check --split 2): speed-up and extra executions;
 *  - --root DIR: measure another checkout's engine (e.g. an old commit);
 *  - --only engine,cells: just these sections.
 * Rates are per CPU second (process.cpuUsage()), with the wall-time twin
 * beside them; the change is against bench/baseline.json. Wall-clock time
 * is measured here, outside the simulator; the simulated runs are deterministic.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { BASELINE_FILE, changes, readBaseline } from './baseline.js';
import { measureCells } from './cells.js';
import { DPOR_CELLS, dporVsDfs } from './dpor-vs-dfs.js';
import { runEngineChild } from './engine-run.js';
import { si } from './measure.js';
import type { BenchContext, Figure, Section } from './section.js';
import { section } from './section.js';
import { measureSplit } from './split.js';
import { REPO, runSuite } from './suite.js';
import { printTables } from './tables.js';

const engine = section({
  id: 'engine',
  anyRoot: true,
  async run(ctx: BenchContext) {
    ctx.log('engine: the bench workload, then the bare generator loop, in a process of their own…');
    const { engine: e, generators: g } = runEngineChild(
      ctx.root ?? REPO,
      ctx.root ? `checkout ${ctx.root}` : 'this tree',
      {
        schedules: ctx.quick ? 200 : 1000,
        repeats: ctx.quick ? 2 : 15,
        generatorSteps: ctx.quick ? 1_000_000 : 5_000_000,
      },
    );
    return {
      engine: e,
      generators: g,
      ratio: e.stepsPerSec.cpu / g.stepsPerSec.cpu,
    };
  },
  text: (f) => [
    `engine: ${f.engine.workload}: ${f.engine.steps} steps (${f.engine.measured})`,
    `  ${si(f.engine.stepsPerSec.cpu)} steps/s, ${si(f.engine.schedulesPerSec.cpu)} schedules/s per CPU second (wall: ${si(f.engine.stepsPerSec.wall)}, ${si(f.engine.schedulesPerSec.wall)}); median of ${f.engine.timing.repeats}, CPU ${f.engine.timing.cpuMsRange.map((x) => x.toFixed(0)).join('-')} ms`,
    `generators: ${f.generators.what}: ${si(f.generators.stepsPerSec.cpu)} steps/s (wall ${si(f.generators.stepsPerSec.wall)})`,
    `ratio: the engine runs at ${(f.ratio * 100).toFixed(3)}% of the bare generator loop`,
  ],
  headline: (f): Record<string, Figure> => ({
    engineStepsPerSec: {
      value: f.engine.stepsPerSec.cpu,
      wall: f.engine.stepsPerSec.wall,
      unit: 'steps/s',
      better: 'higher',
    },
    generatorStepsPerSec: {
      value: f.generators.stepsPerSec.cpu,
      wall: f.generators.stepsPerSec.wall,
      unit: 'steps/s',
      better: 'higher',
    },
    ratio: {
      value: f.ratio,
      wall: f.engine.stepsPerSec.wall / f.generators.stepsPerSec.wall,
      unit: 'engine/generators',
      better: 'higher',
    },
    schedulesPerSec: {
      value: f.engine.schedulesPerSec.cpu,
      wall: f.engine.schedulesPerSec.wall,
      unit: 'schedules/s',
      better: 'higher',
    },
  }),
});

const cells = section({
  id: 'cells',
  async run(ctx: BenchContext) {
    ctx.log('cells: the default plan on the fixed subset…');
    return measureCells();
  },
  text: (f) => [
    `cells: ${f.cells} cells (${f.units} units, ${si(f.executions)} executions, ${si(f.steps)} steps) of \`${f.subset}\` in ${(f.timing.cpuMs / 1000).toFixed(1)} s CPU (${(f.timing.wallMs / 1000).toFixed(1)} s wall): ${f.cellsPerSec.cpu.toFixed(2)} cells/s (wall ${f.cellsPerSec.wall.toFixed(2)})`,
  ],
  headline: (f): Record<string, Figure> => ({
    cellsPerSec: {
      value: f.cellsPerSec.cpu,
      wall: f.cellsPerSec.wall,
      unit: 'cells/s',
      better: 'higher',
    },
  }),
});

const suite = section({
  id: 'suite',
  optIn: '--suite',
  async run(ctx: BenchContext) {
    ctx.log('suite: the default ptlab conformance (built CLI), all of it…');
    return runSuite({ journal: true });
  },
  text: (f) => [
    `suite: \`${f.command}\` exit ${f.exitCode}: ${(f.wallMs / 1000).toFixed(1)} s wall, ${f.cpuMs === null ? '?' : (f.cpuMs / 1000).toFixed(1)} s CPU (all processes; ${(f.tree.cpuMs / 1000).toFixed(1)} s as sampled), peak RSS ${f.tree.peakTreeRssMb} MB summed over ${f.tree.peakProcesses} processes (largest one ${f.tree.peakProcessRssMb} MB), ${f.cells} cells: ${f.cellsPerS.toFixed(2)} cells/s wall`,
    '  slowest cells:',
    ...f.top.map(
      (c) =>
        `    ${(c.elapsedMs / 1000).toFixed(1).padStart(7)} s  ${(c.share * 100).toFixed(1).padStart(5)}%  ${c.arch} x ${c.scenario}${c.mutant ? ` [${c.mutant}]` : ''} (${c.verdict}, ${c.schedules} executions)`,
    ),
    `  by config: ${f.byConfig.map((g) => `${g.id} ${(g.ms / 1000).toFixed(0)} s`).join(', ')}`,
    `  by scenario: ${f.byScenario.map((g) => `${g.id} ${(g.ms / 1000).toFixed(0)} s`).join(', ')}`,
    `  mutant cells: ${f.byMutant.reduce((a, g) => a + g.ms, 0) / 1000} s (${f.mutantCellsFrom})`,
    `  clean cells: ${Object.entries(f.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}; verified: ${(f.verifiedFraction * 100).toFixed(1)}% of the applicable ones`,
  ],
  headline: (f): Record<string, Figure> => ({
    suiteWallMs: { value: f.wallMs, unit: 'ms', better: 'lower' },
    ...(f.cpuMs === null ? {} : { suiteCpuMs: { value: f.cpuMs, unit: 'ms', better: 'lower' } }),
    suitePeakRssMb: { value: f.tree.peakTreeRssMb, unit: 'MB', better: 'lower' },
    suiteCellsPerSec: { value: f.cellsPerS, unit: 'cells/s (wall)', better: 'higher' },
    suiteVerifiedFraction: {
      value: f.verifiedFraction,
      unit: 'verified / applicable clean cells',
      better: 'higher',
    },
  }),
});

const dpor = section({
  id: 'dpor',
  async run(ctx: BenchContext) {
    ctx.log('dpor: executions to exhaust cells, sound DPOR against plain DFS…');
    return dporVsDfs(DPOR_CELLS, ctx.quick ? 10_000 : 100_000);
  },
  text: (rows) => [
    'dpor: executions to exhaust each cell (DPOR with wakeup trees vs unreduced DFS; ">" = DFS stopped at its cap):',
    ...rows.map(
      (r) =>
        `  ${`${r.config} x ${r.scenario}`.padEnd(52)} DPOR ${String(r.dpor).padStart(7)}${r.dporComplete ? '' : ' (cut)'}  DFS ${`${r.dfsComplete ? '' : '>'}${r.dfs}`.padStart(8)}  ${r.dfsComplete ? '' : '≥'}${r.ratio.toFixed(1)}x`,
    ),
  ],
  headline: (rows): Record<string, Figure> => ({
    dporMinReduction: {
      value: Math.min(...rows.map((r) => r.ratio)),
      unit: 'DFS/DPOR executions, smallest over the cells (a lower bound where DFS was capped)',
      better: 'higher',
    },
    dporCellsComplete: {
      value: rows.filter((r) => r.dporComplete).length,
      unit: `of ${rows.length} cells exhausted by DPOR`,
      better: 'higher',
    },
  }),
});

const split = section({
  id: 'split',
  optIn: '--split',
  async run(ctx: BenchContext) {
    ctx.log('split: big cells searched sequentially, then split across 2 worker threads…');
    return measureSplit(ctx.quick ? 3_000 : 200_000);
  },
  text: (rows) => [
    `split: one cell's exhaustive search, sequential vs split across 2 worker threads (wall time; worker start-up apart):`,
    ...rows.map(
      (r) =>
        `  ${r.cell}: sequential ${(r.sequential.wallMs / 1000).toFixed(1)} s wall, ${(r.sequential.cpuMs / 1000).toFixed(1)} s CPU (${r.sequential.executions} executions); split ${(r.split.wallMs / 1000).toFixed(1)} s wall, ${(r.split.cpuMs / 1000).toFixed(1)} s CPU (${(r.split.oneWorkerCpuMs / 1000).toFixed(1)} s CPU on 1 worker; ${r.split.executions} executions, ${r.split.rounds} rounds, ${r.split.tasks} tasks; start-up ${(r.split.startupMs / 1000).toFixed(1)} s apart): measured ${r.speedup.toFixed(2)}x faster while the machine offered ${r.capacity.toFixed(2)}x (load ${r.load.toFixed(1)}); the rounds allow ${r.ideal.toFixed(2)}x, ${r.estimated.toFixed(2)}x estimated on 2 idle cores with the CPU overhead; ${r.overhead.toFixed(3)}x the executions`,
    ),
  ],
  headline: (rows): Record<string, Figure> => ({
    splitMinSpeedup: {
      value: Math.min(...rows.map((r) => r.speedup)),
      unit: 'sequential / split wall time with 2 workers, smallest over the cells',
      better: 'higher',
    },
    splitMinIdealSpeedup: {
      value: Math.min(...rows.map((r) => r.ideal)),
      unit: 'sequential executions / executions on the critical path of the rounds, 2 workers (machine-independent)',
      better: 'higher',
    },
    splitMinEstimatedSpeedup: {
      value: Math.min(...rows.map((r) => r.estimated)),
      unit: 'the rounds’ speed-up times sequential / split CPU time on 1 worker, 2 idle cores (estimate)',
      better: 'higher',
    },
    splitMaxOverhead: {
      value: Math.max(...rows.map((r) => r.overhead)),
      unit: 'split / sequential executions, largest over the cells',
      better: 'lower',
    },
  }),
});

/** Every section, in output order (add new measurements here). */
export const SECTIONS: readonly Section<never>[] = [
  engine,
  cells,
  dpor,
  suite,
  split,
] as unknown as Section<never>[];

function gitDescribe(dir: string): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=7'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const rootAt = argv.indexOf('--root');
  const root = rootAt >= 0 ? resolve(argv[rootAt + 1] ?? '.') : null;
  const json = flags.has('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',')) : null;
  const ctx: BenchContext = {
    quick: flags.has('--quick'),
    root,
    log: (s) => process.stderr.write(`${s}\n`),
  };
  const out: string[] = [];
  const details: Record<string, unknown> = {};
  const figures: Record<string, Figure> = {};
  for (const s of SECTIONS) {
    if (only ? !only.has(s.id) : s.optIn && !flags.has(s.optIn)) continue;
    if (root && !s.anyRoot) continue;
    const f = await s.run(ctx);
    details[s.id] = f;
    Object.assign(figures, s.headline(f));
    out.push(...s.text(f), '');
  }
  const baseline = readBaseline();
  // A --quick run's shorter workloads are not comparable with the baseline's full ones.
  const change = root || ctx.quick ? {} : changes(figures, baseline);
  const meta = {
    bench: 1,
    date: new Date().toISOString(),
    commit: gitDescribe(root ?? REPO),
    machine: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: availableParallelism(),
      loadavg: loadavg().map((x) => Number(x.toFixed(2))),
    },
  };
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ...meta, ...(root ? { root } : {}), figures, change, details }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      `ptlab bench at ${meta.commit}, node ${meta.machine.node}, ${meta.machine.cpus} CPUs, load ${meta.machine.loadavg.join(' ')}\n\n`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
    if (Object.keys(change).length) {
      process.stdout.write(`change against ${BASELINE_FILE.replace(REPO, '')}:\n`);
      for (const [k, c] of Object.entries(change))
        process.stdout.write(
          `  ${k.padEnd(22)} ${si(c.now).padStart(7)}  was ${si(c.was).padStart(7)} at ${c.commit}: ×${c.factor.toFixed(2)}${c.factor >= 1 ? '' : ' (worse)'}\n`,
        );
    } else if (ctx.quick) process.stdout.write('(--quick: no change against the baseline)\n');
    else if (!root && !baseline) process.stdout.write(`no baseline at ${BASELINE_FILE}\n`);
    else if (!root && baseline) {
      // The file is there; it just holds none of this run's figures (e.g. --only split).
      const has = [...new Set(baseline.measurements.flatMap((m) => Object.keys(m.figures)))];
      process.stdout.write(
        `no figure of this run in ${BASELINE_FILE.replace(REPO, '')} (it has ${has.join(', ')})\n`,
      );
    }
  }
  if (flags.has('--tables') && !root) printTables(ctx.quick, (s) => process.stdout.write(`${s}\n`));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
