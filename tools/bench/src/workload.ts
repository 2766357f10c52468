/**
 * The bench workload built from a checkout's sources by path: this tree, or
 * an old commit checked out beside it (git worktree add /tmp/base 4cb38e0, then
 * pnpm install there). Only APIs that have not changed since that commit are
 * used: loadScenarios, scenarioProgram, guardedCreate, explore.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type EngineApi, WORKLOAD } from './engine.js';

interface ConformanceApi {
  loadScenarios(): { scenarios: { id: string }[] };
  scenarioProgram(s: unknown, o: { arch: () => unknown; variants: string[] }): unknown;
  guardedCreate(port: unknown, config: unknown): () => unknown;
}
interface ExploreApi {
  explore: EngineApi['explore'];
}
interface X86Api {
  x86: { configs: { id: string }[] };
}

const load = async <T>(root: string, rel: string): Promise<T> =>
  (await import(pathToFileURL(join(root, rel)).href)) as T;

export async function workloadFrom(root: string, label: string): Promise<EngineApi> {
  const c = await load<ConformanceApi>(root, 'conformance/src/index.ts');
  const e = await load<ExploreApi>(root, 'packages/explore/src/index.ts');
  const { x86 } = await load<X86Api>(root, 'packages/arch-x86/src/index.ts');
  const scenario = c.loadScenarios().scenarios.find((s) => s.id === WORKLOAD.scenario);
  const config = x86.configs.find((k) => k.id === WORKLOAD.config);
  if (!scenario || !config)
    throw new Error(`${label}: no ${WORKLOAD.scenario} scenario or ${WORKLOAD.config} config`);
  return {
    label,
    program: () =>
      c.scenarioProgram(scenario, { arch: c.guardedCreate(x86, config), variants: [] }),
    explore: e.explore,
  };
}
