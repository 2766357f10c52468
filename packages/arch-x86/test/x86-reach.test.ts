/**
 * Mutant reach for the x86 variants that record where they differ
 * (ArchVariant.reachRecorded): every cell the shortcut would skip, searched
 * anyway, is the clean cell's search step for step.
 */
import {
  knownFixes,
  loadScenarios,
  mutantCatalogue,
  QUICK_BUDGET,
  reachCrossCheck,
  scenarioById,
} from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { x86 } from '../src/index.js';

const loaded = loadScenarios();
/** A collapse of a pte-mapped THP (where the one-lock recheck is), a reclaim, a retract, frees. */
const IDS = [
  'gen-cptm-dontneed',
  'reclaim-retry-vs-fault',
  'reclaim-empty-table-vs-walker',
  'retract-vs-fault',
  'anon-vma-unmap',
  'gen-fault-truncate',
];

describe('x86 variants that record where they differ', () => {
  const variants = mutantCatalogue([x86]).filter((m) => m.layer === 'arch' && m.reachRecorded);

  it('are the one-lock recheck and semi-RCU reclaim', () => {
    expect(variants.map((m) => m.id).sort()).toEqual([
      'collapse-recheck-pmd-one-lock',
      'x86-semi-rcu-reclaim',
    ]);
  });

  for (const m of variants) {
    const configId = m.configs?.[0] ?? '';
    it(`${m.id}: every cell mutant reach skips on ${configId} is the clean search`, {
      timeout: 120_000,
    }, () => {
      const config = x86.configs.find((c) => c.id === configId);
      if (!config) throw new Error(`config ${configId} missing`);
      let skipped = 0;
      for (const id of IDS) {
        const r = reachCrossCheck({
          port: x86,
          config,
          scenario: scenarioById(loaded, id),
          mutant: m,
          patches: knownFixes(configId),
          budget: QUICK_BUDGET,
        });
        if (!r.skipped) continue;
        skipped++;
        expect(r.same, `${m.id} on ${id}`).toBe(true);
      }
      expect(skipped).toBeGreaterThan(0);
      expect(skipped).toBeLessThan(IDS.length);
    });
  }
});
