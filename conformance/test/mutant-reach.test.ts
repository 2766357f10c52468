/**
 * Mutant reach (mutant-reach.ts): a clean cell records which mm variants its
 * kernel code asked about, and a mutant whose verified clean cell never asked
 * is taken as passing there without a search. The claim is checked against
 * real searches: every mutant cell it would skip passes when run.
 */
import { describe, expect, it } from 'vitest';
import {
  type CellResult,
  loadScenarios,
  mutantCanChange,
  mutantCatalogue,
  QUICK_BUDGET,
  QUICK_MUTANT_BUDGET,
  runCell,
  unreachedResult,
} from '../src/index.js';
import { generic as port } from './generic-port.js';

const { scenarios } = loadScenarios();
const config = port.configs[0];
if (!config) throw new Error('generic config missing');
const mm = mutantCatalogue([port]).filter((m) => m.layer === 'mm');
const scenario = (id: string) => {
  const s = scenarios.find((x) => x.id === id);
  if (!s) throw new Error(`scenario ${id} missing`);
  return s;
};
const clean = (id: string) => runCell({ port, config, scenario: scenario(id), mutant: null });

describe('mutant reach', () => {
  it('a clean cell lists the variants its code asked about, and only those', () => {
    const retract = clean('retract-vs-fault');
    expect(retract.verdict).toBe('verified');
    expect(retract.variantsAsked).toContain('retract-frees-immediately');
    // A fault and a truncate: retract_page_tables() never runs, so nothing asks about its mutants.
    const hugetlb = clean('gen-fault-truncate');
    expect(hugetlb.result).toBe('pass');
    expect(hugetlb.variantsAsked).not.toContain('retract-frees-immediately');
    expect(hugetlb.variantsAsked).toEqual([...(hugetlb.variantsAsked ?? [])].sort());
  });

  it('only a verified clean cell that never asked proves a mutant cell', () => {
    const m = mm.find((x) => x.id === 'retract-frees-immediately');
    if (!m) throw new Error('mutant missing');
    const base: CellResult = {
      arch: config.id,
      scenario: 's',
      mutant: null,
      result: 'pass',
      verdict: 'verified',
      schedules: 10,
      steps: 100,
      elapsedMs: 1,
      variantsAsked: ['collapse-pte-clear'],
    };
    expect(mutantCanChange(base, m)).toBe(false);
    expect(mutantCanChange({ ...base, variantsAsked: [m.id] }, m)).toBe(true);
    expect(mutantCanChange({ ...base, verdict: 'verified-bounded', bound: 2 }, m)).toBe(true);
    expect(mutantCanChange({ ...base, verdict: 'sampled' }, m)).toBe(true);
    expect(mutantCanChange({ ...base, result: 'fail', verdict: 'fail' }, m)).toBe(true);
    const { variantsAsked: _v, ...unknown } = base;
    expect(mutantCanChange(unknown, m)).toBe(true);
    expect(mutantCanChange(base, { ...m, layer: 'arch' })).toBe(true);
    const r = unreachedResult(base, m);
    expect(r).toMatchObject({ mutant: m.id, result: 'pass', verdict: 'verified', unreached: true });
    expect(r.reason).toMatch(/never reached retract-frees-immediately's code/);
  });

  it('every mutant cell it would skip passes when searched anyway', () => {
    let skipped = 0;
    for (const id of ['gen-fault-truncate', 'retract-vs-fault', 'collapse-vs-uffd-copy']) {
      const c = runCell({
        port,
        config,
        scenario: scenario(id),
        mutant: null,
        budget: QUICK_BUDGET,
      });
      for (const m of mm) {
        if (mutantCanChange(c, m)) continue;
        skipped++;
        const r = runCell({
          port,
          config,
          scenario: scenario(id),
          mutant: m,
          budget: QUICK_MUTANT_BUDGET,
        });
        expect(r.result, `${m.id} on ${id}: ${r.reason ?? ''}`).toBe('pass');
      }
    }
    expect(skipped).toBeGreaterThan(5);
  }, 120_000);
});
