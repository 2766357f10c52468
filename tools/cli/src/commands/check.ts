import { writeFileSync } from 'node:fs';
import {
  type Mutant,
  mutantApplies,
  mutantCatalogue,
  type ScenarioLoad,
  scenarioById,
  type ValidScenario,
} from '@ptlab/conformance';
import { ArchModuleError, UsageError } from '@ptlab/core';
import type { StrategyName } from '@ptlab/explore';
import type { Child } from '../child/process.js';
import { cliInvocation } from '../invocation.js';
import { type CheckRun, runCheckJob, runCheckJobSplit } from '../jobs.js';
import { unknownId } from '../output.js';
import { BUILTIN_PORTS, findConfig, type LoadedPort } from '../registry.js';

export interface CheckOptions {
  arch: string;
  scenario: string;
  mutant?: string | undefined;
  strategy: StrategyName;
  schedules: number;
  seed: number;
  preemptionBound?: number | undefined;
  minimise: boolean;
  por: boolean;
  traceOut?: string | undefined;
  json: boolean;
  /** Split the exhaustive search across this many worker threads (same result for any number). */
  split?: number | undefined;
}

/**
 * A scenario by id: conformance's scenarioById() (which says why a file with
 * that id did not load); an id no file has gets the closest known one and
 * every file that failed to load.
 */
export function findScenario(load: ScenarioLoad, id: string): ValidScenario {
  if (load.scenarios.some((x) => x.id === id) || load.refusedIds.has(id))
    return scenarioById(load, id);
  const e = unknownId(
    'scenario',
    id,
    load.scenarios.map((x) => x.id),
  );
  if (!load.errors.length) throw e;
  throw new UsageError(
    `${e.message.replace(/^\[ptlab\] /, '')}\n${load.errors.length} scenario file(s) could not be loaded:\n${load.errors.map((x) => `  ${x.message}`).join('\n')}`,
  );
}

export function findMutant(ports: readonly LoadedPort[], id: string): Mutant {
  const all = mutantCatalogue(ports.map((p) => p.port));
  const m = all.find((x) => x.id === id);
  if (!m)
    throw unknownId(
      'mutant',
      id,
      all.map((x) => x.id),
    );
  return m;
}

/**
 * `ptlab check`: one scenario on one config, one strategy. A module's config
 * runs in `moduleChild` (the child that loaded it); ptlab's own run here.
 * Returns the exit code, from the verdict alone.
 */
export async function runCheck(
  ports: readonly LoadedPort[],
  scenarios: ScenarioLoad,
  o: CheckOptions,
  out: (s: string) => void,
  moduleChild: (p: LoadedPort) => Child | undefined,
): Promise<number> {
  const { port, config } = findConfig(ports, o.arch);
  const scenario = findScenario(scenarios, o.scenario);
  const mutant = o.mutant ? findMutant(ports, o.mutant) : null;
  if (mutant && !mutantApplies(mutant, config))
    throw new UsageError(
      `mutant ${mutant.id} does not apply to ${config.id} (it is for ${mutant.layer === 'mm' ? `configs with ${(mutant.requires ?? []).join(', ')}` : (mutant.configs ?? []).join(', ')})`,
    );
  if (o.preemptionBound !== undefined && o.strategy !== 'exhaustive')
    throw new UsageError(
      `--preemption-bound bounds the exhaustive search; it means nothing with --strategy ${o.strategy}`,
    );
  if (o.split !== undefined && o.strategy !== 'exhaustive')
    throw new UsageError(
      `--split splits the exhaustive search across workers; it means nothing with --strategy ${o.strategy}`,
    );
  const job = {
    configId: config.id,
    scenario,
    mutant,
    strategy: o.strategy,
    schedules: o.schedules,
    seed: o.seed,
    preemptionBound: o.preemptionBound,
    minimise: o.minimise,
    por: o.por,
    ...('module' in port.ref ? { archModule: port.ref.module.entry } : {}),
  };
  let r: CheckRun;
  const child = moduleChild(port);
  if (child) {
    const reply = await child.run<CheckRun>(
      { kind: 'check', job, ...(o.split !== undefined ? { split: o.split } : {}) },
      `check of ${config.id} x ${scenario.id}`,
    );
    if (!reply.ok) throw new ArchModuleError('ptlab', reply.failure.message);
    r = reply.value;
    if (
      typeof r !== 'object' ||
      r === null ||
      !['pass', 'fail', 'n/a', 'incomplete'].includes(r.result)
    )
      throw new ArchModuleError(
        'ptlab',
        `${child.domain.label} sent a check result that is not one`,
      );
  } else if (o.split !== undefined) {
    r = await runCheckJobSplit(BUILTIN_PORTS, job, o.split);
  } else {
    r = runCheckJob(BUILTIN_PORTS, job);
  }
  if (r.trace && o.traceOut) writeFileSync(o.traceOut, `${JSON.stringify(r.trace, null, 2)}\n`);
  if (o.json) out(JSON.stringify(r.json));
  else {
    out(String(r.text));
    if (r.trace && o.traceOut)
      out(
        `\ntrace written to ${o.traceOut} (replay with: ${cliInvocation()} replay ${o.traceOut})`,
      );
  }
  return r.result === 'fail' ? 1 : r.result === 'incomplete' ? 4 : 0;
}
