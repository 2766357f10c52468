import { loadScenarios, mutantCatalogue, QUICK_BUDGET, runCell } from '@ptlab/conformance';
import { runConformance } from '@ptlab/conformance/vitest';
import { describe, expect, it } from 'vitest';
import { MIPS_UPDATE_TLB_UNBALANCED, mips } from '../src/index.js';

// Every scenario on every config (pass or n/a), every variant caught.
// The quick plan and the port's own variants: the main job (`ptlab conformance`) gives the
// default run's verdicts and runs the mm mutants; conformance/test runs those too.
runConformance({ arch: mips, budget: QUICK_BUDGET, variants: 'arch' });

describe('mips variants are caught for the real cause, on every config they apply to', () => {
  const { scenarios } = loadScenarios();
  const scenario = scenarios.find((s) => s.id === 'fault-beside-retract');
  const m = mutantCatalogue([mips]).find((x) => x.id === MIPS_UPDATE_TLB_UNBALANCED);

  for (const configId of m?.configs ?? []) {
    it(`${MIPS_UPDATE_TLB_UNBALANCED} on ${configId}: a fault returns inside __update_tlb()'s rcu_read_lock()`, {
      timeout: 120_000,
    }, () => {
      const config = mips.configs.find((c) => c.id === configId);
      if (!config || !m || !scenario) throw new Error('variant, config or scenario missing');
      const r = runCell({ port: mips, config, scenario, mutant: m });
      expect(r.result).toBe('fail');
      expect(r.finding?.check).toBe('rcu-unbalanced');
      expect(r.finding?.message).toMatch(/returned inside 1 rcu_read_lock\(\) section/);
      expect(r.story).toMatch(/__update_tlb/);
      expect(runCell({ port: mips, config, scenario }).result).toBe('pass');
    });
  }

  it('the variant applies to both configs', () => {
    expect(m?.configs).toEqual(['mips64', 'mips32-xpa']);
  });
});
