import { bug, GENERIC_CONFIG, GenericArch, Kernel } from '@ptlab/core';
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ExhaustiveSearch,
  explore,
  exploreSplit,
  inProcessRunner,
  type Program,
  type RunTasks,
  type SplitOptions,
  type SubtreeResult,
  type SubtreeTask,
  splitSearch,
  splitSearchSync,
} from '../src/index.js';
import { retractRace } from './programs.js';
import { finalState, generate, programOf } from './random-programs.js';

const MAX_STEPS = 500;

/** Final states and findings the sequential search reaches (with `sourceSets`: its source-DPOR form). */
function sequential(program: Program, bound: number | undefined, sourceSets = false) {
  const states = new Set<string>();
  const res = new ExhaustiveSearch(program, {
    preemptionBound: bound,
    sourceSets,
    maxExecutions: 200_000,
    maxSteps: MAX_STEPS,
    allFindings: true,
    onComplete: (run) => states.add(finalState(run.k)),
    onFinding: (f, picks) => states.add(`finding:${f.check}:${picks.length}`),
  }).run();
  return { states, res };
}

/** The same with the split search, in-process, `taskExecutions` per task. */
function split(program: Program, bound: number | undefined, taskExecutions: number) {
  const states = new Set<string>();
  const o = { preemptionBound: bound, maxSteps: MAX_STEPS };
  const res = splitSearchSync(
    program,
    { ...o, maxExecutions: 200_000, taskExecutions, allFindings: true },
    inProcessRunner(program, o, {
      allFindings: true,
      onComplete: (run) => states.add(finalState(run.k)),
      onFinding: (f, picks) => states.add(`finding:${f.check}:${picks.length}`),
    }),
  );
  return { states, res };
}

describe('split search: sound against the sequential search (random programs)', () => {
  const SEEDS = Array.from({ length: 600 }, (_, i) => i + 1);
  for (const bound of [undefined, 0, 1, 2]) {
    it(`reaches every final state and finding the sequential search does (${bound === undefined ? 'no bound' : `bound ${bound}`})`, () => {
      let seq = 0;
      let source = 0;
      let par = 0;
      let manyRounds = 0;
      let interesting = 0;
      for (const seed of SEEDS) {
        const p = generate(seed);
        const a = sequential(programOf(p), bound);
        // One or two executions per task: the tree is cut into many rounds and subtrees.
        const b = split(programOf(p), bound, 1 + (seed % 2));
        expect(a.res.complete, p.text).toBe(true);
        expect(b.res.complete, p.text).toBe(true);
        expect([...b.states].sort(), `seed ${seed}: ${p.text}`).toEqual([...a.states].sort());
        seq += a.res.executions;
        // Without a bound the split search runs source sets, as the sequential search's own
        // source-DPOR form does (a bound has no wakeup trees anyway).
        source += bound === undefined ? sequential(programOf(p), bound, true).res.executions : 0;
        par += b.res.executions;
        if (b.res.rounds > 2) manyRounds++;
        if (a.states.size > 1) interesting++;
      }
      console.log(
        `${bound === undefined ? 'no bound' : `bound ${bound}`}: ${SEEDS.length} programs (${interesting} with several outcomes, ${manyRounds} split over > 2 rounds): ${seq} executions sequential${bound === undefined ? ` (${source} with source sets)` : ''}, ${par} split`,
      );
      // The comparison has teeth: outcomes to miss, and trees really split.
      expect(interesting).toBeGreaterThan(SEEDS.length / 8);
      expect(manyRounds).toBeGreaterThan(SEEDS.length / 15);
      if (bound !== undefined) expect(par).toBeGreaterThanOrEqual(seq);
      // Source sets explore branches in another order than the split's rounds, so the counts
      // differ either way (sleep-set blocked executions); the reduction must stay.
      else expect(Math.abs(par - source)).toBeLessThan(source * 0.05);
    }, 120_000);
  }

  it('the same on the larger programs (6+ executions), cut into tasks of 1, 2 and 3 executions', () => {
    let big = 0;
    let seq = 0;
    let par = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const p = generate(seed);
      for (const bound of [undefined, 2]) {
        const a = sequential(programOf(p), bound);
        if (a.res.executions < 6) continue;
        big++;
        for (const te of [1, 2, 3]) {
          const b = split(programOf(p), bound, te);
          expect([...b.states].sort(), `seed ${seed}, bound ${bound}, ${te}: ${p.text}`).toEqual(
            [...a.states].sort(),
          );
          seq += a.res.executions;
          par += b.res.executions;
        }
      }
    }
    console.log(`${big} larger programs: ${seq} executions sequential, ${par} split`);
    expect(big).toBeGreaterThan(200);
  }, 300_000);

  it('with one round big enough for the whole tree, is the sequential search exactly', () => {
    for (const seed of [3, 17, 44]) {
      for (const bound of [undefined, 1]) {
        const p = generate(seed);
        const a = sequential(programOf(p), bound).res;
        const b = split(programOf(p), bound, 1_000_000).res;
        expect(b).toMatchObject({
          executions: a.executions,
          steps: a.steps,
          rounds: 1,
          tasks: 1,
        });
      }
    }
  });
});

