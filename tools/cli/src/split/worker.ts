/**
 * A worker thread of `ptlab check --split`: rebuilds the cell's program from
 * the job (config id, scenario, mutant, patches) and searches the subtree
 * tasks it is sent (exploreSubtree() of @ptlab/explore).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { exploreSubtree } from '@ptlab/explore';
import { configOf, programOf } from '../jobs.js';
import { BUILTIN_PORTS } from '../registry.js';
import type { FromWorker, SplitWorkerData, ToWorker } from './protocol.js';

const port0 = parentPort;
if (!port0) throw new Error('ptlab split worker: not started as a worker thread');
const job = workerData as SplitWorkerData;
const { port, config } = configOf(BUILTIN_PORTS, job.configId);
const consulted = job.consulted ? new Set<string>() : undefined;
const program = programOf(port, config, job.scenario, job.mutant, job.patches, consulted);

port0.postMessage({ ready: true } satisfies FromWorker);

port0.on('message', (m: ToWorker) => {
  let reply: FromWorker;
  try {
    const result = exploreSubtree(program, job.options, m.task);
    reply = { id: m.id, ok: true, result, ...(consulted ? { consulted: [...consulted] } : {}) };
  } catch (e) {
    reply = { id: m.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  port0.postMessage(reply);
});
