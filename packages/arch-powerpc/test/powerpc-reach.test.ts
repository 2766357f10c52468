/**
 * Mutant reach for the powerpc variants (ArchVariant.reachRecorded): the port
 * records every point where a variant can differ from v6.6, so a verified
 * clean cell that never recorded it proves the variant's cell. Checked
 * against real searches: every cell the shortcut would skip, searched
 * anyway, is the clean cell's search step for step; and a variant whose
 * differing code records nothing is caught by that comparison.
 */

import {
  knownFixes,
  loadScenarios,
  type Mutant,
  mutantCatalogue,
  QUICK_BUDGET,
  reachCrossCheck,
  scenarioById,
} from '@ptlab/conformance';
import type { ArchPort } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  ALWAYS_RCU_POLICY,
  POWERPC_ALWAYS_RCU,
  POWERPC_V2_REDEFER,
  POWERPC_VARIANTS,
  PowerpcArch,
  powerpc,
} from '../src/index.js';

const loaded = loadScenarios();
/** Cheap scenarios: a retract, a fault beside one, frees at unmap and exit, hugetlb, a zap. */
const IDS = [
  'retract-vs-fault',
  'anon-vma-unmap',
  'anon-vma-faults',
  'truncate-twice',
  'huge-pmd-fault-vs-zap',
  'gen-fault-truncate',
  'gen-ways-one-free',
  'sibling-tables-deferred-together',
];

function crossCheck(port: ArchPort, m: Mutant, configId: string, id: string) {
  const config = port.configs.find((c) => c.id === configId);
  if (!config) throw new Error(`config ${configId} missing`);
  return reachCrossCheck({
    port,
    config,
    scenario: scenarioById(loaded, id),
    mutant: m,
    patches: knownFixes(configId),
    budget: QUICK_BUDGET,
  });
}

describe('powerpc variants record where they differ', () => {
  const variants = mutantCatalogue([powerpc]).filter((m) => m.layer === 'arch');

  it('every variant says so', () => {
    expect(POWERPC_VARIANTS.every((v) => v.reachRecorded === true)).toBe(true);
    expect(variants.every((m) => m.reachRecorded === true)).toBe(true);
  });

  for (const m of variants) {
    const configId = m.configs?.[0] ?? '';
    it(`${m.id}: every cell mutant reach skips on ${configId} is the clean search`, {
      timeout: 120_000,
    }, () => {
      let skipped = 0;
      for (const id of IDS) {
        const r = crossCheck(powerpc, m, configId, id);
        if (!r.skipped) continue;
        skipped++;
        expect(r.same, `${m.id} on ${id}: ${JSON.stringify([r.clean, r.searched])}`).toBe(true);
      }
      // Each variant is recorded somewhere here and skipped somewhere else.
      expect(skipped).toBeGreaterThan(0);
      expect(skipped).toBeLessThan(IDS.length);
    });
  }

  it('a retract reaches pte_free_defer(), an unmap does not', () => {
    const v2 = variants.find((m) => m.id === POWERPC_V2_REDEFER) as Mutant;
    expect(crossCheck(powerpc, v2, 'ppc64-hash-64k', 'retract-vs-fault').skipped).toBe(false);
    expect(crossCheck(powerpc, v2, 'ppc64-hash-64k', 'anon-vma-unmap').skipped).toBe(true);
  });

  it('a variant whose differing code records nothing is caught by the comparison', () => {
    // Always-RCU under an id the port's code never records: the shortcut would skip it on the
    // unmap, where its extra grace period makes it a different search.
    const id = 'always-rcu-unrecorded';
    const port: ArchPort = {
      ...powerpc,
      variants: [
        {
          ...(POWERPC_VARIANTS.find((v) => v.id === POWERPC_ALWAYS_RCU) as ArchPort['variants'][0]),
          id,
        },
      ],
      create: (config, variant) =>
        variant === id
          ? new PowerpcArch(config, variant, ALWAYS_RCU_POLICY)
          : powerpc.create(config, variant),
    };
    const m = mutantCatalogue([port]).find((x) => x.id === id) as Mutant;
    const r = crossCheck(port, m, 'ppc64-hash-64k', 'anon-vma-unmap');
    expect(r.skipped).toBe(true);
    expect(r.same).toBe(false);
    expect(r.searched?.steps).not.toBe(r.clean.steps);
  });
});
