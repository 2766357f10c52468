import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarios } from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { planConformance, SPLIT_CELL_STEPS } from '../src/plan.js';
import { builtinPorts } from '../src/registry.js';
import { type ConformanceReport, untimed } from '../src/report.js';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-split-cells-'));
const CELL = [
  'conformance',
  '--arch',
  'x86-64',
  '--scenario',
  'retract-vs-lockless-walkers',
  '--no-progress',
];

async function run(name: string, ...extra: string[]) {
  const file = join(tmp, name);
  const r = await cli(...CELL, '--json', file, ...extra);
  return { code: r.code, report: untimed(JSON.parse(readFileSync(file, 'utf8'))) };
}

/** What a split may not change: every verdict, finding and mutant result (not the execution counts). */
function verdicts(r: ReturnType<typeof untimed>) {
  const { cells, mutants, mutantCounts, counts, knownFindings, ok } = r as ConformanceReport;
  return {
    cells: cells.map(({ schedules: _s, steps: _t, phases: _p, ...c }) => c),
    mutants,
    mutantCounts,
    counts,
    knownFindings,
    ok,
  };
}

const splitCells = (opts: { splitAbove?: number; archs?: string[] }) =>
  planConformance(builtinPorts(), loadScenarios().scenarios, {
    archs: opts.archs ?? [],
    seed: 1,
    mutants: false,
    allMutantCells: false,
    ...(opts.splitAbove !== undefined ? { splitAbove: opts.splitAbove } : {}),
    splitThreads: 2,
  })
    .units.filter((u) => u.cells.some((c) => c.split !== undefined))
    .map((u) => u.key);

describe('conformance --split-above', () => {
  it('splits only the clean cells the cost table puts at or above it (by default x86-32-pae retract-vs-lockless-walkers)', () => {
    expect(SPLIT_CELL_STEPS).toBe(10_000_000);
    expect(splitCells({})).toEqual(['["clean","x86-32-pae","retract-vs-lockless-walkers"]']);
    expect(splitCells({ splitAbove: 0 })).toEqual([]);
    expect(splitCells({ splitAbove: 900_000, archs: ['x86-32-pae', 'ppc32-8xx'] })).toEqual([
      '["clean","ppc32-8xx","gen-truncate-hugetlb"]',
      '["clean","x86-32-pae","retract-vs-lockless-walkers"]',
    ]);
  });

  it('gives a split cell the verdicts, findings and mutant results of the unsplit run, and one report for 1 and 2 workers', async () => {
    const whole = await run('whole.json', '--split-above', '0');
    const split = await run('split.json', '--split-above', '300000', '--workers', '2');
    const cellOf = (r: typeof whole) =>
      (r.report as ConformanceReport).cells.find(
        (c) => c.scenario === 'retract-vs-lockless-walkers',
      );
    expect(cellOf(whole)?.verdict).toBe('verified');
    expect(cellOf(whole)?.phases?.[0]?.split).toBeUndefined();
    const phase = cellOf(split)?.phases?.[0];
    expect(phase?.complete).toBe(true);
    expect(phase?.split?.rounds).toBeGreaterThan(1);
    // Mutants this cell's search never reached are shortcut (mutant-reach.ts): the split
    // cell's workers must report what their kernels asked about, or kills would be lost.
    expect((whole.report as ConformanceReport).mutantCounts.killed).toBeGreaterThan(0);
    expect(split.code).toBe(whole.code);
    expect(verdicts(split.report)).toEqual(verdicts(whole.report));

    const one = await run('one.json', '--split-above', '300000', '--workers', '1', '--no-mutants');
    const two = await run('two.json', '--split-above', '300000', '--workers', '2', '--no-mutants');
    expect(cellOf(one)?.phases?.[0]?.split).toBeDefined();
    expect(one).toEqual(two);
  }, 120_000);
});
