/**
 * The work a cell, a check or a replay does once its port is loaded. It runs
 * in a child process for arch modules and may run in-process for ptlab's own
 * ports; either way it takes and returns plain data only.
 */
import {
  type CellOptions,
  type CellSearcher,
  guardedCreate,
  type Mutant,
  notApplicable,
  runCell,
  runCellWith,
  scenarioProgram,
  type ValidScenario,
} from '@ptlab/conformance';
import { type ArchConfig, type ArchPort, BugFound, PtlabError } from '@ptlab/core';
import {
  type ExploreOptions,
  type ExploreResult,
  explore,
  exploreSplit,
  inProcessRunner,
  makeTrace,
  type Program,
  renderStory,
  type SplitFigures,
  type StrategyName,
  type Trace,
} from '@ptlab/explore';
import { type ReplayOutcome, replayOutcome } from './replay-outcome.js';
import { buildTraceView } from './report/view.js';
import type { TraceView } from './report/view-schema.js';
import type { CheckJson } from './report-schema.js';
import { SplitPool, SplitWorkerError } from './split/pool.js';
import type { SplitModule, SplitWorkerData } from './split/protocol.js';
import { causeAt, thrownAt } from './thrown-at.js';

/** Progress of a running cell, as runCell reports it (every few hundred executions). */
export interface CellProgress {
  readonly executions: number;
  readonly steps: number;
  readonly phase: string;
}

/** One cell of the matrix (plain data: it crosses to a child process). */
export interface CellTask {
  readonly configId: string;
  readonly scenario: ValidScenario;
  readonly mutant: Mutant | null;
  readonly seed: number;
  /** Recorded in traces of a module's cells, so replay can ask for the same module. */
  readonly archModule?: string;
  /** Kernel patches on besides the mutant: the known findings' fixes (conformance knownFixes()). */
  readonly patches?: readonly string[];
  /** A failing cell also returns its trace as the viewer draws it (--html); `origin` names where the arch came from. */
  readonly view?: { readonly origin: string };
  /** Split the cell's exhaustive searches across this many worker threads, 0: in its own thread (plan.ts). */
  readonly split?: number;
}

/**
 * A cell's result as the conformance runner returns it, plus an error when the
 * cell could not run. Treated as opaque data beyond the fields reports read.
 */
export type CellOutcome = ReturnType<typeof runCell> & {
  readonly error?: { code: string; message: string };
  /** With CellTask.view, for a cell with a trace: what the viewer draws. */
  readonly view?: TraceView;
};

export function errorOutcome(
  t: Pick<CellTask, 'configId' | 'scenario' | 'mutant'>,
  code: string,
  message: string,
): CellOutcome {
  return {
    arch: t.configId,
    scenario: t.scenario.id,
    mutant: t.mutant?.id ?? null,
    result: 'fail',
    verdict: 'error',
    reason: `error: ${message}`,
    schedules: 0,
    steps: 0,
    elapsedMs: 0,
    error: { code, message },
  };
}

export function configOf(
  ports: readonly ArchPort[],
  id: string,
): { port: ArchPort; config: ArchConfig } {
  for (const port of ports) {
    const config = port.configs.find((c) => c.id === id);
    if (config) return { port, config };
  }
  throw new Error(`config ${id} is not declared by ${ports.map((p) => p.arch).join(', ')}`);
}

/**
 * The code and message of an error thrown out of a job: ptlab's own errors
 * as they are; anything else (a TypeError in a port's hook, a finding raised
 * outside any step) gets `foreign` (E_ARCH_MODULE in a module's child) and,
 * unless it is a finding, where it was thrown.
 */
export function jobError(e: unknown, foreign: string): { code: string; message: string } {
  // A worker's error was placed where it was thrown, in the worker: this is only where it arrived.
  if (e instanceof SplitWorkerError) return { code: e.code, message: e.message };
  if (e instanceof PtlabError) return { code: e.code, message: `${e.message}${causeAt(e)}` };
  if (!(e instanceof Error)) return { code: foreign, message: String(e) };
  const at = e instanceof BugFound ? null : thrownAt(e);
  const name = e instanceof BugFound || e.name === 'Error' ? '' : `${e.name}: `;
  return { code: foreign, message: `${name}${e.message}${at ? ` (thrown at ${at})` : ''}` };
}

