import { writeFileSync } from 'node:fs';
import {
  guardedCreate,
  type Mutant,
  mutantApplies,
  mutantCatalogue,
  notApplicable,
  scenarioProgram,
  type ValidScenario,
} from '@ptlab/conformance';
import { UsageError } from '@ptlab/core';
import { explore, makeTrace, renderStory, type StrategyName } from '@ptlab/explore';
import { findConfig, type LoadedPort } from '../registry.js';

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
}

export function findScenario(scenarios: readonly ValidScenario[], id: string): ValidScenario {
  const s = scenarios.find((x) => x.id === id);
  if (!s)
    throw new UsageError(
      `unknown scenario "${id}" (known: ${scenarios.map((x) => x.id).join(', ')})`,
    );
  return s;
}

export function findMutant(ports: readonly LoadedPort[], id: string): Mutant {
  const all = mutantCatalogue(ports.map((p) => p.port));
  const m = all.find((x) => x.id === id);
  if (!m)
    throw new UsageError(`unknown mutant "${id}" (known: ${all.map((x) => x.id).join(', ')})`);
  return m;
}

/** `ptlab check`: one scenario on one config, one strategy. Returns the exit code. */
export function runCheck(
  ports: readonly LoadedPort[],
  scenarios: readonly ValidScenario[],
  o: CheckOptions,
  out: (s: string) => void,
): number {
  const { port, config } = findConfig(ports, o.arch);
  const scenario = findScenario(scenarios, o.scenario);
  const mutant = o.mutant ? findMutant(ports, o.mutant) : null;
  if (mutant && !mutantApplies(mutant, config))
    throw new UsageError(
      `mutant ${mutant.id} does not apply to ${config.id} (it is for ${mutant.layer === 'mm' ? `configs with ${(mutant.requires ?? []).join(', ')}` : (mutant.configs ?? []).join(', ')})`,
    );
  const na = notApplicable(scenario, config);
  const head = {
    arch: config.id,
    scenario: scenario.id,
    mutant: mutant?.id ?? null,
    strategy: o.strategy,
    seed: o.seed,
  };
  if (na) {
    if (o.json)
      out(
        JSON.stringify({
          ...head,
          schedules: 0,
          steps: 0,
          elapsedMs: 0,
          result: 'n/a',
          reason: na,
        }),
      );
    else out(`${scenario.id} on ${config.id}: ${na}`);
    return 0;
  }
  const program = scenarioProgram(scenario, {
    arch: guardedCreate(port.port, config, mutant?.layer === 'arch' ? mutant.id : undefined),
    variants: mutant?.layer === 'mm' ? [mutant.id] : [],
  });
  const t0 = performance.now();
  const r = explore(program, {
    strategy: o.strategy,
    schedules: o.schedules,
    seed: o.seed,
    minimise: o.minimise,
    por: o.por,
    ...(o.preemptionBound !== undefined ? { preemptionBound: o.preemptionBound } : {}),
  });
  const elapsedMs = Math.round(performance.now() - t0);
  const base = {
    ...head,
    schedules: r.schedules,
    steps: r.steps,
    elapsedMs,
    exhausted: r.exhausted,
    truncated: r.truncated,
  };
  if (r.result === 'pass' || !r.finding) {
    if (o.json) out(JSON.stringify({ ...base, result: 'pass' }));
    else
      out(
        `pass: ${scenario.id} on ${config.id}${mutant ? ` with ${mutant.id}` : ''}: ${r.schedules} schedules (${o.strategy}${r.exhausted ? ', space exhausted' : ''}), ${r.steps} steps, ${elapsedMs} ms, no check fired`,
      );
    return 0;
  }
  const trace = makeTrace({
    arch: config.id,
    ...('module' in port.ref ? { archModule: port.ref.module } : {}),
    scenario: scenario.id,
    mutant: mutant?.id ?? null,
    strategy: o.strategy,
    seed: o.seed,
    schedule: r.schedule,
    finding: { check: r.finding.check, message: r.finding.message, step: r.finding.step },
  });
  if (o.traceOut) writeFileSync(o.traceOut, `${JSON.stringify(trace, null, 2)}\n`);
  const story = renderStory(r.records, r.finding, {
    title: `${scenario.id} on ${config.id}${mutant ? ` with mutant ${mutant.id}` : ''}: counterexample after ${r.firstFailureAt} schedule(s) (${o.strategy}, seed ${o.seed}), minimised to ${r.preemptions} preemption(s), ${r.records.length} steps`,
    seedRef: mutant?.seed ?? scenario.seed,
  });
  if (o.json) {
    out(
      JSON.stringify({
        ...base,
        result: 'fail',
        finding: {
          check: r.finding.check,
          message: r.finding.message,
          step: r.finding.step,
          cpu: r.finding.cpu,
          fn: r.finding.fn,
          trace,
        },
        story,
      }),
    );
  } else {
    out(story);
    if (o.traceOut)
      out(`\ntrace written to ${o.traceOut} (replay with: pnpm ptlab replay ${o.traceOut})`);
  }
  return 1;
}
