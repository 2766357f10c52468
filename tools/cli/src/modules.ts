/** Arch modules named on the command line: resolved here, loaded only in a child process. */
import { ArchModuleError } from '@ptlab/core';
import { Child, type Limits, moduleDomain } from './child/process.js';
import { type LoadedPort, modulePort } from './registry.js';
import { resolveArchModule } from './resolve-module.js';

export interface OpenModule {
  readonly port: LoadedPort;
  /** The child that loaded it, alive, to run a job in (check, replay); kill it when done. */
  readonly child: Child;
}

/** Resolve and load one module in a fresh child; a module that cannot load is an error naming it. */
export async function openModule(spec: string, limits: Limits): Promise<OpenModule> {
  const ref = resolveArchModule(spec);
  const r = await Child.start(moduleDomain(ref), limits);
  if (!r.ok) throw new ArchModuleError('ptlab', r.failure.message);
  const [info, ...rest] = r.value.ports;
  if (!info || rest.length) {
    r.value.kill();
    throw new ArchModuleError('ptlab', `arch module ${spec} did not describe exactly one port`);
  }
  try {
    return { port: modulePort(info, ref), child: r.value };
  } catch (e) {
    r.value.kill();
    throw e;
  }
}

/** Load each module's description (configs, variants); its child is killed, or kept in `keep`. */
export async function describeModules(
  specs: readonly string[],
  limits: Limits,
  keep?: Child[],
): Promise<LoadedPort[]> {
  const out: LoadedPort[] = [];
  for (const s of specs) {
    const m = await openModule(s, limits);
    if (keep) keep.push(m.child);
    else m.child.kill();
    out.push(m.port);
  }
  return out;
}