/**
 * Run one cell; an arch that throws or returns nonsense becomes a failed cell
 * that says so. `foreign`: the code of an error that is not ptlab's own
 * (E_ARCH_MODULE where the ports are an arch module's). A cell with
 * CellTask.split runs its exhaustive searches split across that many worker
 * threads: the result is the same for any count.
 */
export async function runCellJob(
  ports: readonly ArchPort[],
  t: CellTask,
  onProgress?: (p: CellProgress) => void,
  foreign = 'E_INTERNAL',
): Promise<CellOutcome> {
  const failed = (e: unknown) => {
    const { code, message } = jobError(e, foreign);
    return errorOutcome(t, code, message);
  };
  try {
    const { port, config } = configOf(ports, t.configId);
    const opts: CellOptions = {
      port,
      config,
      scenario: t.scenario,
      mutant: t.mutant,
      seed: t.seed,
      ...(t.archModule ? { archModule: t.archModule } : {}),
      ...(t.patches?.length ? { patches: t.patches } : {}),
      ...(onProgress ? { onProgress } : {}),
    };
    const view = (out: CellOutcome) => withView(port, config, t, out);
    if (t.split !== undefined) return view(await runCellWith(opts, splitSearcher(t, t.split)));
    return view(runCell(opts));
  } catch (e) {
    return failed(e);
  }
}

/** A failing cell's trace as the viewer draws it, with CellTask.view. */
function withView(port: ArchPort, config: ArchConfig, t: CellTask, out: CellOutcome): CellOutcome {
  if (!t.view || !out.trace) return out;
  return {
    ...out,
    view: buildTraceView({
      trace: out.trace,
      file: `${t.configId} x ${t.scenario.id}${t.mutant ? ` with mutant ${t.mutant.id}` : ''}`,
      title: `${t.scenario.id} on ${config.id}${t.mutant ? ` with mutant ${t.mutant.id}` : ''}`,
      kernel: config.kernel,
      origin: t.view.origin,
      seed: t.mutant?.seed ?? t.scenario.seed,
      program: programOf(port, config, t.scenario, t.mutant, t.patches ?? []),
    }),
  };
}

/**
 * A cell's searches with the exhaustive ones split across `threads` worker
 * threads (one pool per search: its options go to the workers at start-up).
 * The workers report the variants their kernels asked about, which the
 * mutant-reach shortcut reads (mutant-reach.ts).
 */
function splitSearcher(t: CellTask, threads: number): CellSearcher {
  return async ({ program, options, consulted }) => {
    if (options.strategy !== 'exhaustive') return explore(program, options);
    const job = {
      configId: t.configId,
      scenario: t.scenario,
      mutant: t.mutant,
      patches: t.patches ?? [],
    };
    return exploreOnThreads(job, program, options, threads, consulted);
  };
}

/** What a split search's worker threads rebuild the program from. */
type SplitJob = Omit<SplitWorkerData, 'options' | 'consulted'>;

/**
 * One exhaustive search split across `threads` worker threads, each building
 * the program from `job` (0: in this thread, on `program`, whose kernels then
 * record what they ask about themselves). With `consulted`, the variant ids
 * the workers' kernels asked about are added to it. The pool lasts one search.
 */
async function exploreOnThreads(
  job: SplitJob,
  program: Program,
  options: ExploreOptions,
  threads: number,
  consulted?: Set<string>,
): Promise<ExploreResult & { readonly split: SplitFigures }> {
  const subtree = {
    por: options.por,
    preemptionBound: options.preemptionBound,
    maxSteps: EXPLORE_MAX_STEPS,
  };
  const split = { ...options, maxSteps: EXPLORE_MAX_STEPS };
  if (threads === 0) {
    const run = inProcessRunner(program, subtree);
    return exploreSplit(program, split, async (tasks) => run(tasks));
  }
  const pool = new SplitPool(
    { ...job, consulted: consulted !== undefined, options: subtree },
    threads,
  );
  try {
    const r = await exploreSplit(program, split, pool.run);
    for (const v of pool.consulted) consulted?.add(v);
    return r;
  } finally {
    await pool.close();
  }
}

export interface CheckJob {
  readonly configId: string;
  readonly scenario: ValidScenario;
  readonly mutant: Mutant | null;
  readonly strategy: StrategyName;
  readonly schedules: number;
  readonly seed: number;
  readonly preemptionBound?: number | undefined;
  readonly minimise: boolean;
  readonly por: boolean;
  readonly archModule?: string | undefined;
}

