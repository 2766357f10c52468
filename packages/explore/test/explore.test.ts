/**
 * The search strategies (src/strategies.ts, src/explore.ts) and minimisation
 * (src/minimise.ts) on small purpose-built programs (test/programs.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  countPreemptions,
  ExhaustiveSearch,
  type ExploreOptions,
  execute,
  explore,
  guidedChooser,
  makeTrace,
  type Program,
} from '../src/index.js';
import { independentTasks, type RaceOptions, retractRace } from './programs.js';

/** Explore, logging every step of every schedule (one line per boot). */
function exploreLogged(o: RaceOptions, opts: ExploreOptions) {
  const log: string[][] = [];
  const program = retractRace({
    ...o,
    onBoot: () => log.push([]),
    onStep: (t) => log[log.length - 1]?.push(t),
  });
  const result = explore(program, opts);
  return { result, log: log.map((l) => l.join(' ')), program };
}

/** The trace a CLI would write for a result, as text. */
function traceText(r: ReturnType<typeof explore>): string {
  if (!r.finding) return 'pass';
  return JSON.stringify(
    makeTrace({
      arch: 'test-generic',
      scenario: 'retract-race',
      mutant: 'pte-offset-map-without-rcu',
      strategy: r.strategy,
      seed: r.seed,
      schedule: r.schedule,
      finding: { check: r.finding.check, message: r.finding.message, step: r.finding.step },
    }),
    null,
    2,
  );
}

/**
 * Real preemptions of a schedule: switches away from a task that could have
 * gone on (replays it to learn who was runnable at each step).
 */
function preemptionsOf(program: Program, names: readonly string[]): number {
  const ex = execute(program, guidedChooser(names), { maxSteps: 5000, record: true });
  expect(ex.picks).toEqual(names);
  return countPreemptions(ex.records);
}

const NOISY: RaceOptions = { buggy: true, noise: 3, noiseSteps: 4 };

describe('determinism', () => {
  const programs = { random: NOISY, pct: { buggy: true } } as const;
  for (const strategy of ['random', 'pct'] as const) {
    it(`${strategy}: the same seed gives the same schedules and the same trace, byte for byte`, () => {
      const opts: ExploreOptions = { strategy, seed: 1, schedules: 400, pctDepth: 2 };
      const a = exploreLogged(programs[strategy], opts);
      const b = exploreLogged(programs[strategy], opts);
      expect(a.result.result).toBe('fail');
      expect(b.log).toEqual(a.log);
      expect(JSON.stringify(b.result)).toBe(JSON.stringify(a.result));
      expect(traceText(b.result)).toBe(traceText(a.result));
      // The seed matters: another seed walks other schedules.
      const c = exploreLogged(programs[strategy], { ...opts, seed: 2 });
      expect(c.log.slice(0, 20)).not.toEqual(a.log.slice(0, 20));
    });
  }

  it('exhaustive: the same sequence of schedules every time', () => {
    const opts: ExploreOptions = { strategy: 'exhaustive', seed: 0, schedules: 10_000 };
    const a = exploreLogged({ noise: 1 }, opts);
    const b = exploreLogged({ noise: 1 }, opts);
    expect(a.result).toMatchObject({ result: 'pass', complete: true });
    expect(a.log.length).toBe(a.result.schedules);
    expect(b.log).toEqual(a.log);
  });
});

