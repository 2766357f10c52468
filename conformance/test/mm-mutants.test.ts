/**
 * The mm side of the conformance suite on the generic port (port-64 constants): each scenario
 * of the khugepaged / userfaultfd / zap / mmu_notifier / TLB paths passes on
 * port-64, and each historical mm mutant those scenarios are about is killed by
 * (at least) the named scenario, with a finding that names its real cause.
 */

import { citationText } from '@ptlab/explore';
import { MM_MUTANTS } from '@ptlab/mm';
import { describe, expect, it } from 'vitest';
import { loadScenarios, mutantCatalogue, runCell } from '../src/index.js';
import { generic as port } from './generic-port.js';

const { scenarios } = loadScenarios();
const config = port.configs[0];
if (!config) throw new Error('generic config missing');
const catalogue = mutantCatalogue([port]);

function scenario(id: string) {
  const s = scenarios.find((x) => x.id === id);
  if (!s) throw new Error(`scenario ${id} missing`);
  return s;
}

const SCENARIOS = [
  'retract-vs-fault',
  'retract-vs-uffd-copy',
  'collapse-vs-uffd-copy',
  'collapse-vs-truncate',
  'retract-vs-secondary-mmu',
  'collapse-tlb-flush',
  'madvise-retracted-page-tables',
];

/** Mutant -> the scenario that kills it, the check, and what the message must say. */
const KILLS: Record<string, { scenario: string; check: string; cause: RegExp }> = {
  'collapse-before-uffd-fix': {
    scenario: 'collapse-vs-uffd-copy',
    // The leaked anon PTE: rss counts a page no table maps once every task is done (check_mm() would say it at exit).
    check: 'rss-mismatch',
    cause: /mm A counts 1 MM_ANONPAGES but its page tables map 0/,
  },
  'collapse-uffd-fix-v2-trylock': {
    scenario: 'collapse-tlb-flush',
    check: 'stale-tlb',
    cause:
      /uses its TLB entry .* but that PTE was cleared .*ptep_get_and_clear.*has finished without a TLB flush/,
  },
  'collapse-pte-clear': {
    scenario: 'collapse-vs-truncate',
    check: 'page-table-check',
    cause:
      /freed with anon_map_count=0 file_map_count=1: its mapping was removed .* with pte_clear\(\), which does not un-count it/,
  },
  'retract-without-mmu-notifier': {
    scenario: 'retract-vs-secondary-mmu',
    check: 'secondary-mmu-stale',
    cause:
      /walks through its cached pmd -> pt#\d+, but that pmd now .*no mmu_notifier invalidation/,
  },
  'retract-without-recheck': {
    scenario: 'retract-vs-uffd-copy',
    // The leaked anon PTE: rss counts a page no table maps once every task is done (check_mm() would say it at exit).
    check: 'rss-mismatch',
    cause: /mm A counts 1 MM_ANONPAGES but its page tables map 0/,
  },
  'pmd-lock-not-rechecked': {
    scenario: 'collapse-vs-uffd-copy',
    check: 'write-to-detached-table',
    cause:
      /mfill_atomic_install_pte: installs a PTE in pt#\d+, which no pmd points to any more \(retracted/,
  },
};

describe('mm scenarios pass on port-64', () => {
  for (const id of SCENARIOS) {
    it(id, { timeout: 60_000 }, () => {
      const r = runCell({ port: port, config, scenario: scenario(id) });
      expect(r.result, r.story ?? r.reason).toBe('pass');
      expect(r.schedules).toBeGreaterThan(0);
    });
  }
});

describe('mm mutants are killed on port-64', () => {
  it('every mutant here is in the catalogue, described and seeded', () => {
    for (const id of Object.keys(KILLS)) {
      const m = MM_MUTANTS.find((x) => x.id === id);
      expect(m, id).toBeDefined();
      expect(m?.description.length).toBeGreaterThan(40);
      expect(m?.seed).toMatch(/^seeds\/00\d/);
    }
  });

  for (const [id, want] of Object.entries(KILLS)) {
    it(`${id} is killed by ${want.scenario} (${want.check})`, { timeout: 60_000 }, () => {
      const mutant = catalogue.find((m) => m.id === id) ?? null;
      expect(mutant?.layer).toBe('mm');
      const r = runCell({ port: port, config, scenario: scenario(want.scenario), mutant });
      expect(r.result, `${id} survived ${want.scenario}`).toBe('fail');
      expect(r.finding?.check).toBe(want.check);
      expect(r.finding?.message).toMatch(want.cause);
      // The counterexample replays into a story that cites the mutant's seed (as stories print it).
      expect(r.story).toContain(`see: ${citationText(mutant?.seed ?? '?')}`);
    });
  }
});