/** What `ptlab check` prints: the verdict, its JSON form and its text form. */
export interface CheckRun {
  /** `incomplete`: an exhaustive search that ran out of budget (exit 4). */
  readonly result: 'pass' | 'fail' | 'n/a' | 'incomplete';
  readonly json: CheckJson;
  readonly text: string;
  readonly trace?: Trace;
}

function headOf(o: CheckJob, config: ArchConfig) {
  return {
    arch: config.id,
    scenario: o.scenario.id,
    mutant: o.mutant?.id ?? null,
    strategy: o.strategy,
    seed: o.seed,
  };
}

function notApplicableRun(o: CheckJob, config: ArchConfig, na: string): CheckRun {
  return {
    result: 'n/a',
    json: { ...headOf(o, config), schedules: 0, steps: 0, elapsedMs: 0, result: 'n/a', reason: na },
    text: `${o.scenario.id} on ${config.id}: ${na}`,
  };
}

function exploreOptions(o: CheckJob) {
  return {
    strategy: o.strategy,
    schedules: o.schedules,
    seed: o.seed,
    minimise: o.minimise,
    por: o.por,
    ...(o.preemptionBound !== undefined ? { preemptionBound: o.preemptionBound } : {}),
  };
}

export function runCheckJob(ports: readonly ArchPort[], o: CheckJob): CheckRun {
  const { port, config } = configOf(ports, o.configId);
  const na = notApplicable(o.scenario, config);
  if (na) return notApplicableRun(o, config, na);
  const program = programOf(port, config, o.scenario, o.mutant, []);
  const t0 = performance.now();
  const r = explore(program, exploreOptions(o));
  return checkRunOf(o, config, r, Math.round(performance.now() - t0), undefined);
}

/**
 * `ptlab check --split N`: the exhaustive search split across N worker
 * threads, each rebuilding the program from the job (an arch module's
 * config: `module`, which each thread loads as the child running this did).
 * The result is the same for any N (split.ts in @ptlab/explore).
 */
export async function runCheckJobSplit(
  ports: readonly ArchPort[],
  o: CheckJob,
  workers: number,
  module?: SplitModule,
): Promise<CheckRun> {
  const { port, config } = configOf(ports, o.configId);
  const na = notApplicable(o.scenario, config);
  if (na) return notApplicableRun(o, config, na);
  const program = programOf(port, config, o.scenario, o.mutant, []);
  const t0 = performance.now();
  const job = { module, configId: o.configId, scenario: o.scenario, mutant: o.mutant, patches: [] };
  const r = await exploreOnThreads(job, program, exploreOptions(o), workers);
  return checkRunOf(o, config, r, Math.round(performance.now() - t0), r.split);
}

/** explore()'s default step budget, which the split search's workers must use too. */
const EXPLORE_MAX_STEPS = 5000;

