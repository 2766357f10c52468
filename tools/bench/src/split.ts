/**
 * The split search (issue 12, "big cells use both cores"): wall time of one
 * big cell's exhaustive search, sequential in one fresh worker thread against
 * split across 2 (the pool `ptlab check --split 2` uses), and the
 * split search's extra executions. Wall time is the figure here: the
 * workers' CPU time is not this process's. Worker start-up (each worker
 * loads ptlab and builds the program) is timed apart.
 */
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BUILTIN_PORTS, configOf, programOf, SplitPool, type SplitWorkerData } from '@ptlab/cli';
import { loadScenarios, scenarioById } from '@ptlab/conformance';
import {
  type Program,
  type SplitOptions,
  type SplitResult,
  type SubtreeResult,
  splitSearch,
} from '@ptlab/explore';
import { timedAsync } from './measure.js';

export const SPLIT_CELLS: readonly {
  readonly config: string;
  readonly scenario: string;
  readonly bound: number | undefined;
}[] = [
  { config: 's390-2k', scenario: 'collapse-tlb-flush', bound: 2 },
  // The default run's largest proof (186,934 executions sequentially).
  { config: 'x86-32-pae', scenario: 'retract-vs-lockless-walkers', bound: undefined },
];

const MAX_STEPS = 5000;
const WORKERS = 2;

export interface SplitRow {
  readonly cell: string;
  readonly sequential: {
    readonly executions: number;
    readonly wallMs: number;
    readonly cpuMs: number;
  };
  readonly split: {
    readonly executions: number;
    readonly wallMs: number;
    /** CPU time of this process, workers included (getrusage counts every thread). */
    readonly cpuMs: number;
    /** The same split search on 1 worker: the algorithm's own CPU cost, without 2 threads contending. */
    readonly oneWorkerCpuMs: number;
    readonly rounds: number;
    readonly tasks: number;
    readonly startupMs: number;
  };
  /** Sequential wall time / split wall time (start-up not counted). */
  readonly speedup: number;
  /**
   * The speed-up the rounds allow on 2 idle cores, from executions alone:
   * sequential executions over the executions on the critical path (each
   * round: the busier worker's, the tasks given in order to the first free
   * worker). Deterministic: it does not depend on the machine.
   */
  readonly ideal: number;
  /** What the machine offered meanwhile: 2 busy threads' throughput over 1's (2: two idle cores). */
  readonly capacity: number;
  /**
   * An estimate for 2 idle cores: `ideal` scaled by the algorithm's CPU
   * overhead (sequential CPU time / the split search's on 1 worker:
   * serialisation, merging and the tasks' set-up). Less exposed to other
   * load than `speedup`; it leaves out what 2 threads cost each other.
   */
  readonly estimated: number;
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
    const data = {
      configId: c.config,
      scenario,
      mutant: null,
      patches: [],
      options: { preemptionBound: c.bound, maxSteps: MAX_STEPS },
    };
    // Sequential: the whole tree as one task in a fresh worker thread, so both sides start
    // with a cold JIT, as a fresh `ptlab check` does (one task with the whole budget is
    // the sequential search exactly: split.test.ts).
    const one = new SplitPool(data, 1);
    let seqRun: Awaited<ReturnType<typeof timedAsync<readonly SubtreeResult[]>>>;
    try {
      await one.ready();
      seqRun = await timedAsync(() =>
        one.run([{ key: [], nodes: [], events: [], budget: maxExecutions }]),
      );
    } finally {
      await one.close();
    }
    const whole = seqRun.value[0] as SubtreeResult;
    const seq = { value: whole, wallMs: seqRun.wallMs, cpuMs: seqRun.cpuMs };
    const one1 = await runSplit(program, o, data, 1);
    const par = await runSplit(program, o, data, WORKERS);
    const capacity = await parallelCapacity();
    const ideal = seq.value.executions / par.critical;
    rows.push({
      cell: `${c.config} x ${c.scenario} (${c.bound === undefined ? 'unbounded' : `bound ${c.bound}`})`,
      sequential: { executions: seq.value.executions, wallMs: seq.wallMs, cpuMs: seq.cpuMs },
      split: {
        executions: par.result.executions,
        wallMs: par.wallMs,
        cpuMs: par.cpuMs,
        oneWorkerCpuMs: one1.cpuMs,
        rounds: par.result.rounds,
        tasks: par.result.tasks,
        startupMs: par.startupMs,
      },
      speedup: seq.wallMs / par.wallMs,
      ideal,
      estimated: (ideal * seq.cpuMs) / one1.cpuMs,
      capacity,
      overhead: par.result.executions / seq.value.executions,
      load,
    });
  }
  return rows;
}

/** Wall time of `n` threads each counting to a fixed number, in ms. */
async function busy(n: number): Promise<number> {
  const code =
    'let x = 0; for (let i = 0; i < 3e8; i++) x += i % 7; require("node:worker_threads").parentPort.postMessage(x);';
  const t = performance.now();
  await Promise.all(
    Array.from(
      { length: n },
      () => new Promise((resolve) => new Worker(code, { eval: true }).once('message', resolve)),
    ),
  );
  return performance.now() - t;
}

/** 2 busy threads' throughput over 1's, now: how much of a second core the machine has free. */
async function parallelCapacity(): Promise<number> {
  const one = await busy(1);
  const two = await busy(WORKERS);
  return (WORKERS * one) / two;
}

/** The split search on `n` fresh workers: its result, times, and critical path in executions. */
async function runSplit(
  program: Program,
  o: SplitOptions,
  data: SplitWorkerData,
  n: number,
): Promise<{
  result: SplitResult;
  wallMs: number;
  cpuMs: number;
  startupMs: number;
  critical: number;
}> {
  const t0 = performance.now();
  const pool = new SplitPool(data, n);
  try {
    await pool.ready();
    const startupMs = performance.now() - t0;
    let critical = 0;
    const run = pool.run;
    const r = await timedAsync(() =>
      splitSearch(program, o, async (tasks) => {
        const res = await run(tasks);
        const load = new Array<number>(n).fill(0);
        for (const x of res) {
          const i = load.indexOf(Math.min(...load));
          load[i] = (load[i] ?? 0) + x.executions;
        }
        critical += Math.max(...load);
        return res;
      }),
    );
    return { result: r.value, wallMs: r.wallMs, cpuMs: r.cpuMs, startupMs, critical };
  } finally {
    await pool.close();
  }
}