describe('exhaustive search', () => {
  /** Every complete schedule a search runs, as task names. */
  function schedulesOf(program: Program, o: { por: boolean; bound?: number }): string[] {
    const seen: string[] = [];
    const r = new ExhaustiveSearch(program, {
      por: o.por,
      preemptionBound: o.bound,
      maxExecutions: 100_000,
      maxSteps: 100,
      onComplete: (run) => seen.push(run.picks.join(' ')),
    }).run();
    expect(r.complete).toBe(true);
    return seen;
  }

  it('without reduction enumerates every interleaving once', () => {
    // Three tasks of two steps, each followed by its exit step: 9! / (3! 3! 3!) interleavings.
    const seen = schedulesOf(independentTasks(3, 2), { por: false });
    expect(seen.length).toBe(1680);
    expect(new Set(seen).size).toBe(1680);
  });

  it('bound 0 runs only non-preemptive schedules', () => {
    const seen = schedulesOf(independentTasks(3, 2), { por: false, bound: 0 });
    expect(seen.map((x) => x.replace(/ /g, '').replace(/(t\d)\1\1/g, '$1')).sort()).toEqual([
      't0t1t2',
      't0t2t1',
      't1t0t2',
      't1t2t0',
      't2t0t1',
      't2t1t0',
    ]);
  });

  it('finds a bug that needs one preemption, and not with none', () => {
    const opts: ExploreOptions = { strategy: 'exhaustive', seed: 0, schedules: 10_000 };
    const none = explore(retractRace({ buggy: true }), { ...opts, preemptionBound: 0 });
    expect(none).toMatchObject({
      result: 'pass',
      verdict: 'verified-bounded',
      bound: 0,
      complete: true,
      truncated: 0,
    });
    const program = retractRace({ buggy: true });
    const one = explore(program, { ...opts, preemptionBound: 1 });
    expect(one.result).toBe('fail');
    expect(one.verdict).toBe('fail');
    expect(one.finding?.check).toBe('use-after-free');
    expect(one.finding?.message).toMatch(
      /cpu0 walk: read pte in pt#\d+, freed at step \d+ by rcu pte_free_now/,
    );
    expect(
      preemptionsOf(
        program,
        one.schedule.map((c) => c.task),
      ),
    ).toBe(1);
    // The fixed version (pte_offset_map() takes rcu_read_lock()) passes the whole space, no bound.
    const fixed = explore(retractRace(), opts);
    expect(fixed).toMatchObject({
      result: 'pass',
      verdict: 'verified',
      complete: true,
      truncated: 0,
    });
  });

  it('partial-order reduction explores fewer schedules and still finds the bug', () => {
    // Fully independent tasks: one representative instead of 1680.
    const count = (por: boolean) =>
      explore(independentTasks(3, 2), { strategy: 'exhaustive', seed: 0, schedules: 10_000, por });
    const without = count(false);
    const withPor = count(true);
    expect(without.complete && withPor.complete).toBe(true);
    expect(without.schedules).toBe(1680);
    expect(withPor.schedules).toBe(1);

    // A bug among independent steps: both find it, POR sooner (within two preemptions, so the
    // unreduced search stays small).
    const opts: ExploreOptions = { strategy: 'exhaustive', seed: 0, schedules: 100_000 };
    const bounded = { ...opts, preemptionBound: 2 };
    const slow = explore(retractRace({ buggy: true, noise: 1 }), { ...bounded, por: false });
    const fast = explore(retractRace({ buggy: true, noise: 1 }), { ...bounded, por: true });
    expect(slow.finding?.check).toBe('use-after-free');
    expect(fast.finding?.check).toBe('use-after-free');
    expect(fast.schedules).toBeLessThan(slow.schedules);
    // And POR still covers the fixed program's space without a false alarm.
    expect(explore(retractRace({ noise: 1 }), { ...opts, por: true })).toMatchObject({
      result: 'pass',
      verdict: 'verified',
    });
  });

  it('a search cut off by its budget is only a sample', () => {
    const r = explore(independentTasks(3, 2), {
      strategy: 'exhaustive',
      seed: 0,
      schedules: 10,
      por: false,
    });
    expect(r).toMatchObject({ result: 'pass', verdict: 'sampled', complete: false, schedules: 10 });
  });

  it('a schedule cut off by the step budget makes the verdict a sample', () => {
    const r = explore(independentTasks(2, 3), {
      strategy: 'exhaustive',
      seed: 0,
      schedules: 1000,
      maxSteps: 4,
    });
    expect(r.truncated).toBeGreaterThan(0);
    expect(r.verdict).toBe('sampled');
  });
});

describe('PCT', () => {
  it('finds a depth-2 bug (one priority change point), which depth 1 never finds', () => {
    for (const seed of [1, 2, 3, 4]) {
      const d2 = explore(retractRace({ buggy: true }), {
        strategy: 'pct',
        seed,
        schedules: 3000,
        pctDepth: 2,
      });
      expect(d2.result, `seed ${seed}`).toBe('fail');
      expect(d2.finding?.check).toBe('use-after-free');
    }
    // Without a change point the highest-priority task runs to completion:
    // the walker never stops between reading the pmd and reading the PTE.
    const d1 = explore(retractRace({ buggy: true }), {
      strategy: 'pct',
      seed: 1,
      schedules: 500,
      pctDepth: 1,
    });
    expect(d1.result).toBe('pass');
  });
});

describe('minimise', () => {
  it('reduces the preemptions of a random counterexample, keeping the finding', () => {
    const opts: ExploreOptions = { strategy: 'random', seed: 1, schedules: 1000 };
    const program = retractRace(NOISY);
    const raw = explore(program, { ...opts, minimise: false });
    const min = explore(program, opts);
    expect(raw.result).toBe('fail');
    expect(min.finding?.check).toBe(raw.finding?.check);
    expect(min.minimiseRuns).toBeGreaterThan(0);
    expect(min.preemptions).toBeLessThan(raw.preemptions);
    const rawP = preemptionsOf(
      program,
      raw.schedule.map((c) => c.task),
    );
    const minP = preemptionsOf(
      program,
      min.schedule.map((c) => c.task),
    );
    expect(rawP).toBeGreaterThan(1);
    expect(minP).toBe(1);
    expect(min.schedule.length).toBeLessThanOrEqual(raw.schedule.length);
    // No noise task is left in the story of the minimised counterexample.
    expect(min.schedule.some((c) => c.task.startsWith('noise'))).toBe(false);
  });
});
