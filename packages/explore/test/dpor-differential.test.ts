import { describe, expect, it } from 'vitest';
import { ExhaustiveSearch } from '../src/index.js';
import { finalState, generate, programOf } from './random-programs.js';

/** Every final state (and finding) an exhaustive search reaches, and how many executions it ran. */
function reach(seed: number, por: boolean, bound?: number) {
  const p = generate(seed);
  const states = new Set<string>();
  const res = new ExhaustiveSearch(programOf(p), {
    por,
    preemptionBound: bound,
    maxExecutions: 200_000,
    maxSteps: 500,
    allFindings: true,
    onComplete: (run) => states.add(finalState(run.k)),
    onFinding: (f, picks) => states.add(`finding:${f.check}:${picks.length}`),
  }).run();
  return { p, states, res };
}

function compare(seeds: readonly number[], bound?: number) {
  let reduced = 0;
  let full = 0;
  let interesting = 0;
  let interestingExtra = 0;
  let sleepBlocked = 0;
  for (const seed of seeds) {
    const a = reach(seed, false, bound);
    const b = reach(seed, true, bound);
    expect(a.res.complete, a.p.text).toBe(true);
    expect(b.res.complete, b.p.text).toBe(true);
    expect([...b.states].sort(), `seed ${seed}: ${a.p.text}`).toEqual([...a.states].sort());
    expect(b.res.executions, a.p.text).toBeLessThanOrEqual(a.res.executions);
    reduced += b.res.executions;
    full += a.res.executions;
    sleepBlocked += b.res.sleepBlocked;
    if (a.states.size > 1) interesting++;
    if (a.states.size > 1 && a.p.rwsem) interestingExtra++;
  }
  return { reduced, full, interesting, interestingExtra, sleepBlocked };
}

describe('partial-order reduction against plain exhaustive search (random programs)', () => {
  const SEEDS = Array.from({ length: 1000 }, (_, i) => i + 1);

  it('reaches the same final states and findings, never with more executions (no bound)', () => {
    const r = compare(SEEDS);
    console.log(
      `no bound: ${SEEDS.length} programs (${r.interesting} with several outcomes, ${r.interestingExtra} of them with trylock/rwsem/completion), ${r.full} executions unreduced, ${r.reduced} reduced (${r.sleepBlocked} sleep-set blocked)`,
    );
    // The comparison must have teeth: many programs have several outcomes to miss, some of
    // them through trylock, the rw_semaphore or a completion (steps that only wait).
    expect(r.interesting).toBeGreaterThan(SEEDS.length / 8);
    expect(r.interestingExtra).toBeGreaterThan(25);
  }, 120_000);

  for (const bound of [0, 1, 2]) {
    it(`the same within ${bound} preemption(s)`, () => {
      const r = compare(SEEDS, bound);
      console.log(
        `bound ${bound}: ${r.interesting} programs with several outcomes, ${r.full} executions unreduced, ${r.reduced} reduced`,
      );
    }, 120_000);
  }
});
