/**
 * A correct variant's cells are searched strongest first (VARIANT_BUDGET):
 * the same four searches as MUTANT_BUDGET, so the same verdict kinds, with
 * the weaker searches skipped once a stronger one has completed.
 */
import {
  type CellResult,
  loadScenarios,
  MUTANT_BUDGET,
  mutantCatalogue,
  runCell,
  scenarioById,
  VARIANT_BUDGET,
} from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { builtinPorts } from '../src/registry.js';

const load = loadScenarios();
const port = builtinPorts().find((p) => p.port.arch === 'powerpc')?.port;
const config = port?.configs.find((c) => c.id === 'ppc64-radix-64k');
const variant = port && mutantCatalogue([port]).find((m) => m.id === 'powerpc-v2-redefer');

const cell = (scenario: string, budget?: typeof MUTANT_BUDGET): CellResult => {
  if (!port || !config || !variant)
    throw new Error('powerpc-v2-redefer on ppc64-radix-64k is gone');
  return runCell({
    port,
    config,
    scenario: scenarioById(load, scenario),
    mutant: variant,
    ...(budget ? { budget } : {}),
  });
};

describe('a correct variant', () => {
  it('is searched with VARIANT_BUDGET by default, not with the mutant plan', () => {
    expect(variant?.expect).toBe('pass');
    const r = cell('retract-vs-exit');
    expect(r.phases?.[0]).toMatchObject({ strategy: 'exhaustive', complete: true });
    expect(r.phases?.[0]?.preemptionBound).toBeUndefined();
  });

  // One cell the unbounded search proves, one it cannot (proved within 2 preemptions).
  for (const [scenario, verdict] of [
    ['retract-vs-exit', 'verified'],
    ['collapse-vs-truncate', 'verified-bounded'],
  ] as const)
    it(`gets the verdict MUTANT_BUDGET gives, for fewer executions (${scenario}: ${verdict})`, () => {
      const old = cell(scenario, MUTANT_BUDGET);
      const now = cell(scenario, VARIANT_BUDGET);
      expect(old.verdict).toBe(verdict);
      expect([now.result, now.verdict, now.bound]).toEqual([old.result, old.verdict, old.bound]);
      expect(now.schedules).toBeLessThan(old.schedules);
      // The weaker searches MUTANT_BUDGET ran first are skipped once a stronger one completed.
      expect(now.phases?.map((p) => p.preemptionBound ?? 'none')).not.toContain(0);
    }, 120_000);
});
