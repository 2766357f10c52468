import { loadScenarios, scenarioById } from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { SplitPool } from '../src/split/pool.js';
import { cli } from './helpers/cli.js';
import { valid } from './helpers/schemas.js';

const cell = ['--arch', 'x86-64', '--scenario', 'retract-vs-lockless-walkers'];
const exhaustive = ['--strategy', 'exhaustive', '--schedules', '100000'];
/** The JSON of a check, without the wall time (the one figure allowed to differ). */
const figures = (out: string) => {
  const { elapsedMs: _t, ...rest } = JSON.parse(out);
  return rest;
};

/** `args --split n` for each n: every run exits `code` with the same JSON (wall time apart), returned. */
async function sameForWorkers(args: readonly string[], ns: readonly string[], code: number) {
  const runs = [];
  for (const n of ns) runs.push(await cli(...args, '--split', n));
  for (const r of runs) expect(r.code).toBe(code);
  const [one, ...more] = runs.map((r) => figures(r.out));
  for (const j of more) expect(JSON.stringify(j)).toBe(JSON.stringify(one));
  return one;
}

describe('ptlab check --split', () => {
  it('gives one result, byte for byte, whatever the number of workers; the verdict of the sequential search', async () => {
    const args = ['check', ...cell, ...exhaustive, '--preemption-bound', '0', '--json'];
    const seq = await cli(...args);
    const runs = [];
    for (const n of ['1', '2', '3']) runs.push(await cli(...args, '--split', n));
    for (const r of runs) expect(r.code).toBe(0);
    const [one, ...more] = runs.map((r) => figures(r.out));
    for (const j of more) expect(JSON.stringify(j)).toBe(JSON.stringify(one));
    expect(valid('check', JSON.parse(runs[0]?.out ?? ''))).toBe('valid');
    expect(one.verdict).toBe(JSON.parse(seq.out).verdict);
    expect(one.verdict).toBe('verified-bounded');
    expect(one.split.rounds).toBeGreaterThan(1);
    expect(JSON.parse(seq.out).split).toBeUndefined();
    const text = await cli(
      'check',
      ...cell,
      ...exhaustive,
      '--preemption-bound',
      '0',
      '--split',
      '2',
    );
    expect(text.out).toMatch(/split search: \d+ rounds, \d+ subtree tasks/);
  }, 120_000);

  it('reports the same counterexample for 1, 2 and 3 workers', async () => {
    const args = [
      'check',
      ...cell,
      '--mutant',
      'pte-offset-map-without-rcu',
      ...exhaustive,
      '--preemption-bound',
      '2',
      '--json',
    ];
    const seq = await cli(...args);
    const runs = [];
    for (const n of ['1', '2', '3']) runs.push(await cli(...args, '--split', n));
    for (const r of runs) expect(r.code).toBe(1);
    const [one, ...more] = runs.map((r) => figures(r.out));
    for (const j of more) {
      expect(JSON.stringify(j.finding.trace)).toBe(JSON.stringify(one.finding.trace));
      expect(JSON.stringify(j)).toBe(JSON.stringify(one));
    }
    expect(one.split.rounds).toBeGreaterThan(1);
    expect(one.finding.check).toBe(JSON.parse(seq.out).finding.check);
  }, 120_000);

  it('without a bound: the same counterexample for 1 and 2 workers (the torn PAE pmd read)', async () => {
    const args = [
      'check',
      '--arch',
      'x86-32-pae',
      '--scenario',
      'torn-pmd-read',
      '--mutant',
      'pae-no-lockless-sync',
      ...exhaustive,
      '--json',
    ];
    const seq = JSON.parse((await cli(...args)).out);
    const one = await sameForWorkers(args, ['1', '2'], 1);
    expect(one.finding.check).toBe('torn-pmd-read');
    expect(seq.finding.check).toBe('torn-pmd-read');
    expect(one.split.rounds).toBeGreaterThan(1);
  }, 120_000);

  it('refuses --split for a strategy that is not the exhaustive search', async () => {
    const r = await cli(
      'check',
      ...cell,
      '--strategy',
      'random',
      '--schedules',
      '5',
      '--split',
      '2',
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--split splits the exhaustive search .* --strategy random/);
  });

  it('without a bound: proves the cell, with one result whatever the number of workers', async () => {
    const args = ['check', ...cell, ...exhaustive, '--json'];
    const seq = JSON.parse((await cli(...args)).out);
    const one = await sameForWorkers(args, ['1', '2'], 0);
    expect(one.verdict).toBe('verified');
    expect(seq.verdict).toBe('verified');
    expect(one.split.rounds).toBeGreaterThan(2);
    // Source sets instead of wakeup trees, and tasks side by side: a few % more executions.
    expect(one.schedules).toBeGreaterThanOrEqual(seq.schedules);
    expect(one.schedules).toBeLessThan(seq.schedules * 1.1);
  }, 120_000);

  it('refuses a worker count out of range', async () => {
    for (const [n, msg] of [
      ['0', /--split must be an integer >= 1/],
      ['65', /--split must be at most 64/],
    ] as const) {
      const r = await cli('check', ...cell, ...exhaustive, '--split', n);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
    }
  }, 60_000);
});

describe('the split search worker pool', () => {
  const scenario = scenarioById(loadScenarios(), 'retract-vs-lockless-walkers');
  const root = { key: [], nodes: [], events: [], budget: 2 };
  const data = (configId: string) => ({
    configId,
    scenario,
    mutant: null,
    patches: [],
    options: { preemptionBound: 0, maxSteps: 5000 },
  });

  it('fails the round with the worker’s own error, never hangs', async () => {
    const pool = new SplitPool(data('vax-780'), 1);
    try {
      await expect(pool.ready()).rejects.toThrow(/config vax-780 is not declared/);
      await expect(pool.run([root])).rejects.toThrow(/config vax-780 is not declared/);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('runs tasks on a config it can build', async () => {
    const pool = new SplitPool(data('x86-64'), 2);
    try {
      await pool.ready();
      const [r] = await pool.run([root]);
      expect(r?.executions).toBe(2);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
