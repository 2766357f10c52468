import { loadScenarios, mutantCatalogue, QUICK_BUDGET, runCell } from '@ptlab/conformance';
import { runConformance } from '@ptlab/conformance/vitest';
import { describe, expect, it } from 'vitest';
import {
  SPARC_HUGETLB_UNBALANCED_MAP,
  SPARC_MAP_CANNOT_FAIL,
  SPARC32,
  SPARC64,
  sparc,
} from '../src/index.js';

// Every scenario on every config (pass or n/a), every variant caught.
// The quick plan and the port's own variants: the main job (`ptlab conformance`) gives the
// default run's verdicts and runs the mm mutants; conformance/test runs those too.
runConformance({ arch: sparc, budget: QUICK_BUDGET, variants: 'arch' });

describe('sparc variants are caught for the real cause', () => {
  const { scenarios } = loadScenarios();
  const byId = (id: string) => {
    const s = scenarios.find((x) => x.id === id);
    if (!s) throw new Error(`scenario ${id} missing`);
    return s;
  };
  const mutant = (id: string) => {
    const m = mutantCatalogue([sparc]).find((x) => x.id === id);
    if (!m) throw new Error(`variant ${id} missing`);
    return m;
  };

  it(`${SPARC_HUGETLB_UNBALANCED_MAP}: a hugetlb walk returns inside rcu_read_lock()`, {
    timeout: 120_000,
  }, () => {
    const scenario = byId('hugetlb-walk-balance');
    const r = runCell({
      port: sparc,
      config: SPARC64,
      scenario,
      mutant: mutant(SPARC_HUGETLB_UNBALANCED_MAP),
    });
    expect(r.result).toBe('fail');
    expect(['rcu-unbalanced', 'sleep-in-atomic']).toContain(r.finding?.check);
    expect(r.finding?.message).toMatch(/rcu_read_lock\(\)/);
    expect(runCell({ port: sparc, config: SPARC64, scenario }).result).toBe('pass');
  });

  it(`${SPARC_MAP_CANNOT_FAIL}: get_user_insn() dereferences the NULL of a table retracted under it`, {
    timeout: 120_000,
  }, () => {
    const scenario = byId('retract-vs-lockless-walkers');
    const r = runCell({
      port: sparc,
      config: SPARC64,
      scenario,
      mutant: mutant(SPARC_MAP_CANNOT_FAIL),
    });
    expect(r.result).toBe('fail');
    expect(r.finding?.check).toBe('use-after-free');
    expect(r.finding?.message).toMatch(
      /get_user_insn.*NULL pointer dereference: pte_offset_map\(\) returned NULL/,
    );
    expect(r.finding?.message).toMatch(/retract|detached/);
    expect(runCell({ port: sparc, config: SPARC64, scenario }).result).toBe('pass');
  });

  it('sparc32 runs the scenarios without THP (khugepaged threads left out) and n/a the rest with a reason', () => {
    const fault = runCell({ port: sparc, config: SPARC32, scenario: byId('fault-beside-retract') });
    expect(fault.result).toBe('pass');
    const thp = runCell({
      port: sparc,
      config: SPARC32,
      scenario: byId('retract-vs-lockless-walkers'),
    });
    expect(thp.result).toBe('n/a');
    expect(thp.reason).toMatch(/no THP/);
    const huge = runCell({ port: sparc, config: SPARC32, scenario: byId('hugetlb-walk-balance') });
    expect(huge.result).toBe('n/a');
    expect(huge.reason).toMatch(/no hugetlb pages at PTE level/);
  });
});
