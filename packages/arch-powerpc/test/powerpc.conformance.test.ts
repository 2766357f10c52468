import {
  knownFixes,
  loadScenarios,
  mutantCatalogue,
  QUICK_BUDGET,
  runCell,
} from '@ptlab/conformance';
import { runConformance } from '@ptlab/conformance/vitest';
import { describe, expect, it } from 'vitest';
import { POWERPC_V1_SHARED_RCU_HEAD, powerpc } from '../src/index.js';

// Every scenario on every config (pass or n/a), every variant caught or passing as declared.
// The quick plan and the port's own variants: the main job (`ptlab conformance`) gives the
// default run's verdicts and runs the mm mutants; conformance/test runs those too.
runConformance({ arch: powerpc, budget: QUICK_BUDGET, variants: 'arch' });

describe('powerpc variants are caught for the real cause', () => {
  const { scenarios } = loadScenarios();
  const v1 = mutantCatalogue([powerpc]).find((m) => m.id === POWERPC_V1_SHARED_RCU_HEAD);
  const sibling = scenarios.find((s) => s.id === 'sibling-tables-deferred-together');

  for (const configId of v1?.configs ?? []) {
    it(`${POWERPC_V1_SHARED_RCU_HEAD} on ${configId}: the page's one rcu_head queued twice`, {
      timeout: 120_000,
    }, () => {
      const config = powerpc.configs.find((c) => c.id === configId);
      if (!config || !v1 || !sibling) throw new Error('variant, config or scenario missing');
      // Judged with the fix of the known pte_frag_destroy() finding applied (docs/kernel-findings.md).
      const patches = knownFixes(configId);
      const r = runCell({ port: powerpc, config, scenario: sibling, mutant: v1, patches });
      expect(r.result).toBe('fail');
      expect(r.finding?.check).toBe('rcu-head-reused');
      expect(r.finding?.message).toMatch(/call_rcu\(pt_rcu_head of pfn \d+, pte_free_now\)/);
      // The same cell without the variant passes: the finding is the variant's.
      expect(runCell({ port: powerpc, config, scenario: sibling, patches }).result).toBe('pass');
    });
  }
});
