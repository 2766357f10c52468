import {
  loadScenarios,
  type ScenarioLoad,
  SUITE_SCENARIO_DIRS,
  type ValidScenario,
} from '@ptlab/conformance';
import { PtlabError, type ScenarioError } from '@ptlab/core';
import { STRATEGIES, type StrategyName } from '@ptlab/explore';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Child, Limits } from './child/process.js';
import { findScenario, runCheck } from './commands/check.js';
import { runConformanceCommand } from './commands/conformance.js';
import { initArch, renderInitArch } from './commands/init-arch.js';
import { listing, renderListing } from './commands/list.js';
import { runMergeCommand } from './commands/merge.js';
import { runReplay } from './commands/replay.js';
import { runView } from './commands/view.js';
import { describeModules, type OpenModule, openModule } from './modules.js';
import { errorLine } from './output.js';
import { SPLIT_CELL_STEPS } from './plan.js';
import { defaultWorkers } from './pool.js';
import { builtinPorts, checkUniqueConfigs, type LoadedPort } from './registry.js';
import { parseShard } from './shard.js';
import { cliVersion } from './version.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const int =
  (name: string, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max}`);
    return n;
  };
const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The scenarios of every --scenario-dir (each directory once; ids unique across them), or the suite's. */
const scenariosFrom = (dirs: readonly string[]): ScenarioLoad =>
  loadScenarios(dirs.length ? dirs : SUITE_SCENARIO_DIRS);

const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_MEMORY_MB = 2048;

/** The options every command that runs arch code has: where it comes from, and its limits. */
function runOptions(cmd: Command, moduleHelp: string): Command {
  return cmd
    .option('--arch-module <file|dir|package>', moduleHelp, collect, [])
    .option(
      '--scenario-dir <dir>',
      'read scenarios from this directory instead of the suite',
      collect,
      [],
    )
    .option(
      '--cell-timeout <ms>',
      "an arch module still running a cell after this long is killed (ptlab's own ports are reported as slow and go on)",
      int('--cell-timeout', 1),
      DEFAULT_TIMEOUT_MS,
    )
    .option(
      '--cell-memory <MB>',
      'memory limit of each child process that runs cells',
      int('--cell-memory', 64),
      DEFAULT_MEMORY_MB,
    );
}

const limitsOf = (o: { cellTimeout: number; cellMemory: number }): Limits => ({
  cellTimeoutMs: o.cellTimeout,
  cellMemoryMb: o.cellMemory,
});

/** The ports and scenarios of a conformance run (and of the merge that replans it). */
async function conformanceInputs(
  archModules: readonly string[],
  scenarioDirs: readonly string[],
  scenarioIds: readonly string[],
  limits: Limits,
  warm: Child[],
): Promise<{ ports: LoadedPort[]; scenarios: ValidScenario[]; errors: ScenarioError[] }> {
  // The children that described the modules go on to run their first cells.
  const ports = archModules.length
    ? await describeModules(archModules, limits, warm)
    : builtinPorts();
  checkUniqueConfigs(ports);
  const loaded = scenariosFrom(scenarioDirs);
  const { errors } = loaded;
  for (const id of scenarioIds) findScenario(loaded, id);
  const scenarios = scenarioIds.length
    ? loaded.scenarios.filter((s) => scenarioIds.includes(s.id))
    : loaded.scenarios;
  return { ports, scenarios, errors };
}

/** Run the ptlab command line; resolves to the exit code (0 pass, 1 finding, 2 bad usage or input). */
export async function runCli(
  argv: readonly string[],
  io: Io = {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
  },
): Promise<number> {
  let code = 0;
  const open: OpenModule[] = [];
  const warm: Child[] = [];
  const program = new Command('ptlab')
    .description(
      'Model-check how architectures free page tables retracted by khugepaged (pte_free_defer and friends).',
    )
    .version(cliVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      outputError: (s, write) => write(s.replace(/^error: /, 'ptlab: ')),
    })
    .showHelpAfterError();

  runOptions(
    program
      .command('list')
      .description('arch configs, scenarios, mutants and checks, with one-line descriptions')
      .option('--json', 'one JSON object with arrays archConfigs, scenarios, mutants, checks'),
    'also list an arch package outside this repo (loaded in a child process)',
  ).action(async (o) => {
    const ports = [...builtinPorts(), ...(await describeModules(o.archModule, limitsOf(o)))];
    checkUniqueConfigs(ports);
    const { scenarios, errors } = scenariosFrom(o.scenarioDir);
    const l = listing(ports, scenarios);
    io.out(o.json ? JSON.stringify(l, null, 2) : renderListing(l));
    for (const e of errors) io.err(errorLine(e));
    code = errors.length ? 2 : 0;
  });

  runOptions(
    program
      .command('check')
      .description(
        'explore one scenario on one arch config (exit 0 pass: verified, verified-bounded or sampled; 1 finding; 2 bad usage or input; 4 incomplete: an exhaustive search that ran out of budget)',
      )
      .requiredOption('--arch <config>', 'arch config id, e.g. x86-64')
      .requiredOption('--scenario <id>', 'scenario id')
      .option('--mutant <id>', 'switch on a historical bug (mm mutant or arch variant)')
      .addOption(
        new Option('--strategy <name>', 'exploration strategy')
          .choices(STRATEGIES as string[])
          .default('random'),
      )
      .option('--schedules <n>', 'schedules to try at most', int('--schedules', 1), 1000)
      .option('--seed <s>', 'seed (same seed, same trace)', int('--seed'), 1)
      .option(
        '--preemption-bound <n>',
        'exhaustive: context switches per schedule',
        int('--preemption-bound'),
      )
      .option('--no-minimise', 'show the counterexample as found, unshrunk')
      .option('--no-por', 'exhaustive: no sleep-set partial-order reduction')
      .option(
        '--split <n>',
        'exhaustive: split the search across n worker threads (any n gives the same result)',
        int('--split', 1, 64),
      )
      .option('--trace-out <file>', 'write the counterexample trace here')
      .option('--json', 'one JSON object on stdout'),
    'an arch package outside this repo (loaded and run in a child process)',
  ).action(async (o) => {
    const limits = limitsOf(o);
    for (const s of o.archModule as string[]) open.push(await openModule(s, limits));
    const ports: LoadedPort[] = [...builtinPorts(), ...open.map((m) => m.port)];
    checkUniqueConfigs(ports);
    code = await runCheck(
      ports,
      scenariosFrom(o.scenarioDir),
      { ...o, strategy: o.strategy as StrategyName },
      io.out,
      (p): Child | undefined => open.find((m) => m.port === p)?.child,
    );
  });

  runOptions(
    program
      .command('replay')
      .description(
        're-execute a trace on the code as it is: still failing (exit 1), finding gone (exit 0), diverged at step N (exit 3), or not a valid trace (exit 2)',
      )
      .argument('<trace.json>')
      .option(
        '--continue',
        'a diverged replay goes on (the recorded task order where it can run, else the default scheduler) to see whether a check still fires',
      )
      .option(
        '--mutant <id|none>',
        "replay on this mutant instead of the trace's (none: the model without mutant), e.g. to confirm a fix",
      ),
    'the arch module a trace was recorded on (a trace never loads one by itself)',
  ).action(async (file: string, o) => {
    const limits = limitsOf(o);
    code = await runReplay(
      file,
      builtinPorts(),
      scenariosFrom(o.scenarioDir),
      io.out,
      async (spec) => {
        const m = await openModule(spec, limits);
        open.push(m);
        return m;
      },
      o.archModule,
      { continue: Boolean(o.continue), mutant: o.mutant },
    );
  });

  runOptions(
    program
      .command('view')
      .description(
        'write a trace as one self-contained HTML page: per-CPU swimlane, page-table lifelines, struct page, kernel source links',
      )
      .argument('<trace.json>')
      .option('-o, --output <file>', 'where to write the page (default: the trace with .html)'),
    'the arch module a trace was recorded on (a trace never loads one by itself)',
  ).action(async (file: string, o) => {
    const limits = limitsOf(o);
    code = await runView(
      file,
      builtinPorts(),
      scenariosFrom(o.scenarioDir),
      io.out,
      async (spec) => {
        const m = await openModule(spec, limits);
        open.push(m);
        return m;
      },
      o.archModule,
      { output: o.output },
    );
  });

  runOptions(
    program
      .command('conformance')
      .description('every scenario on every arch config, plus every mutant, as a matrix')
      .option('--arch <config>', 'only this arch config (repeatable)', collect, [])
      .option('--scenario <id>', 'only this scenario (repeatable)', collect, [])
      .option('--json <file>', 'write the matrix as JSON')
      .option('--junit <file>', 'write JUnit XML')
      .option(
        '--html <dir>',
        'write an HTML report there: the matrix, the mutants, a trace viewer page per failing cell',
      )
      .option('--traces <dir>', 'where failing cells write their traces', '.ptlab/traces')
      .option('--seed <s>', 'seed', int('--seed'), 1)
      .option(
        '--workers <n>',
        "child processes running cells (0: ptlab's own cells in this process)",
        int('--workers'),
        defaultWorkers(),
      )
      .option('--no-mutants', 'skip the mutant runs')
      .option(
        '--all-mutant-cells',
        'run every cell of every mutant (default: per config, until its first kill)',
      )
      .option('--no-progress', 'no progress bar')
      .option(
        '--split-above <steps>',
        "split a clean cell's exhaustive search across the workers' threads when its expected cost is at least this many steps (the same verdict; 0: never)",
        int('--split-above'),
        SPLIT_CELL_STEPS,
      )
      .option(
        '--shard <i/N>',
        'run only the i-th of N parts of the units, balanced by expected cost (combine with ptlab merge)',
      )
      .option(
        '--resume <file>',
        'journal finished units to this file; run again with it to skip them (refused if made by other code or options)',
      )
      .option(
        '--coverage <dir>',
        'measure which branches of the kernel-model code the cells reach: DIR/lcov.info, DIR/coverage-summary.json, the unreached list (docs/coverage.md)',
      ),
    "run on an arch package outside this repo instead of ptlab's own (repeatable; run in child processes)",
  ).action(async (o) => {
    const limits = limitsOf(o);
    const shard = o.shard === undefined ? undefined : parseShard(o.shard);
    const { ports, scenarios, errors } = await conformanceInputs(
      o.archModule,
      o.scenarioDir,
      o.scenario,
      limits,
      warm,
    );
    code = await runConformanceCommand(
      ports,
      scenarios,
      errors,
      {
        archs: o.arch,
        json: o.json,
        junit: o.junit,
        html: o.html,
        tracesDir: o.traces,
        seed: o.seed,
        workers: o.workers,
        cellTimeoutMs: limits.cellTimeoutMs,
        cellMemoryMb: limits.cellMemoryMb,
        mutants: o.mutants,
        allMutantCells: Boolean(o.allMutantCells),
        splitAbove: o.splitAbove,
        progress: o.progress,
        warm,
        scenarioIds: o.scenario,
        scenarioDirs: o.scenarioDir,
        shard,
        resume: o.resume,
        coverage: o.coverage
          ? {
              dir: o.coverage,
              fullRun: !o.scenario.length && !o.scenarioDir.length && !o.archModule.length,
            }
          : undefined,
      },
      io.out,
      io.err,
    );
  });

  program
    .command('init-arch')
    .description('scaffold an out-of-tree arch package (port, configs, pgalloc, hugetlb, tests)')
    .argument('<name>', 'the arch name, e.g. riscv: lower-case letters and digits, "-" between')
    .option(
      '--dir <dir>',
      'where to write it, a new or empty directory (default ./ptlab-arch-<name>)',
    )
    .action((name: string, o: { dir?: string }) => {
      io.out(renderInitArch(initArch(name, o), name));
    });

  program
    .command('merge')
    .description(
      'combine the --json reports of every shard of a run (ptlab conformance --shard i/N) into its report (exit 0 conformant, 1 not, 2 shards that do not fit together)',
    )
    .argument('<reports...>', 'the shard reports, one per shard, in any order')
    .option('--json <file>', 'write the merged report as JSON')
    .option('--junit <file>', 'write JUnit XML')
    .option('--html <dir>', 'write the HTML report (its trace pages: ptlab view)')
    .action(async (files: string[], o) => {
      code = await runMergeCommand(
        files,
        { json: o.json, junit: o.junit, html: o.html },
        (opts) =>
          conformanceInputs(
            opts.archModules.map((m) => m.spec),
            opts.scenarioDirs,
            opts.scenarios,
            { cellTimeoutMs: opts.cellTimeoutMs, cellMemoryMb: opts.cellMemoryMb },
            warm,
          ),
        io.out,
        io.err,
      );
    });

  try {
    await program.parseAsync(['node', 'ptlab', ...argv]);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof PtlabError) {
      io.err(errorLine(e));
      return 2;
    }
    throw e;
  } finally {
    for (const m of open) m.child.kill();
    for (const c of warm) c.kill();
  }
}
