/**
 * Scenario sizes that fill a shared page: a vma's `tables`, pmd slots beyond
 * 0..15, and the applicability of a scenario spanning more pmd slots than a
 * config's pmd table has.
 */
import { GENERIC_CONFIG, ScenarioError } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { notApplicable } from '../src/runner.js';
import { parseScenario, pmdSlotsNeeded } from '../src/scenario-schema.js';

const base = (vma: Record<string, unknown>, threads: unknown[] = []) => ({
  id: 'sizes',
  title: 't',
  description: 'd',
  seed: 's',
  checks: ['use-after-free'],
  files: [{ id: 'f', shmem: true, small: [{ pmd: 0, pte: 0 }] }],
  mms: [{ id: 'A', vmas: [{ file: 'f', shared: true, ...vma }] }],
  threads: threads.length
    ? threads
    : [{ name: 'm', path: 'munmap', mm: 'A', addr: { pmd: 0, pte: 0 } }],
});

describe('scenario sizes', () => {
  it('a vma may start with as many PTE tables as it has pmds, at slots up to 511', () => {
    const s = parseScenario(base({ pmd: 0, pmds: 257, tables: 257 }), 'x.json');
    expect(s.mms[0]?.vmas[0]?.tables).toBe(257);
    expect(pmdSlotsNeeded(s)).toBe(257);
    expect(parseScenario(base({ pmd: 500, pmds: 12 }), 'x.json').mms[0]?.vmas[0]?.pmd).toBe(500);
  });

  it('refuses more tables than pmds, tables without pteTable, and slots beyond the range', () => {
    expect(() => parseScenario(base({ pmd: 0, pmds: 2, tables: 3 }), 'x.json')).toThrow(
      /mms\.0\.vmas\.0\.tables: 3 tables in a vma of 2 pmd/,
    );
    expect(() =>
      parseScenario(base({ pmd: 0, pmds: 2, tables: 2, pteTable: false }), 'x.json'),
    ).toThrow(/tables need pteTable/);
    expect(() => parseScenario(base({ pmd: 512 }), 'x.json')).toThrow(ScenarioError);
  });

  it('is not applicable where the pmd table has fewer slots than the scenario spans', () => {
    const big = parseScenario(base({ pmd: 0, pmds: 100, tables: 17 }), 'x.json');
    // sparc32's pmd table has 64 entries; most configs have 512 or more.
    const sparc32 = { ...GENERIC_CONFIG, id: 'small-pmd', PTRS_PER_PMD: 64 };
    const arm = { ...GENERIC_CONFIG, id: 'big-pmd', PTRS_PER_PMD: 2048 };
    expect(notApplicable(big, sparc32)).toMatch(/spans 100 pmd slots, the pmd table has 64/);
    expect(notApplicable(big, arm)).toBeNull();
    // Thread addresses count too.
    const far = parseScenario(
      base({ pmd: 0 }, [{ name: 'g', path: 'gup_fast', mm: 'A', addr: { pmd: 70, pte: 0 } }]),
      'x.json',
    );
    expect(notApplicable(far, sparc32)).toMatch(/71 pmd slots/);
  });
});
