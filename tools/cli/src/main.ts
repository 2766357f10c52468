import { loadScenarios, SCENARIO_DIR } from '@ptlab/conformance';
import { PtlabError, UsageError } from '@ptlab/core';
import { STRATEGIES, type StrategyName } from '@ptlab/explore';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runCheck } from './commands/check.js';
import { runConformanceCommand } from './commands/conformance.js';
import { listing, renderListing } from './commands/list.js';
import { runReplay } from './commands/replay.js';
import { defaultWorkers } from './pool.js';
import { builtinPorts, resolvePorts } from './registry.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const int =
  (name: string, min = 0) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
const collect = (v: string, prev: string[]): string[] => [...prev, v];

function scenariosFrom(dirs: readonly string[]) {
  const all = dirs.length ? dirs : [SCENARIO_DIR];
  const scenarios = [];
  const errors = [];
  for (const d of all) {
    const r = loadScenarios(d);
    scenarios.push(...r.scenarios);
    errors.push(...r.errors);
  }
  return { scenarios, errors };
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
  const program = new Command('ptlab')
    .description(
      'Model-check how architectures free page tables retracted by khugepaged (pte_free_defer and friends).',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError();

  program
    .command('list')
    .description('arch configs, scenarios, mutants and checks, with one-line descriptions')
    .option('--json', 'one JSON object with arrays archConfigs, scenarios, mutants, checks')
    .option(
      '--arch-module <path|package>',
      'also list an arch package outside this repo',
      collect,
      [],
    )
    .option(
      '--scenario-dir <dir>',
      'read scenarios from this directory instead of the suite',
      collect,
      [],
    )
    .action(async (o: { json?: boolean; archModule: string[]; scenarioDir: string[] }) => {
      const ports = [
        ...builtinPorts(),
        ...(o.archModule.length ? await resolvePorts(o.archModule) : []),
      ];
      const { scenarios, errors } = scenariosFrom(o.scenarioDir);
      const l = listing(ports, scenarios);
      io.out(o.json ? JSON.stringify(l, null, 2) : renderListing(l));
      for (const e of errors) io.err(e.message);
      code = errors.length ? 2 : 0;
    });

  program
    .command('check')
    .description('explore one scenario on one arch config (exit 0 pass, 1 finding, 2 bad usage)')
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
    .option('--trace-out <file>', 'write the counterexample trace here')
    .option('--json', 'one JSON object on stdout')
    .option('--arch-module <path|package>', 'an arch package outside this repo', collect, [])
    .option(
      '--scenario-dir <dir>',
      'read scenarios from this directory instead of the suite',
      collect,
      [],
    )
    .action(async (o) => {
      const ports = [
        ...builtinPorts(),
        ...(o.archModule.length ? await resolvePorts(o.archModule) : []),
      ];
      const { scenarios } = scenariosFrom(o.scenarioDir);
      code = runCheck(ports, scenarios, { ...o, strategy: o.strategy as StrategyName }, io.out);
    });

  program
    .command('replay')
    .description(
      're-execute a trace and report the same finding (exit 1), or why the file is not a valid trace (exit 2)',
    )
    .argument('<trace.json>')
    .option(
      '--scenario-dir <dir>',
      'read scenarios from this directory instead of the suite',
      collect,
      [],
    )
    .action(async (file: string, o: { scenarioDir: string[] }) => {
      const { scenarios } = scenariosFrom(o.scenarioDir);
      code = await runReplay(file, builtinPorts(), scenarios, io.out);
    });

  program
    .command('conformance')
    .description('every scenario on every arch config, plus every mutant, as a matrix')
    .option('--arch <config>', 'only this arch config (repeatable)', collect, [])
    .option(
      '--arch-module <path|package>',
      'run on an arch package outside this repo (repeatable)',
      collect,
      [],
    )
    .option(
      '--scenario-dir <dir>',
      'read scenarios from this directory instead of the suite',
      collect,
      [],
    )
    .option('--scenario <id>', 'only this scenario (repeatable)', collect, [])
    .option('--json <file>', 'write the matrix as JSON')
    .option('--junit <file>', 'write JUnit XML')
    .option('--traces <dir>', 'where failing cells write their traces', '.ptlab/traces')
    .option('--seed <s>', 'seed', int('--seed'), 1)
    .option(
      '--workers <n>',
      'worker threads (0: run in this thread)',
      int('--workers'),
      defaultWorkers(),
    )
    .option(
      '--cell-timeout <ms>',
      'stop a cell (and report it) after this long',
      int('--cell-timeout', 1),
      120_000,
    )
    .option('--no-mutants', 'skip the mutant runs')
    .option(
      '--all-mutant-cells',
      'run every cell of every mutant (default: per config, until its first kill)',
    )
    .option('--no-progress', 'no progress bar')
    .action(async (o) => {
      const ports = await resolvePorts(o.archModule);
      const loaded = scenariosFrom(o.scenarioDir);
      const { errors } = loaded;
      for (const id of o.scenario)
        if (!loaded.scenarios.some((s) => s.id === id))
          throw new UsageError(
            `unknown scenario "${id}" (known: ${loaded.scenarios.map((s) => s.id).join(', ')})`,
          );
      const scenarios = o.scenario.length
        ? loaded.scenarios.filter((s) => o.scenario.includes(s.id))
        : loaded.scenarios;
      code = await runConformanceCommand(
        ports,
        scenarios,
        errors,
        {
          archs: o.arch,
          json: o.json,
          junit: o.junit,
          tracesDir: o.traces,
          seed: o.seed,
          workers: o.workers,
          cellTimeoutMs: o.cellTimeout,
          mutants: o.mutants,
          allMutantCells: Boolean(o.allMutantCells),
          progress: o.progress,
        },
        io.out,
        io.err,
      );
    });

  try {
    await program.parseAsync(['node', 'ptlab', ...argv]);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError || e instanceof PtlabError) {
      io.err(`ptlab: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
