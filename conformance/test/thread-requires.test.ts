/**
 * Scenario schema extensions: a thread's own `requires` (the thread does not
 * run where the config lacks the capability; the rest of the scenario does),
 * and `hugetlb` vmas.
 */
import { type ArchConfig, GENERIC_CONFIG, GenericArch, ScenarioError } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { parseScenario, scenarioProgram, threadRuns } from '../src/index.js';

const CONFIG: ArchConfig = {
  ...GENERIC_CONFIG,
  id: 'test-thp',
  arch: 'test',
  description: 'GenericArch, x86-64 constants',
};
const NO_THP: ArchConfig = { ...CONFIG, id: 'test-nothp', thp: false };

const raw = {
  id: 'requires-test',
  title: 't',
  description: 'd',
  seed: 's',
  checks: ['rcu-unbalanced'],
  files: [
    { id: 'shm', thp: { pmdIndex: 0, lockedBy: 'khugepaged' } },
    { id: 'huge', shmem: false },
  ],
  mms: [
    {
      id: 'A',
      vmas: [
        { file: 'shm', pmd: 1, shared: true },
        { file: 'huge', pmd: 2, shared: true, hugetlb: true, pteTable: false },
      ],
    },
  ],
  threads: [
    { name: 'khugepaged', path: 'collapse_file', file: 'shm', requires: ['thp'] },
    { name: 'walk', path: 'hugetlb_walk', mm: 'A', addr: { pmd: 2, pte: 0 } },
  ],
};

describe('a thread may require a capability of its own', () => {
  it('is parsed apart from the path arguments', () => {
    const s = parseScenario(raw, 'test');
    const [k, w] = s.threads;
    expect(k?.requires).toEqual(['thp']);
    expect(k?.args).toEqual({ file: 'shm' });
    expect(w?.requires).toBeUndefined();
    expect(w?.args).toEqual({ mm: 'A', addr: { pmd: 2, pte: 0 }, fault: true });
  });

  it('an unknown capability is refused, naming the field', () => {
    const bad = structuredClone(raw);
    (bad.threads[0] as { requires: string[] }).requires = ['wings'];
    expect(() => parseScenario(bad, 'bad.json')).toThrow(ScenarioError);
    expect(() => parseScenario(bad, 'bad.json')).toThrow(/threads\.0\.requires/);
  });

  it('runs only where the config has it; the other threads run everywhere', () => {
    const s = parseScenario(raw, 'test');
    const [k, w] = s.threads;
    if (!k || !w) throw new Error('threads');
    expect(threadRuns(k, CONFIG)).toBe(true);
    expect(threadRuns(k, NO_THP)).toBe(false);
    expect(threadRuns(w, NO_THP)).toBe(true);
    const names = (config: ArchConfig) =>
      scenarioProgram(s, { arch: () => new GenericArch(config), variants: [] })
        .boot()
        .tasks.map((t) => t.name);
    expect(names(CONFIG)).toEqual(['khugepaged', 'walk']);
    expect(names(NO_THP)).toEqual(['walk']);
  });

  it('a hugetlb vma is VM_HUGETLB; the others are not', () => {
    const s = parseScenario(raw, 'test');
    const k = scenarioProgram(s, { arch: () => new GenericArch(CONFIG), variants: [] }).boot();
    const mm = k.mms[0];
    expect(mm?.vmas.map((v) => v.flags.hugetlb ?? false)).toEqual([false, true]);
  });
});
