/**
 * Loading what a child (or a split search's worker thread in it) runs:
 * ptlab's own ports, or one arch module after everything ptlab exports has
 * been frozen (harden.ts). Both the child and its worker threads load a
 * module this same way, so a module meets the same walls in either.
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
import { BUILTIN_PORTS } from '../registry.js';
import { resolveArchModule } from '../resolve-module.js';
import { changes, freezeAll, type Snapshot, snapshot } from './harden.js';
import type { LoadSpec } from './protocol.js';

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

export interface LoadedPorts {
  readonly ports: readonly core.ArchPort[];
  /** What was frozen, to compare against after each job (changes()). */
  readonly snap: Snapshot;
  /** Frozen objects the module changed while it loaded: it must not be run. */
  readonly changed: readonly string[];
}

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

/** tsx's ESM loader, as the module (or else the CLI) would resolve it, registered. */
async function registerTsx(spec: string, entry: string): Promise<void> {
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
      spec,
      'is TypeScript, and tsx (which ptlab uses to load it) is not installed next to it: install tsx, or build the module to JavaScript',
    );
  ((await import(pathToFileURL(api).href)) as { register: () => void }).register();
}

/** Freeze everything ptlab's packages export, and the built-in prototypes (harden.ts). */
export function freezeOwn(extra: Readonly<Record<string, object>> = {}): Snapshot {
  return snapshot(freezeAll({ ...OWN, ...extra }));
}

/**
 * Load the ports `spec` names (tsx: register tsx first), an arch module
 * after freezeOwn(). ptlab's own ports run unfrozen: no code but ptlab's runs
 * in their child, so a freeze guards nothing there, and it cost 6-10% of the
 * CPU of their cells (measured: 36.3-39.3 s against 40.3-43.7 s on five
 * configs' clean cells). frozen-own.test.ts runs every built-in config frozen,
 * as a module that imports ptlab's ports runs them.
 */
export async function loadPorts(spec: LoadSpec, tsx: boolean): Promise<LoadedPorts> {
  if (!('module' in spec)) return { ports: BUILTIN_PORTS, snap: snapshot([]), changed: [] };
  const { entry } = spec.module;
  if (tsx) await registerTsx(spec.module.spec, entry);
  const snap = freezeOwn(await moduleSideCopies(entry));
  const port = await conformance.loadArchModule(entry);
  return { ports: [port], snap, changed: changes(snap) };
}
