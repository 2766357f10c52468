/**
 * Worker threads for a split search (`ptlab check --split N`, a big
 * conformance cell): each round's subtree tasks go to whichever worker is
 * free; results come back in task order, so which worker ran what (and when
 * it finished) changes nothing (split.ts). Each worker talks over a channel
 * of its own, handed over at start-up: an arch module loaded in a worker
 * cannot answer for it on the worker's parentPort.
 */
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { RunTasks, SubtreeResult, SubtreeTask } from '@ptlab/explore';
import type { FromWorker, SplitWorkerData, ToWorker } from './protocol.js';

/**
 * An error a worker reported: its code, and its message as the worker placed
 * it (where it was thrown, there). Where the pool raises it says nothing.
 */
export class SplitWorkerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`split search worker: ${message}`);
    this.name = 'SplitWorkerError';
    this.code = code;
  }
}

const fromSource = import.meta.url.endsWith('.ts');

function workerCommand(): { file: string | URL; execArgv: string[] } {
  const conditions = process.execArgv.filter((a) => a.startsWith('--conditions='));
  if (fromSource) {
    // From source (pnpm ptlab:dev, tests): a worker does not inherit tsx's loader, so a
    // bootstrap registers it before importing the entry; the "source" condition, as for the child.
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./worker.ts', import.meta.url).href;
    const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(entry)});`;
    return {
      file: new URL(`data:text/javascript,${encodeURIComponent(code)}`),
      execArgv: [...new Set([...conditions, '--conditions=source'])],
    };
  }
  return {
    file: fileURLToPath(new URL('./split-worker.js', import.meta.url)),
    execArgv: conditions,
  };
}

export class SplitPool {
  private readonly workers: Worker[] = [];
  /** The pool's end of each worker's private channel (workers[i] answers on ports[i]). */
  private readonly ports: MessagePort[] = [];
  /** Set when a worker failed: every later round fails with it. */
  private failure: Error | null = null;
  private closing = false;
  /** With SplitWorkerData.consulted: the variant ids the workers' kernels asked about. */
  readonly consulted = new Set<string>();

  private readonly started: Promise<void>;

  constructor(data: SplitWorkerData, n: number) {
    const { file, execArgv } = workerCommand();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(file, {
        workerData: { ...data, reply: port2 },
        transferList: [port2],
        execArgv,
      });
      this.workers.push(w);
      this.ports.push(port1);
      // Between rounds too: a worker that fails or exits fails the next round (never a hang).
      w.on('error', (e: Error) => {
        this.failure ??= new Error(`split search worker failed: ${e.message}`);
      });
      w.on('exit', (code: number) => {
        if (!this.closing) this.failure ??= new Error(`split search worker exited (code ${code})`);
      });
      ready.push(
        new Promise((resolve, reject) => {
          const onMessage = (m: FromWorker) => {
            if ('ok' in m && !m.ok) {
              // It could not build the program: no round can run (one under way fails on it too).
              this.failure ??= new SplitWorkerError(m.code, m.message);
              reject(this.failure);
              return;
            }
            if (!('ready' in m)) return;
            port1.off('message', onMessage);
            w.off('error', reject);
            resolve();
          };
          port1.on('message', onMessage);
          w.on('error', reject);
          w.once('exit', (code) => reject(new Error(`split search worker exited (code ${code})`)));
        }),
      );
    }
    this.started = Promise.all(ready).then(() => {});
    // A worker failing to start fails the first round too; this keeps it from being unhandled.
    this.started.catch(() => {});
  }

  /** Every worker has built the program (the bench times the search apart from start-up). */
  ready(): Promise<void> {
    return this.started;
  }

  /** Run one round's tasks on the workers; results in task order. */
  readonly run: RunTasks = (tasks) =>
    new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      const results: SubtreeResult[] = new Array(tasks.length);
      let next = 0;
      let done = 0;
      let settled = false;
      const cleanups: (() => void)[] = [];
      const finish = (e: Error | null) => {
        if (settled) return;
        settled = true;
        for (const c of cleanups) c();
        if (e) {
          this.failure = e;
          reject(e);
        } else resolve(results);
      };
      if (tasks.length === 0) {
        finish(null);
        return;
      }
      const give = (p: MessagePort) => {
        if (next >= tasks.length) return;
        const id = next++;
        const m: ToWorker = { id, task: tasks[id] as SubtreeTask };
        p.postMessage(m);
      };
      for (const [i, w] of this.workers.entries()) {
        const p = this.ports[i] as MessagePort;
        const onMessage = (m: FromWorker) => {
          if ('ready' in m) return;
          if (!m.ok) {
            finish(new SplitWorkerError(m.code, m.message));
            return;
          }
          results[m.id] = m.result;
          for (const v of m.consulted ?? []) this.consulted.add(v);
          done++;
          if (done === tasks.length) finish(null);
          else give(p);
        };
        const onError = (e: Error) => finish(new Error(`split search worker failed: ${e.message}`));
        const onExit = (code: number) =>
          finish(new Error(`split search worker exited (code ${code}) mid-round`));
        p.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        cleanups.push(() => {
          p.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        });
        give(p);
      }
    });

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const p of this.ports) p.close();
  }
}
