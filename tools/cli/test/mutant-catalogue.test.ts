/**
 * The whole mutant catalogue of ptlab's own ports: every mutant declares the
 * check(s) that are its bug, and each historical bug added from the kernel's
 * fix commits since v6.5 is killed, under the suite's default budget, by one of
 * its declared checks in the scenario named here, while the same cell without
 * it passes (judged with the known kernel findings' fixes applied).
 */
import { knownFixes, loadScenarios, mutantCatalogue, runCell } from '@ptlab/conformance';
import { CHECKS } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PORTS } from '../src/registry.js';

const catalogue = mutantCatalogue(BUILTIN_PORTS);
const { scenarios } = loadScenarios();

describe('mutant catalogue', () => {
  it.each(catalogue.map((m) => [m.id, m] as const))(
    '%s declares the check(s) that are its bug',
    (_id, m) => {
      if (m.expect === 'pass') expect(m.checks).toEqual([]);
      else expect(m.checks.length).toBeGreaterThan(0);
      for (const c of m.checks) expect(c in CHECKS).toBe(true);
    },
  );

  it('ids are unique across mm mutants and every port', () => {
    const ids = catalogue.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/** Historical kernel bugs since v6.5 (fix commits in the mutants' `seed`): config and scenario of a kill. */
const KILLS: readonly { mutant: string; config: string; scenario: string }[] = [
  {
    mutant: 'zap-reclaim-after-retry',
    config: 'x86-64-pt-reclaim',
    scenario: 'reclaim-retry-vs-fault',
  },
  { mutant: 'uffd-bug-on-yanked-table', config: 'x86-64', scenario: 'retract-vs-uffd-copy' },
  {
    mutant: 'collapse-without-lockless-sync',
    config: 'x86-32-pae',
    scenario: 'torn-pmd-read-collapse',
  },
  { mutant: 'fault-pte-lockptr', config: 'x86-64', scenario: 'retract-vs-fault' },
  {
    mutant: 'hmm-map-cannot-fail',
    config: 'x86-64-pt-reclaim',
    scenario: 'reclaim-empty-table-vs-walker',
  },
  { mutant: 'uffd-map-cannot-fail', config: 'x86-64', scenario: 'retract-vs-uffd-copy' },
  { mutant: 'zap-map-cannot-fail', config: 'x86-64', scenario: 'retract-vs-exit' },
  { mutant: 'mremap-move-pmd-unchecked', config: 'x86-64', scenario: 'mremap-vs-retract' },
  {
    mutant: 'powerpc-hash-flush-unbalanced-map',
    config: 'ppc64-hash-64k',
    scenario: 'retract-vs-lockless-walkers',
  },
  {
    mutant: 'powerpc-8xx-hugetlb-unbalanced-map',
    config: 'ppc32-8xx',
    scenario: 'hugetlb-walk-balance',
  },
  { mutant: 'arm-adjust-pte-cannot-fail', config: 'arm-lpae', scenario: 'adjust-pte-vs-retract' },
];

describe('historical kernel bugs since v6.5, killed by their declared check', () => {
  it.each(KILLS.map((k) => [k.mutant, k] as const))('%s', { timeout: 120_000 }, (_id, k) => {
    const mutant = catalogue.find((m) => m.id === k.mutant);
    const port = BUILTIN_PORTS.find((p) => p.configs.some((c) => c.id === k.config));
    const config = port?.configs.find((c) => c.id === k.config);
    const scenario = scenarios.find((s) => s.id === k.scenario);
    if (!mutant || !port || !config || !scenario) throw new Error(`${k.mutant}: setup missing`);
    const patches = knownFixes(config.id);
    const r = runCell({ port, config, scenario, mutant, patches });
    expect(r.result).toBe('fail');
    expect(mutant.checks).toContain(r.finding?.check);
    expect(runCell({ port, config, scenario, patches }).result).toBe('pass');
  });
});
