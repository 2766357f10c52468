import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import {
  type CellOutcome,
  type CellTask,
  type MutantGroupTask,
  runCellTask,
  runMutantGroup,
} from './cell-worker.js';

export interface PoolOptions {
  /** Worker threads; 0 runs cells in this thread (no timeout possible). */
  readonly workers: number;
  /** A cell (or mutant group) still running after this long is stopped and reported (a looping arch module). */
  readonly cellTimeoutMs: number;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** A unit of work: one cell, or one mutant on one config (its scenarios in order). */
export type Unit =
  | { readonly kind: 'cell'; readonly task: CellTask }
  | { readonly kind: 'mutant'; readonly task: MutantGroupTask };

function errorOutcome(t: CellTask | MutantGroupTask, code: string, message: string): CellOutcome {
  return {
    arch: t.configId,
    scenario: 'scenario' in t ? t.scenario.id : (t.scenarios[0]?.id ?? '-'),
    mutant: t.mutant?.id ?? null,
    result: 'fail',
    reason: `error: ${message}`,
    schedules: 0,
    steps: 0,
    elapsedMs: 0,
    error: { code, message },
  };
}

/**
 * Run units on worker threads (tinypool), each under a timeout; results come
 * back in unit order whatever the worker count, so reports are deterministic.
 * Once a config times out, its queued units are cancelled rather than each
 * waiting out the timeout.
 */
export async function runUnits(
  units: readonly Unit[],
  o: PoolOptions,
  onDone: (r: readonly CellOutcome[], i: number) => void,
): Promise<CellOutcome[][]> {
  const results: CellOutcome[][] = new Array(units.length);
  if (o.workers === 0) {
    for (const [i, u] of units.entries()) {
      const r = u.kind === 'cell' ? [await runCellTask(u.task)] : await runMutantGroup(u.task);
      results[i] = r;
      onDone(r, i);
    }
    return results;
  }
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Tinypool({
    filename: new URL(fromSource ? './cell-worker-dev.mjs' : './cell-worker.js', import.meta.url)
      .href,
    maxThreads: o.workers,
    minThreads: Math.min(o.workers, units.length || 1),
    isolateWorkers: false,
    // Workers need the same loader flags (tsx and the source condition when run from source).
    execArgv: process.execArgv,
  });
  const keyOf = (t: CellTask | MutantGroupTask) => `${JSON.stringify(t.ref)}|${t.configId}`;
  const configAborts = new Map<string, AbortController>();
  for (const u of units)
    if (!configAborts.has(keyOf(u.task))) configAborts.set(keyOf(u.task), new AbortController());
  // Submit no more units than there are workers, so a unit's timeout starts when it starts running.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < units.length) {
      const i = next++;
      await runOne(units[i] as Unit, i);
    }
  };
  const runOne = async (u: Unit, i: number): Promise<void> => {
    const t = u.task;
    const ac = new AbortController();
    const cfg = configAborts.get(keyOf(t)) as AbortController;
    const timer = setTimeout(() => ac.abort(), o.cellTimeoutMs);
    let r: CellOutcome[];
    try {
      const signal = AbortSignal.any([ac.signal, cfg.signal]);
      r =
        u.kind === 'cell'
          ? [(await pool.run(t, { signal })) as CellOutcome]
          : ((await pool.run(t, { signal, name: 'runMutantGroup' })) as CellOutcome[]);
    } catch (e) {
      const timedOut = ac.signal.aborted;
      if (timedOut) cfg.abort();
      const what = 'scenario' in t ? t.scenario.id : `mutant ${t.mutant.id}`;
      const message = timedOut
        ? `arch ${t.configId} did not finish ${what} within ${o.cellTimeoutMs} ms (a looping arch module?); the worker was stopped`
        : cfg.signal.aborted
          ? `not run: arch ${t.configId} timed out in an earlier cell`
          : `worker failed: ${(e as Error).message}`;
      r = [
        errorOutcome(t, timedOut || cfg.signal.aborted ? 'E_ARCH_TIMEOUT' : 'E_INTERNAL', message),
      ];
    } finally {
      clearTimeout(timer);
    }
    results[i] = r;
    onDone(r, i);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.workers, units.length) }, worker));
  } finally {
    await pool.destroy();
  }
  return results;
}
