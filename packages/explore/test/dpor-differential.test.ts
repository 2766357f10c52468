import { describe, expect, it } from 'vitest';
import { ExhaustiveSearch } from '../src/index.js';
import { finalState, generate, programOf } from './random-programs.js';
import {
  generateRcu,
  type RandomRcuProgram,
  rcuFinalState,
  rcuProgramOf,
} from './random-rcu-programs.js';

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

describe('partial-order reduction against plain exhaustive search (random RCU programs)', () => {
  const SEEDS = Array.from({ length: 400 }, (_, i) => i + 1);

  function search(
    p: RandomRcuProgram,
    por: boolean,
    o: { bound?: number | undefined; all: boolean },
  ) {
    const states = new Set<string>();
    const res = new ExhaustiveSearch(rcuProgramOf(p), {
      por,
      preemptionBound: o.bound,
      maxExecutions: 200_000,
      maxSteps: 500,
      allFindings: o.all,
      onComplete: (run) => states.add(rcuFinalState(run.k)),
    }).run();
    return { states, res };
  }

  it('a blocked step whose reversal cannot run where it raced hides no other reversal', () => {
    // T1's call_rcu() must go before T0's rcu_read_lock() for T1's callback to run before
    // T0's write. The grace period, blocked before and after T0's call_rcu(), raced with it
    // as a phantom; its infeasible reversal once sat in that state's wakeup tree and counted
    // as covering T1's (the two commute), so '0,3' was never reached.
    const p: RandomRcuProgram = {
      seed: 0,
      reuse: false,
      threads: [
        [
          { op: 'lock', irq: false },
          { op: 'call_rcu', head: 0, cell: 1 },
          { op: 'write', cell: 1 },
          { op: 'unlock', irq: false },
        ],
        [{ op: 'call_rcu', head: 0, cell: 1 }],
      ],
      text: 'T0: lock call_rcu(c1) write(c1) unlock | T1: call_rcu(c1)',
    };
    const a = search(p, false, { all: true });
    const b = search(p, true, { all: true });
    expect([...a.states].sort()).toEqual(['0,0/0/2/', '0,3/0/2/']);
    expect([...b.states].sort()).toEqual([...a.states].sort());
  });

  for (const bound of [undefined, 0, 1, 2]) {
    const name = bound === undefined ? 'no bound' : `bound ${bound}`;
    it(`callbacks, readers and grace periods: the same final states (${name})`, () => {
      let interesting = 0;
      let reduced = 0;
      let full = 0;
      for (const seed of SEEDS) {
        const p = generateRcu(seed, false);
        const a = search(p, false, { bound, all: true });
        const b = search(p, true, { bound, all: true });
        expect(a.res.complete && b.res.complete, p.text).toBe(true);
        expect(a.res.failing, p.text).toBeNull();
        expect([...b.states].sort(), `seed ${seed}: ${p.text}`).toEqual([...a.states].sort());
        full += a.res.executions;
        reduced += b.res.executions;
        if (a.states.size > 1) interesting++;
      }
      console.log(
        `RCU, ${name}: ${SEEDS.length} programs (${interesting} with several outcomes), ${full} executions unreduced, ${reduced} reduced`,
      );
      if (bound === undefined) expect(interesting).toBeGreaterThan(SEEDS.length / 8);
    }, 120_000);

    it(`two call_rcu()s on one rcu_head: found whenever some order reaches it (${name})`, () => {
      let both = 0;
      let never = 0;
      for (const seed of SEEDS) {
        const p = generateRcu(seed, true);
        const a = search(p, false, { bound, all: false });
        const b = search(p, true, { bound, all: false });
        expect(b.res.failing?.finding.check, `seed ${seed}: ${p.text}`).toBe(
          a.res.failing?.finding.check,
        );
        if (a.res.failing) both++;
        // Teeth: programs where some order avoids the reuse, which the reduction must not take for all.
        else never++;
      }
      if (bound === undefined) {
        expect(both).toBeGreaterThan(40);
        expect(never).toBeGreaterThan(40);
      }
    }, 120_000);
  }
});
