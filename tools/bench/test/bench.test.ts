import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { changes } from '../src/baseline.js';
import { type EngineApi, generatorLoop, measureEngine } from '../src/engine.js';
import { rate } from '../src/measure.js';
import { sampleTree, treeReading } from '../src/proc.js';
import { analyse } from '../src/suite.js';

describe('measureEngine', () => {
  const api = (steps: () => number): EngineApi => ({
    label: 'fake',
    program: () => ({}),
    explore: (_p, o) => ({ steps: steps(), schedules: o.schedules }),
  });

  it('reports steps and rates of a deterministic workload', () => {
    const f = measureEngine(
      api(() => 500),
      { schedules: 10, repeats: 3 },
    );
    expect(f.steps).toBe(500);
    expect(f.schedules).toBe(10);
    expect(f.timing.repeats).toBe(3);
    expect(f.stepsPerSec.cpu).toBeGreaterThan(0);
  });

  it('refuses a workload whose step count changes between runs', () => {
    let n = 0;
    expect(() =>
      measureEngine(
        api(() => 100 + n++),
        { schedules: 10, repeats: 3 },
      ),
    ).toThrow(/not deterministic/);
  });
});

describe('generatorLoop', () => {
  it('runs the steps it is asked for, alternating the two generators', () => {
    // ops 0..n of task 0 and of task 1: sum of n over both plus one per task-1 op.
    expect(generatorLoop(6)).toBe(0 + 0 + 1 + 1 + 2 + 2 + 3);
    expect(generatorLoop(0)).toBe(0);
  });
});

describe('rate', () => {
  it('is per CPU second and per wall second', () => {
    expect(rate(100, { cpuMs: 500, wallMs: 1000 })).toEqual({ cpu: 200, wall: 100 });
  });
});

describe('changes', () => {
  const base = {
    about: '',
    measurements: [
      {
        commit: 'old',
        date: '',
        how: '',
        machine: '',
        figures: {
          a: { value: 100, unit: '', better: 'higher' as const },
          t: { value: 100, unit: '', better: 'lower' as const },
        },
      },
    ],
  };
  it('is above 1 when better, whichever way better is', () => {
    const c = changes(
      {
        a: { value: 300, unit: '', better: 'higher' },
        t: { value: 50, unit: '', better: 'lower' },
        new: { value: 1, unit: '', better: 'higher' },
      },
      base,
    );
    expect(c.a).toEqual({ now: 300, was: 100, factor: 3, commit: 'old' });
    expect(c.t?.factor).toBe(2);
    expect(c.new).toBeUndefined();
  });
  it('is below 1 when worse, and empty without a baseline', () => {
    expect(changes({ a: { value: 50, unit: '', better: 'higher' } }, base).a?.factor).toBe(0.5);
    expect(changes({ a: { value: 50, unit: '', better: 'higher' } }, null)).toEqual({});
  });
});

describe('analyse', () => {
  it('ranks clean and mutant cells together by time, and groups them', () => {
    const cell = (arch: string, scenario: string, ms: number, mutant: string | null = null) => ({
      arch,
      scenario,
      mutant,
      verdict: 'verified',
      schedules: 1,
      steps: 1,
      elapsedMs: ms,
    });
    const a = analyse({ cells: [cell('x', 's1', 10), cell('y', 's1', 30)] }, [
      cell('x', 's1', 20, 'm'),
      cell('x', 's2', 40, 'm'),
    ]);
    expect(a.cells).toBe(4);
    expect(a.top.map((c) => c.elapsedMs)).toEqual([40, 30, 20, 10]);
    expect(a.top[0]?.share).toBe(0.4);
    expect(a.byConfig).toEqual([
      { id: 'x', ms: 70, cells: 3 },
      { id: 'y', ms: 30, cells: 1 },
    ]);
    expect(a.byMutant).toEqual([{ id: 'm', ms: 60, cells: 2 }]);
    // Without a journal, mutant cells are counted from the accounts only.
    const b = analyse({ cells: [cell('x', 's1', 10)], mutants: [{ cells: 5 }] }, null);
    expect(b.cells).toBe(6);
    expect(b.top).toHaveLength(1);
  });
});

describe.runIf(process.platform === 'linux')('process tree sampling', () => {
  it('sees a child and its child, and sums their resident sets', async () => {
    const p = spawn(
      process.execPath,
      [
        '-e',
        "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 3000)']); setTimeout(() => {}, 3000)",
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 700));
    const r = treeReading(p.pid as number);
    const s = sampleTree(p.pid as number, 50);
    await new Promise((r) => setTimeout(r, 200));
    const peaks = s.stop();
    p.kill();
    expect(r.size).toBe(2);
    const sum = [...r.values()].reduce((a, x) => a + x.rssKb, 0);
    expect(sum).toBeGreaterThan(Math.max(...[...r.values()].map((x) => x.rssKb)));
    expect(peaks.peakProcesses).toBe(2);
    expect(peaks.processes).toBe(2);
    expect(peaks.cpuMs).toBeGreaterThan(0);
    expect(peaks.peakTreeRssMb).toBeGreaterThan(peaks.peakProcessRssMb);
    // A process that is gone has no tree.
    expect(treeReading(2 ** 22 + 12345).size).toBe(0);
  });
});
