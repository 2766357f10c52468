/**
 * A worker thread of a split search: rebuilds the cell's program from the
 * job (config id, scenario, mutant, patches; an arch module's loaded as its
 * child loads it) and searches the subtree tasks it is sent (exploreSubtree()
 * of @ptlab/explore). It answers only on the private channel it was handed
 * (SplitWorkerStart.reply), taken before any module code runs.
 */
import { workerData } from 'node:worker_threads';
import { exploreSubtree } from '@ptlab/explore';
import { loadPorts } from '../child/load.js';
import { configOf, jobError, programOf } from '../jobs.js';
import { BUILTIN_PORTS } from '../registry.js';
import type { FromWorker, SplitWorkerStart, ToWorker } from './protocol.js';

function started(): SplitWorkerStart {
  const data = workerData as SplitWorkerStart | undefined;
  if (!data?.reply) throw new Error('ptlab split worker: not started by a split search');
  return data;
}
const job = started();
const reply = job.reply;
// Out of reach of the module, which can import workerData too.
delete (job as { reply?: unknown }).reply;
const post = reply.postMessage.bind(reply) as (m: FromWorker) => void;
/** The code of an error that is not ptlab's own, as in the child that started this worker. */
const foreign = job.module ? 'E_ARCH_MODULE' : 'E_INTERNAL';

async function start() {
  const loaded = job.module ? await loadPorts({ module: job.module.ref }, job.module.tsx) : null;
  if (loaded?.changed.length)
    throw new Error(`the arch module changed what ptlab froze: ${loaded.changed.join(', ')}`);
  const { port, config } = configOf(loaded ? loaded.ports : BUILTIN_PORTS, job.configId);
  const consulted = job.consulted ? new Set<string>() : undefined;
  const program = programOf(port, config, job.scenario, job.mutant, job.patches, consulted);
  return { program, consulted };
}

start().then(
  ({ program, consulted }) => {
    reply.on('message', (m: ToWorker) => {
      let answer: FromWorker;
      try {
        const result = exploreSubtree(program, job.options, m.task);
        answer = {
          id: m.id,
          ok: true,
          result,
          ...(consulted ? { consulted: [...consulted] } : {}),
        };
      } catch (e) {
        answer = { id: m.id, ok: false, ...jobError(e, foreign) };
      }
      post(answer);
    });
    post({ ready: true });
  },
  (e: unknown) => {
    // Not ready, ever: the pool fails its start and every round (id -1 is no task's).
    post({ id: -1, ok: false, ...jobError(e, foreign) });
  },
);
