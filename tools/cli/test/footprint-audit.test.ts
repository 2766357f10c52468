/**
 * The footprint audit (core footprint-audit.ts) over the suite: with it on,
 * every change of a folio's references or mappings must run in the effect of
 * a step that declares the folio written. Random walks of every scenario on
 * one config per arch (and the configs with shared table pages); an
 * undeclared effect makes the cell an error naming the step.
 */
import { knownFixes, loadScenarios, runCell } from '@ptlab/conformance';
import { setFootprintAudit } from '@ptlab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PORTS } from '../src/registry.js';

const CONFIGS = [
  'x86-64',
  'x86-64-pt-reclaim',
  'x86-64-nr2',
  'x86-32-pae',
  'arm64-4k',
  'arm-classic',
  'ppc64-hash-64k',
  'ppc32-8xx',
  's390-2k',
  'sparc64',
  'mips64',
];

describe('footprint audit over the suite', () => {
  beforeAll(() => setFootprintAudit(true));
  afterAll(() => setFootprintAudit(false));
  const { scenarios } = loadScenarios();

  it.each(CONFIGS)(
    '%s: no scenario changes a folio outside a step that declares it',
    (id) => {
      const port = BUILTIN_PORTS.find((p) => p.configs.some((c) => c.id === id));
      const config = port?.configs.find((c) => c.id === id);
      if (!port || !config) throw new Error(`no config ${id}`);
      const errors: string[] = [];
      for (const scenario of scenarios) {
        try {
          const r = runCell({
            port,
            config,
            scenario,
            mutant: null,
            patches: knownFixes(config.id),
            budget: [{ strategy: 'random', schedules: 12 }],
          });
          if (r.verdict === 'error' || /footprint audit/.test(r.reason ?? ''))
            errors.push(`${scenario.id}: ${r.reason}`);
        } catch (e) {
          errors.push(`${scenario.id}: ${(e as Error).message}`);
        }
      }
      expect(errors).toEqual([]);
    },
    120_000,
  );
});