/** Runs each round's tasks in an order of its own (as workers finishing in any order would). */
function shuffledRunner(program: Program, o: SplitOptions, order: 'reverse' | number): RunTasks {
  const one = inProcessRunner(program, o);
  return async (tasks) => {
    const out: SubtreeResult[] = new Array(tasks.length);
    const idx = tasks.map((_, i) => i);
    const seq =
      order === 'reverse'
        ? idx.reverse()
        : // `order` workers, each taking every order-th task, interleaved from the back.
          idx.sort((a, b) => (b % order) - (a % order) || b - a);
    for (const i of seq) {
      await new Promise((r) => setImmediate(r));
      out[i] = one([tasks[i] as SubtreeTask])[0] as SubtreeResult;
    }
    return out;
  };
}

/**
 * A and B each start (S) and write X; B then checks S, once A has started.
 * If A starts first, A's write of X after B's is a bug (double-free); if B
 * starts first, B's check is (use-after-free), on the first schedule of that
 * order. The first schedule (A runs through, then B) finds neither, and its
 * races start both subtrees at once: two findings in one round.
 */
function twoFailures(): Program {
  return {
    boot() {
      const k = new Kernel({ arch: new GenericArch(GENERIC_CONFIG) });
      const w = { first: '', started: new Set<string>(), xBy: '' };
      const S = testObj('S');
      const X = testObj('X');
      k.spawn('A', function* (ctx) {
        yield ctx.step('start', S, 'w');
        w.first ||= 'A';
        w.started.add('A');
        yield ctx.step('write X', X, 'w');
        if (w.xBy === 'B' && w.first === 'A') bug('double-free', 'A wrote X after B');
        w.xBy = 'A';
      });
      k.spawn('B', function* (ctx) {
        yield ctx.step('start', S, 'w');
        w.first ||= 'B';
        w.started.add('B');
        yield ctx.step('write X', X, 'w');
        w.xBy = 'B';
        yield ctx.step('check S', S, 'r', () => w.started.has('A'));
        if (w.first === 'B') bug('use-after-free', 'B started first');
      });
      return k;
    },
  };
}

describe('split search: deterministic whatever runs the tasks', () => {
  const cases: [string, Program, number | undefined][] = [
    ['a clean program, bounded', retractRace({ noise: 1 }), 2],
    ['a clean program, unbounded', retractRace({ noise: 1 }), undefined],
    ['a failing program, bounded', retractRace({ buggy: true, noise: 2 }), 2],
    ['a failing program, unbounded', twoFailures(), undefined],
  ];
  for (const [what, program, bound] of cases) {
    it(`${what}: the same result in process and with runners finishing in 1, 2, 3-worker and reverse orders`, async () => {
      const o = {
        preemptionBound: bound,
        maxSteps: 2000,
        maxExecutions: 100_000,
        taskExecutions: 1,
      };
      const ref = splitSearchSync(program, o, inProcessRunner(program, o));
      expect(ref.rounds).toBeGreaterThan(1);
      for (const order of [1, 2, 3, 'reverse'] as const) {
        const r = await splitSearch(program, o, shuffledRunner(program, o, order));
        expect(JSON.stringify(r)).toBe(JSON.stringify(ref));
      }
      if (what.includes('failing')) expect(ref.failing).not.toBeNull();
      else expect(ref).toMatchObject({ complete: true, failing: null });
    });
  }

  it('the budget is a cap on executions, and an exhausted budget is no verdict', () => {
    const program = retractRace({ noise: 2 });
    const o = { preemptionBound: 2, maxSteps: 2000 };
    const full = splitSearchSync(
      program,
      { ...o, maxExecutions: 100_000 },
      inProcessRunner(program, o),
    );
    expect(full.complete).toBe(true);
    const cut = splitSearchSync(
      program,
      { ...o, maxExecutions: Math.floor(full.executions / 2) },
      inProcessRunner(program, o),
    );
    expect(cut.complete).toBe(false);
    expect(cut.executions).toBeLessThanOrEqual(Math.floor(full.executions / 2));
  });

  it('refuses a runner that loses results', () => {
    const program = retractRace({ noise: 1 });
    const o = { preemptionBound: 1, maxSteps: 2000, maxExecutions: 1000 };
    const run = inProcessRunner(program, o);
    expect(() => splitSearchSync(program, o, (t) => run(t).slice(1))).toThrow(
      /1 tasks sent, 0 results back/,
    );
  });
});

