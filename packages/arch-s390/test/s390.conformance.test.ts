/**
 * The conformance suite on s390: every scenario on every config (pass, or
 * n/a with its reason), every historical variant caught by some scenario;
 * then, per variant, the scenario that catches it for the real cause the
 * seeds give, and the same cell without the variant passing.
 */

import { loadScenarios, mutantCatalogue, QUICK_BUDGET, runCell } from '@ptlab/conformance';
import { runConformance } from '@ptlab/conformance/vitest';
import type { CheckId } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  S390_2K,
  S390_LIST_IN_TABLE,
  S390_REUSE_BEFORE_GRACE_PERIOD,
  S390_V1_MMDROP_IN_CALLBACK,
  S390_V1_SHARED_RCU_HEAD,
  s390,
} from '../src/index.js';

// The quick plan and the port's own variants: the main job (`ptlab conformance`) gives the
// default run's verdicts and runs the mm mutants; conformance/test runs those too.
runConformance({ arch: s390, budget: QUICK_BUDGET, variants: 'arch' });

/** Which scenario catches each variant, with which check, and what the message must name. */
const REAL_CAUSES: readonly {
  variant: string;
  scenario: string;
  check: CheckId;
  message: RegExp;
}[] = [
  {
    variant: S390_V1_SHARED_RCU_HEAD,
    scenario: 'sibling-tables-deferred-together',
    check: 'rcu-head-reused',
    message: /call_rcu\(pt_rcu_head of pfn \d+, pte_free_now\) while that rcu_head is still queued/,
  },
  {
    variant: S390_LIST_IN_TABLE,
    scenario: 'deferred-table-not-reused',
    check: 'pte-not-a-pte',
    message: /reader saw a list pointer where a PTE was expected/,
  },
  {
    variant: S390_V1_MMDROP_IN_CALLBACK,
    scenario: 'retract-vs-exit',
    check: 'sleep-in-atomic',
    message: /__mmdrop\(mm A\) may sleep, called in an RCU callback \(softirq\)/,
  },
  {
    variant: S390_REUSE_BEFORE_GRACE_PERIOD,
    scenario: 'deferred-table-not-reused',
    check: 'use-after-free',
    message:
      /page_table_alloc: hands out pte table at pa 0x[0-9a-f]+, but pt#\d+ there is still waiting for its grace period/,
  },
];

describe('s390 variants are caught for the real cause', () => {
  const { scenarios } = loadScenarios();
  const catalogue = mutantCatalogue([s390]);

  it('every declared variant has a real-cause case here', () => {
    expect(REAL_CAUSES.map((r) => r.variant).sort()).toEqual(s390.variants.map((v) => v.id).sort());
  });

  for (const rc of REAL_CAUSES) {
    it(`${rc.variant}: ${rc.scenario} finds ${rc.check}`, { timeout: 120_000 }, () => {
      const mutant = catalogue.find((m) => m.id === rc.variant);
      const scenario = scenarios.find((s) => s.id === rc.scenario);
      if (!mutant || !scenario) throw new Error('variant or scenario missing');
      const r = runCell({ port: s390, config: S390_2K, scenario, mutant });
      expect(r.result).toBe('fail');
      expect(r.finding?.check).toBe(rc.check);
      expect(r.finding?.message).toMatch(rc.message);
      // The trace replays to the same finding, and the story names the variant.
      expect(r.trace?.finding.check).toBe(rc.check);
      expect(r.story).toContain(rc.variant);
      // The same cell without the variant passes: the finding is the variant's.
      expect(runCell({ port: s390, config: S390_2K, scenario }).result).toBe('pass');
    });
  }
});
