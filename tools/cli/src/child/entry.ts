/**
 * The child process that imports an arch module (or ptlab's own ports) and
 * runs jobs for the CLI. Everything ptlab exports is imported and frozen
 * before a module is loaded; nothing the module does here can reach the
 * parent except the messages it sends, and the parent checks those.
 */
import * as core from '@ptlab/core';
import { writeChildCoverage } from '../coverage/collect.js';
import {
  type CellProgress,
  jobError,
  runCellJob,
  runCheckJob,
  runCheckJobSplit,
  runReplayJob,
} from '../jobs.js';
import type { SplitModule } from '../split/protocol.js';
import { causeAt } from '../thrown-at.js';
import { changes, type Snapshot } from './harden.js';
import { loadPorts } from './load.js';
import type { FromChild, Job, PortInfo, ToChild } from './protocol.js';

// Taken before any module code runs, so a module replacing process.send changes nothing here.
const send = process.send?.bind(process) as ((m: FromChild) => boolean) | undefined;
if (!send) throw new Error('ptlab child: started without an IPC channel');
// The key from the 'load' message, held only in this closure: a module's own
// process.send() cannot sign a forged answer without it.
let key = '';
const post = (m: FromChild): void => {
  send({ ...m, k: key });
};

let ports: readonly core.ArchPort[] = [];
let snap: Snapshot | null = null;

const info = (p: core.ArchPort): PortInfo => ({
  arch: p.arch,
  configs: p.configs.map((c) => ({ ...c })),
  variants: p.variants.map((v) => ({
    id: v.id,
    description: v.description,
    seed: v.seed,
    configs: [...v.configs],
    expect: v.expect,
    ...(v.checks ? { checks: [...v.checks] } : {}),
  })),
});

async function load(m: Extract<ToChild, { t: 'load' }>): Promise<void> {
  const r = await loadPorts(m.spec, m.tsx);
  snap = r.snap;
  if (r.changed.length) {
    post({ t: 'tampered', id: null, names: r.changed });
    return;
  }
  ports = r.ports;
  if ('module' in m.spec) {
    foreign = 'E_ARCH_MODULE';
    splitModule = { ref: m.spec.module, tsx: m.tsx };
  }
  post({ t: 'loaded', ports: ports.map(info) });
}

/** The module this child loaded, which a split search's worker threads load too. */
let splitModule: SplitModule | undefined;

/** Progress messages at most every 200 ms (the count runCell reports at is deterministic; this is not). */
function progressSender(id: number): (p: CellProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    post({ t: 'progress', id, p: { executions: p.executions, steps: p.steps, phase: p.phase } });
  };
}

/** A module is loaded here: an error that is not ptlab's own is the module's (E_ARCH_MODULE). */
let foreign = 'E_INTERNAL';

function run(id: number, job: Job): unknown | Promise<unknown> {
  switch (job.kind) {
    case 'cell':
      return runCellJob(ports, job.task, progressSender(id), foreign);
    case 'check':
      return job.split !== undefined
        ? runCheckJobSplit(ports, job.job, job.split, splitModule)
        : runCheckJob(ports, job.job);
    case 'replay':
      return runReplayJob(ports, job.job);
  }
}

/** An error's message without the `[where] ` prefix: the parent names the module itself. */
function plain(e: unknown): string {
  if (e instanceof core.PtlabError) {
    const tag = `[${e.where}] `;
    return `${e.message.startsWith(tag) ? e.message.slice(tag.length) : e.message}${causeAt(e)}`;
  }
  return e instanceof Error ? e.message : String(e);
}

const hint = (message: string): string =>
  /read.only|not extensible|Cannot (add|define|redefine|assign|delete)|object is not extensible|frozen/i.test(
    message,
  )
    ? `${message} (ptlab freezes its own classes and the built-in prototypes before it loads an arch module; a module may not patch them)`
    : message;

process.on('message', (raw: ToChild) => {
  void (async () => {
    if (raw.t === 'load') {
      if (key) return; // loaded once; a second 'load' can only be forged
      key = raw.key;
      try {
        await load(raw);
      } catch (e) {
        post({
          t: 'load-error',
          code: e instanceof core.PtlabError ? e.code : 'E_ARCH_MODULE',
          message: hint(plain(e)),
        });
      }
      return;
    }
    let value: unknown;
    try {
      value = await run(raw.id, raw.job);
    } catch (e) {
      const failed = jobError(e, foreign);
      const message = e instanceof core.PtlabError ? plain(e) : failed.message;
      post({ t: 'failed', id: raw.id, code: failed.code, message: hint(message) });
      return;
    }
    const changed = snap ? changes(snap) : [];
    if (changed.length) post({ t: 'tampered', id: raw.id, names: changed });
    else post({ t: 'done', id: raw.id, value });
  })();
});
// ptlab's own code is loaded: the time limit on loading the module starts now.
post({ t: 'ready' });
// The CLI went away: nothing left to report to (but the coverage it asked for, if it did).
process.on('disconnect', () => {
  writeChildCoverage().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`ptlab child: coverage not written: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
});
