/**
 * The engine's throughput on the bench workload, and the speed of a bare
 * generator loop on the same machine, in the same process: their ratio is
 * the figure that holds across machines.
 *
 * The workload: retract-vs-lockless-walkers on x86-64, random walk, seed 1,
 * a fixed number of schedules; it is deterministic (the same steps every run).
 * It is built from a checkout by path (workload.ts), its built packages when
 * it has them, so the same code measures this tree and an old commit's (--root);
 * engine-child.ts runs the measurement in a process of its own.
 */
import { type Rate, type Repeated, rate, repeat, timed } from './measure.js';

/** What the measurement needs of a checkout: its workload program and its explorer. */
export interface EngineApi {
  /** The checkout, e.g. "this tree" or "4cb38e0". */
  readonly label: string;
  readonly program: () => unknown;
  readonly explore: (
    program: unknown,
    opts: { strategy: 'random'; schedules: number; seed: number },
  ) => { readonly steps: number; readonly schedules: number };
}

export const WORKLOAD = {
  config: 'x86-64',
  scenario: 'retract-vs-lockless-walkers',
  strategy: 'random',
  seed: 1,
} as const;

export interface EngineFigures {
  readonly workload: string;
  /** What ran it: the checkout, and whether its built packages or its sources. */
  readonly measured: string;
  readonly schedules: number;
  /** Steps of one run of the workload (the same in every run). */
  readonly steps: number;
  readonly timing: Repeated;
  readonly stepsPerSec: Rate;
  readonly schedulesPerSec: Rate;
}

export interface EngineOptions {
  readonly schedules: number;
  readonly repeats: number;
}

export function measureEngine(api: EngineApi, o: EngineOptions): EngineFigures {
  const run = () =>
    api.explore(api.program(), {
      strategy: WORKLOAD.strategy,
      schedules: o.schedules,
      seed: WORKLOAD.seed,
    });
  // Warm up (JIT), and learn the step count.
  const first = run();
  timed(run);
  let steps = first.steps;
  const timing = repeat(o.repeats, () => {
    const r = run();
    if (r.steps !== steps) steps = Number.NaN; // a nondeterministic run poisons the figure
  });
  if (Number.isNaN(steps))
    throw new Error(`the bench workload is not deterministic on ${api.label}: step counts differ`);
  const t = { cpuMs: timing.cpuMs, wallMs: timing.wallMs };
  return {
    workload: `${WORKLOAD.scenario} on ${WORKLOAD.config}, ${WORKLOAD.strategy} walk, seed ${WORKLOAD.seed}, ${first.schedules} schedules`,
    measured: api.label,
    schedules: first.schedules,
    steps,
    timing,
    stepsPerSec: rate(steps, t),
    schedulesPerSec: rate(first.schedules, t),
  };
}

export interface GeneratorFigures {
  readonly what: string;
  readonly steps: number;
  readonly timing: Repeated;
  readonly stepsPerSec: Rate;
}

interface Op {
  readonly kind: 'op';
  readonly task: number;
  readonly n: number;
}

function* opGenerator(task: number): Generator<Op, never, void> {
  for (let n = 0; ; n++) yield { kind: 'op', task, n };
}

/** Two generators, each yielding an op object, alternated: the floor of any generator-driven engine. */
export function generatorLoop(steps: number): number {
  const a = opGenerator(0);
  const b = opGenerator(1);
  let sink = 0;
  for (let i = 0; i < steps; i++) {
    const r = (i & 1 ? b : a).next();
    // Read the op, as a scheduler would (and so the loop cannot be optimised away).
    if (!r.done && r.value.kind === 'op') sink += r.value.n + r.value.task;
  }
  return sink;
}

export function measureGenerators(steps: number, repeats: number): GeneratorFigures {
  generatorLoop(steps); // warm up
  let sink = 0;
  const timing = repeat(repeats, () => {
    sink += generatorLoop(steps);
  });
  if (!Number.isFinite(sink)) throw new Error('generator loop');
  return {
    what: 'two generators yielding {kind, task, n} op objects, alternated',
    steps,
    timing,
    stepsPerSec: rate(steps, { cpuMs: timing.cpuMs, wallMs: timing.wallMs }),
  };
}
