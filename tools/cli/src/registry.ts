import { arm } from '@ptlab/arch-arm';
import { mips } from '@ptlab/arch-mips';
import { powerpc } from '@ptlab/arch-powerpc';
import { s390 } from '@ptlab/arch-s390';
import { sparc } from '@ptlab/arch-sparc';
import { x86 } from '@ptlab/arch-x86';
import { validatePort } from '@ptlab/conformance';
import { type ArchConfig, ArchModuleError, type ArchPort, UsageError } from '@ptlab/core';
import type { PortInfo } from './child/protocol.js';
import { unknownId } from './output.js';
import { type ArchModuleRef, moduleOrigin } from './resolve-module.js';

/** ptlab's own arch packages, in the order reports list them. */
export const BUILTIN_PORTS: readonly ArchPort[] = [s390, powerpc, sparc, arm, mips, x86];

/** Where a port comes from: ptlab itself, or an arch module (whose code runs only in a child). */
export type PortRef = { readonly builtin: string } | { readonly module: ArchModuleRef };

export interface LoadedPort {
  /** For a module: its configs and variants as data; create() refuses to run here. */
  readonly port: ArchPort;
  readonly ref: PortRef;
}

export function builtinPorts(): LoadedPort[] {
  return BUILTIN_PORTS.map((port) => ({ port, ref: { builtin: port.arch } }));
}

/**
 * A module's port as the parent holds it: data only, validated again here (the
 * child's description is data from the module's process, and the parent plans
 * cells from it), so nonsense is refused naming the module, not a crash.
 */
export function modulePort(info: PortInfo, module: ArchModuleRef): LoadedPort {
  const data = typeof info === 'object' && info !== null ? info : ({} as Partial<PortInfo>);
  const port = validatePort(
    {
      arch: data.arch,
      configs: data.configs,
      variants: data.variants,
      create() {
        throw new ArchModuleError(module.spec, 'an arch module runs only in a child process');
      },
    },
    module.spec,
  );
  return { ref: { module }, port };
}

/** How messages name where a port comes from. */
/** Where a port's code came from, as verdict lines and the viewer say it (a module with its digest). */
export const portOrigin = (ref: PortRef): string =>
  'module' in ref ? moduleOrigin(ref.module) : `built-in @ptlab/arch-${ref.builtin}`;

export const portLabel = (ref: PortRef): string =>
  'module' in ref ? `arch module ${ref.module.spec}` : `built-in arch-${ref.builtin}`;

/**
 * Config ids must name one config: a module may not reuse a built-in id (or
 * another module's), or `--arch x86-64` and replay could run the wrong code.
 */
export function checkUniqueConfigs(ports: readonly LoadedPort[]): void {
  const seen = new Map<string, LoadedPort>();
  for (const p of ports)
    for (const c of p.port.configs) {
      const other = seen.get(c.id);
      if (other)
        throw new UsageError(
          `config id ${c.id} is declared by both ${portLabel(other.ref)} and ${portLabel(p.ref)}; a module must use ids of its own`,
        );
      seen.set(c.id, p);
    }
}

/** Find a config by id among ports; unknown ids get the closest known one and the list. */
export function findConfig(
  ports: readonly LoadedPort[],
  id: string,
): { port: LoadedPort; config: ArchConfig } {
  for (const p of ports) {
    const config = p.port.configs.find((c) => c.id === id);
    if (config) return { port: p, config };
  }
  throw unknownId(
    'arch config',
    id,
    ports.flatMap((p) => p.port.configs.map((c) => c.id)),
  );
}
