import { arm } from '@ptlab/arch-arm';
import { mips } from '@ptlab/arch-mips';
import { powerpc } from '@ptlab/arch-powerpc';
import { s390 } from '@ptlab/arch-s390';
import { sparc } from '@ptlab/arch-sparc';
import { x86 } from '@ptlab/arch-x86';
import { loadArchModule } from '@ptlab/conformance';
import { type ArchConfig, type ArchPort, UsageError } from '@ptlab/core';

/** ptlab's own arch packages, in the order reports list them. */
export const BUILTIN_PORTS: readonly ArchPort[] = [s390, powerpc, sparc, arm, mips, x86];

/** Where a port comes from, so a worker thread can load it again. */
export type PortRef = { readonly builtin: string } | { readonly module: string };

export interface LoadedPort {
  readonly port: ArchPort;
  readonly ref: PortRef;
}

export function builtinPorts(): LoadedPort[] {
  return BUILTIN_PORTS.map((port) => ({ port, ref: { builtin: port.arch } }));
}

/** The ports a command runs on: ptlab's own, or those of --arch-module. */
export async function resolvePorts(archModules: readonly string[]): Promise<LoadedPort[]> {
  if (archModules.length === 0) return builtinPorts();
  const out: LoadedPort[] = [];
  for (const m of archModules) {
    const { resolve, isAbsolute } = await import('node:path');
    const spec = m.startsWith('.') || isAbsolute(m) ? resolve(m) : m;
    out.push({ port: await loadArchModule(spec), ref: { module: spec } });
  }
  return out;
}

/** Load a port again from its reference (in a worker, or for replay). */
export async function portFromRef(ref: PortRef): Promise<ArchPort> {
  if ('builtin' in ref) {
    const p = BUILTIN_PORTS.find((x) => x.arch === ref.builtin);
    if (!p) throw new UsageError(`unknown built-in arch ${ref.builtin}`);
    return p;
  }
  return loadArchModule(ref.module);
}

/** Find a config by id among ports; unknown ids get the list of known ones. */
export function findConfig(
  ports: readonly LoadedPort[],
  id: string,
): { port: LoadedPort; config: ArchConfig } {
  for (const p of ports) {
    const config = p.port.configs.find((c) => c.id === id);
    if (config) return { port: p, config };
  }
  const known = ports.flatMap((p) => p.port.configs.map((c) => c.id));
  throw new UsageError(`unknown arch config "${id}" (known: ${known.join(', ')})`);
}