describe('split search: the counterexample is the first in DFS order among the round’s findings', () => {
  it('reports the finding of the task first in DFS order, not the first to arrive', async () => {
    const program = twoFailures();
    const o = { maxSteps: 2000, maxExecutions: 100_000, taskExecutions: 1 };
    // Watch each round: keys and findings of its tasks.
    let last: { key: readonly number[]; check: string | null }[] = [];
    const inner = shuffledRunner(program, o, 'reverse');
    const r = await splitSearch(program, o, async (tasks) => {
      const res = await inner(tasks);
      last = tasks.map((t, i) => ({ key: t.key, check: res[i]?.failing?.finding.check ?? null }));
      return res;
    });
    const found = last.filter((x) => x.check !== null);
    // Both findings turn up in the last round, in different subtrees.
    expect(new Set(found.map((x) => x.check)).size).toBe(2);
    const keyOrder = (a: readonly number[], b: readonly number[]) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++)
        if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
      return a.length - b.length;
    };
    const first = [...found].sort((a, b) => keyOrder(a.key, b.key))[0];
    // Tasks are handed out in DFS order, and the runner finished them last to first.
    expect(found[0]).toBe(first);
    expect(r.failing?.finding.check).toBe(first?.check);
    // Every run gives the same counterexample.
    const again = splitSearchSync(program, o, inProcessRunner(program, o));
    expect(again.failing?.picks).toEqual(r.failing?.picks);
  });
});

describe('exploreSplit: the verdicts of explore(), from the split search', () => {
  const async = (
    program: Program,
    o: { preemptionBound?: number | undefined; maxSteps: number },
  ): RunTasks => {
    const run = inProcessRunner(program, o);
    return async (tasks) => run(tasks);
  };
  const opts = { strategy: 'exhaustive', schedules: 100_000, seed: 1, maxSteps: 2000 } as const;

  it('verifies a clean program as the sequential search does, with its own figures', async () => {
    const program = retractRace({ noise: 1 });
    for (const bound of [0, 2]) {
      const seq = explore(program, { ...opts, preemptionBound: bound });
      const par = await exploreSplit(
        program,
        { ...opts, preemptionBound: bound },
        async(program, { preemptionBound: bound, maxSteps: 2000 }),
      );
      expect(par.verdict).toBe(seq.verdict);
      expect(par.bound).toBe(seq.bound);
      expect(par.split.tasks).toBeGreaterThanOrEqual(1);
      expect(par.schedules).toBeGreaterThanOrEqual(seq.schedules);
    }
  });

  it('finds and minimises a counterexample, the same one every time', async () => {
    const program = retractRace({ buggy: true, noise: 2 });
    const o = { ...opts, preemptionBound: 2 };
    const seq = explore(program, o);
    const a = await exploreSplit(
      program,
      o,
      async(program, { preemptionBound: 2, maxSteps: 2000 }),
    );
    const b = await exploreSplit(
      program,
      o,
      async(program, { preemptionBound: 2, maxSteps: 2000 }),
    );
    expect(a.verdict).toBe('fail');
    expect(a.finding?.check).toBe(seq.finding?.check);
    expect(JSON.stringify(b.schedule)).toBe(JSON.stringify(a.schedule));
    expect(a.preemptions).toBe(seq.preemptions);
  });

  it('without a bound: the verdict of the sequential search, proved', async () => {
    const program = retractRace({ noise: 1 });
    const seq = explore(program, opts);
    const par = await exploreSplit(program, opts, async(program, { maxSteps: 2000 }));
    expect(seq.verdict).toBe('verified');
    expect(par.verdict).toBe('verified');
    expect(par.schedules).toBeGreaterThanOrEqual(1);
  });

  it('refuses a strategy that is not the exhaustive search', async () => {
    const program = retractRace();
    await expect(
      exploreSplit(program, { ...opts, strategy: 'random' }, async(program, { maxSteps: 2000 })),
    ).rejects.toThrow(/not random/);
  });
});