function checkRunOf(
  o: CheckJob,
  config: ArchConfig,
  r: ExploreResult,
  elapsedMs: number,
  split: SplitFigures | undefined,
): CheckRun {
  const { scenario, mutant } = o;
  const base = {
    ...headOf(o, config),
    schedules: r.schedules,
    steps: r.steps,
    elapsedMs,
    complete: r.complete,
    verdict: r.verdict,
    ...(r.bound !== undefined ? { bound: r.bound } : {}),
    truncated: r.truncated,
    ...(split ? { split: { rounds: split.rounds, tasks: split.tasks } } : {}),
  };
  if (r.result === 'pass' || !r.finding) {
    const what = `${scenario.id} on ${config.id}${mutant ? ` with ${mutant.id}` : ''}`;
    const cut = r.truncated
      ? `; ${r.truncated} schedule(s) were cut off by the step limit, so they proved nothing`
      : '';
    const cost = `${r.schedules} executions, ${r.steps} steps, ${elapsedMs} ms${split ? `; split search: ${split.rounds} rounds, ${split.tasks} subtree tasks` : ''}`;
    // An exhaustive search that did not cover its space proves nothing: "incomplete", exit 4.
    if (o.strategy === 'exhaustive' && r.verdict === 'sampled')
      return {
        result: 'incomplete',
        json: { ...base, result: 'incomplete' },
        text: `incomplete: ${what}: the exhaustive search stopped ${r.complete ? 'with' : `at its budget of ${o.schedules} schedules, before covering the space, with`} no check fired (${cost})${cut}; nothing is proved (raise --schedules, or bound it with --preemption-bound)`,
      };
    const text =
      r.verdict === 'verified'
        ? `verified: ${what}: every interleaving explored up to equivalence (sound DPOR${o.por ? '' : ' off: plain DFS'}), no check fired (${cost})`
        : r.verdict === 'verified-bounded'
          ? `verified-bounded: ${what}: every interleaving with at most ${r.bound} preemption(s) explored, no check fired (${cost}); more preemptions were not explored`
          : `sampled: ${what}: ${r.schedules} ${o.strategy} schedules, no check fired (${cost})${cut}; a sample, not a proof`;
    return { result: 'pass', json: { ...base, result: 'pass' }, text };
  }
  const trace = makeTrace({
    arch: config.id,
    ...(o.archModule ? { archModule: o.archModule } : {}),
    scenario: scenario.id,
    mutant: mutant?.id ?? null,
    strategy: o.strategy,
    seed: o.seed,
    schedule: r.schedule,
    ...(r.found ? { found: r.found } : {}),
    finding: { check: r.finding.check, message: r.finding.message, step: r.finding.step },
  });
  const story = renderStory(r.records, r.finding, {
    kernel: config.kernel,
    world: r.world,
    title: `${scenario.id} on ${config.id}${mutant ? ` with mutant ${mutant.id}` : ''}: counterexample after ${r.firstFailureAt} schedule(s) (${o.strategy}, seed ${o.seed}${split ? `, split search: ${split.rounds} rounds, ${split.tasks} subtree tasks` : ''}), minimised to ${r.preemptions} preemption(s), ${r.records.length} steps`,
    seedRef: mutant?.seed ?? scenario.seed,
  });
  const f = r.finding;
  return {
    result: 'fail',
    json: {
      ...base,
      result: 'fail',
      finding: { check: f.check, message: f.message, step: f.step, cpu: f.cpu, fn: f.fn, trace },
      story,
    },
    text: story,
    trace,
  };
}

/** A fresh program of a scenario on a config with a mutant and kernel patches. */
export function programOf(
  port: ArchPort,
  config: ArchConfig,
  scenario: ValidScenario,
  mutant: Mutant | null,
  patches: readonly string[],
  consulted?: Set<string>,
) {
  return scenarioProgram(scenario, {
    arch: guardedCreate(port, config, mutant?.layer === 'arch' ? mutant.id : undefined),
    variants: [...(mutant?.layer === 'mm' ? [mutant.id] : []), ...patches],
    consulted,
  });
}

export interface ReplayJob {
  readonly configId: string;
  readonly scenario: ValidScenario;
  readonly mutant: Mutant | null;
  readonly schedule: Trace['schedule'];
  readonly finding: Trace['finding'];
  readonly patches?: readonly string[] | undefined;
  readonly title: string;
  /** A diverged replay goes on (--continue). */
  readonly continue: boolean;
  /** Also draw the trace for the viewer (`ptlab view`). */
  readonly view?: { readonly trace: Trace; readonly file: string; readonly origin: string };
}

export interface ReplayRun {
  readonly outcome: ReplayOutcome;
  /** The replayed run as a story (to its finding, its end, or where it diverged). */
  readonly story: string;
  readonly view?: TraceView;
}

/** Replay a trace with explore's replayTrace(): the schedule step by step, then the same finding. */
export function runReplayJob(ports: readonly ArchPort[], o: ReplayJob): ReplayRun {
  const { port, config } = configOf(ports, o.configId);
  const { scenario, mutant } = o;
  const program = programOf(port, config, scenario, mutant, o.patches ?? []);
  const { outcome, execution } = replayOutcome(program, o.schedule, o.finding, o.continue);
  const seed = mutant?.seed ?? scenario.seed;
  return {
    outcome,
    story: renderStory(execution.records, execution.finding, {
      kernel: config.kernel,
      world: execution.world,
      title: o.title,
      seedRef: seed,
    }),
    ...(o.view
      ? {
          view: buildTraceView({
            trace: o.view.trace,
            file: o.view.file,
            title: o.title.replace(/^replay of [^:]*: /, ''),
            kernel: config.kernel,
            origin: o.view.origin,
            seed,
            program,
          }),
        }
      : {}),
  };
}
