import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import { type CellOutcome, type CellTask, runCellTask } from './cell-worker.js';

export interface PoolOptions {
  /** Worker threads; 0 runs cells in this thread (no timeout possible). */
  readonly workers: number;
  /** A cell still running after this long is stopped and reported (a looping arch module). */
  readonly cellTimeoutMs: number;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Run cells on worker threads (tinypool), each under a timeout; results come
 * back in task order whatever the worker count, so reports are deterministic.
 */
export async function runCells(
  tasks: readonly CellTask[],
  o: PoolOptions,
  onDone: (r: CellOutcome, i: number) => void,
): Promise<CellOutcome[]> {
  const results: CellOutcome[] = new Array(tasks.length);
  if (o.workers === 0) {
    for (const [i, t] of tasks.entries()) {
      results[i] = await runCellTask(t);
      onDone(results[i] as CellOutcome, i);
    }
    return results;
  }
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Tinypool({
    filename: new URL(fromSource ? './cell-worker-dev.mjs' : './cell-worker.js', import.meta.url)
      .href,
    maxThreads: o.workers,
    minThreads: Math.min(o.workers, tasks.length || 1),
    isolateWorkers: false,
    // Workers need the same loader flags (tsx and the source condition when run from source).
    execArgv: process.execArgv,
  });
  // Once a config times out, its queued cells are cancelled rather than each waiting out the timeout.
  const configAborts = new Map<string, AbortController>();
  const keyOf = (t: CellTask) => `${JSON.stringify(t.ref)}|${t.configId}`;
  for (const t of tasks)
    if (!configAborts.has(keyOf(t))) configAborts.set(keyOf(t), new AbortController());
  try {
    await Promise.all(
      tasks.map(async (t, i) => {
        const ac = new AbortController();
        const cfg = configAborts.get(keyOf(t)) as AbortController;
        const timer = setTimeout(() => ac.abort(), o.cellTimeoutMs);
        let r: CellOutcome;
        try {
          r = (await pool.run(t, {
            signal: AbortSignal.any([ac.signal, cfg.signal]),
          })) as CellOutcome;
        } catch (e) {
          const timedOut = ac.signal.aborted;
          if (timedOut) cfg.abort();
          const message = timedOut
            ? `arch ${t.configId} did not finish ${t.scenario.id} within ${o.cellTimeoutMs} ms (a looping arch module?); the worker was stopped`
            : cfg.signal.aborted
              ? `not run: arch ${t.configId} timed out in an earlier cell`
              : `worker failed: ${(e as Error).message}`;
          r = {
            arch: t.configId,
            scenario: t.scenario.id,
            mutant: t.mutant?.id ?? null,
            result: 'fail',
            reason: `error: ${message}`,
            schedules: 0,
            steps: 0,
            elapsedMs: 0,
            error: {
              code: timedOut || cfg.signal.aborted ? 'E_ARCH_TIMEOUT' : 'E_INTERNAL',
              message,
            },
          };
        } finally {
          clearTimeout(timer);
        }
        results[i] = r;
        onDone(r, i);
      }),
    );
  } finally {
    await pool.destroy();
  }
  return results;
}
