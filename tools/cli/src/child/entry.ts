/**
 * The child process that imports an arch module (or ptlab's own ports) and
 * runs jobs for the CLI. Everything ptlab exports is imported and frozen
 * before a module is loaded; nothing the module does here can reach the
 * parent except the messages it sends, and the parent checks those.
 */
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as arm from '@ptlab/arch-arm';
import * as mips from '@ptlab/arch-mips';
import * as powerpc from '@ptlab/arch-powerpc';
import * as s390 from '@ptlab/arch-s390';
import * as sparc from '@ptlab/arch-sparc';
import * as x86 from '@ptlab/arch-x86';
import * as conformance from '@ptlab/conformance';
import * as core from '@ptlab/core';
import * as explore from '@ptlab/explore';
import * as mm from '@ptlab/mm';
import { writeChildCoverage } from '../coverage/collect.js';
import { type CellProgress, jobError, runCellJob, runCheckJob, runReplayJob } from '../jobs.js';
import { BUILTIN_PORTS } from '../registry.js';
import { resolveArchModule } from '../resolve-module.js';
import { changes, freezeAll, type Snapshot, snapshot } from './harden.js';
import type { FromChild, Job, PortInfo, ToChild } from './protocol.js';

const OWN: Record<string, object> = {
  '@ptlab/core': core,
  '@ptlab/explore': explore,
  '@ptlab/mm': mm,
  '@ptlab/conformance': conformance,
  '@ptlab/arch-x86': x86,
  '@ptlab/arch-s390': s390,
  '@ptlab/arch-powerpc': powerpc,
  '@ptlab/arch-sparc': sparc,
  '@ptlab/arch-arm': arm,
  '@ptlab/arch-mips': mips,
};

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

/** ptlab's packages as the module would import them, when it has its own copies. */
async function moduleSideCopies(entry: string): Promise<Record<string, object>> {
  const out: Record<string, object> = {};
  for (const name of Object.keys(OWN)) {
    let file: string;
    try {
      file = resolveArchModule(name, dirname(entry)).entry;
    } catch {
      continue; // the module does not see this package at all
    }
    const url = pathToFileURL(file).href;
    if (url === import.meta.resolve(name)) continue;
    out[`${name} (${file})`] = (await import(url)) as object;
  }
  return out;
}

async function load(m: Extract<ToChild, { t: 'load' }>): Promise<void> {
  if (!('module' in m.spec)) {
    snap = snapshot(freezeAll(OWN));
    ports = BUILTIN_PORTS;
    post({ t: 'loaded', ports: ports.map(info) });
    return;
  }
  const { entry } = m.spec.module;
  if (m.tsx) {
    // tsx's ESM API, as the module (or else the CLI) would resolve it.
    let api: string | undefined;
    for (const from of [dirname(entry), dirname(fileURLToPath(import.meta.url))]) {
      try {
        api = resolveArchModule('tsx/esm/api', from).entry;
        break;
      } catch {
        // not installed there
      }
    }
    if (!api)
      throw new core.ArchModuleError(
        m.spec.module.spec,
        'is TypeScript, and tsx (which ptlab uses to load it) is not installed next to it: install tsx, or build the module to JavaScript',
      );
    ((await import(pathToFileURL(api).href)) as { register: () => void }).register();
  }
  snap = snapshot(freezeAll({ ...OWN, ...(await moduleSideCopies(entry)) }));
  const port = await conformance.loadArchModule(entry);
  const changed = changes(snap);
  if (changed.length) {
    post({ t: 'tampered', id: null, names: changed });
    return;
  }
  ports = [port];
  foreign = 'E_ARCH_MODULE';
  post({ t: 'loaded', ports: [info(port)] });
}

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
      return runCheckJob(ports, job.job);
    case 'replay':
      return runReplayJob(ports, job.job);
  }
}

/** An error's message without the `[where] ` prefix: the parent names the module itself. */
function plain(e: unknown): string {
  if (e instanceof core.PtlabError) {
    const tag = `[${e.where}] `;
    return e.message.startsWith(tag) ? e.message.slice(tag.length) : e.message;
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
      const { code } = jobError(e, foreign);
      const message = e instanceof core.PtlabError ? plain(e) : jobError(e, foreign).message;
      post({ t: 'failed', id: raw.id, code, message: hint(message) });
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
