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
import { BUILTIN_PORTS, configOf, programOf, SplitPool } from '@ptlab/cli';
import { loadScenarios, scenarioById } from '@ptlab/conformance';
import { type SubtreeResult, splitSearch } from '@ptlab/explore';
import { timedAsync } from './measure.js';

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
   * An estimate for 2 idle cores: `ideal` scaled by the split search's CPU
   * overhead (sequential CPU time / split CPU time, serialisation and the
   * workers' cold start included). Less exposed to other load than `speedup`.
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
    const t0 = performance.now();
    const pool = new SplitPool(data, WORKERS);
    try {
      await pool.ready();
      const startupMs = performance.now() - t0;
      let critical = 0;
      const run = pool.run;
      const par = await timedAsync(() =>
        splitSearch(program, o, async (tasks) => {
          const res = await run(tasks);
          const load = new Array<number>(WORKERS).fill(0);
          for (const r of res) {
            const i = load.indexOf(Math.min(...load));
            load[i] = (load[i] ?? 0) + r.executions;
          }
          critical += Math.max(...load);
          return res;
        }),
      );
      const capacity = await parallelCapacity();
      rows.push({
        cell: `${c.config} x ${c.scenario} (${c.bound === undefined ? 'unbounded' : `bound ${c.bound}`})`,
        sequential: { executions: seq.value.executions, wallMs: seq.wallMs, cpuMs: seq.cpuMs },
        split: {
          executions: par.value.executions,
          wallMs: par.wallMs,
          cpuMs: par.cpuMs,
          rounds: par.value.rounds,
          tasks: par.value.tasks,
          startupMs,
        },
        speedup: seq.wallMs / par.wallMs,
        ideal: seq.value.executions / critical,
        estimated: ((seq.value.executions / critical) * seq.cpuMs) / par.cpuMs,
        capacity,
        overhead: par.value.executions / seq.value.executions,
        load,
      });
    } finally {
      await pool.close();
    }
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
