/**
 * The bench workload built from a checkout by path: this tree, or an old
 * commit checked out beside it (git worktree add /tmp/base 4cb38e0, then
 * pnpm install there). Its built packages (dist/) when it has them, as users
 * run them, else its sources (which need the "source" condition:
 * builtPackages() tells the caller which). Only APIs that have not changed
 * since that commit are used: loadScenarios, scenarioProgram, guardedCreate,
 * explore.
 */
import { existsSync } from 'node:fs';
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

const ENTRIES = {
  conformance: 'conformance',
  explore: 'packages/explore',
  x86: 'packages/arch-x86',
} as const;

/** Whether `root` has every package the workload loads built (dist/index.js). */
export function builtPackages(root: string): boolean {
  return Object.values(ENTRIES).every((d) => existsSync(join(root, d, 'dist', 'index.js')));
}

export async function workloadFrom(root: string, label: string): Promise<EngineApi> {
  const entry = builtPackages(root) ? 'dist/index.js' : 'src/index.ts';
  const c = await load<ConformanceApi>(root, `${ENTRIES.conformance}/${entry}`);
  const e = await load<ExploreApi>(root, `${ENTRIES.explore}/${entry}`);
  const { x86 } = await load<X86Api>(root, `${ENTRIES.x86}/${entry}`);
  const scenario = c.loadScenarios().scenarios.find((s) => s.id === WORKLOAD.scenario);
  const config = x86.configs.find((k) => k.id === WORKLOAD.config);
  if (!scenario || !config)
    throw new Error(`${label}: no ${WORKLOAD.scenario} scenario or ${WORKLOAD.config} config`);
  return {
    label: `${label} (${entry === 'dist/index.js' ? 'built packages' : 'sources'})`,
    program: () =>
      c.scenarioProgram(scenario, { arch: c.guardedCreate(x86, config), variants: [] }),
    explore: e.explore,
  };
}
