/**
 * One schedule (src/execution.ts): stuck runs are deadlocks, teardown and the
 * leak check, the step budget, records for the story.
 */

import { allocPage, GenericArch, Kernel } from '@ptlab/core';
import { testObj } from '@ptlab/core/testing';
import { describe, expect, it } from 'vitest';
import { execute, explore, guidedChooser, type Program, renderStory } from '../src/index.js';
import { abba, CONFIG, retractRace } from './programs.js';

describe('execute()', () => {
  it('no runnable task while one is unfinished is a deadlock (ABBA, each holding one lock)', () => {
    const ex = execute(abba(), guidedChooser(['one', 'two']), { maxSteps: 100, record: true });
    expect(ex.finding?.check).toBe('deadlock');
    expect(ex.finding?.message).toBe(
      'no CPU can make progress: cpu0 one waits at "(task): spin_lock(B)"; cpu1 two waits at "(task): spin_lock(A)"',
    );
  });

  it('the other orders of the same program trip lockdep instead', () => {
    const r = explore(abba(), {
      strategy: 'exhaustive',
      seed: 0,
      schedules: 100,
      preemptionBound: 0,
    });
    expect(r.finding?.check).toBe('lock-order');
  });

  it('runs the teardown once every task is done, then checks for leaks', () => {
    const leaky: Program = {
      boot() {
        const k = new Kernel({ arch: new GenericArch(CONFIG) });
        k.spawn('a', function* (ctx) {
          yield* allocPage(ctx, 'forgotten');
        });
        return k;
      },
      teardown: function* (ctx) {
        yield ctx.step('exit', testObj('none'));
      },
    };
    const ex = execute(leaky, guidedChooser([]), { maxSteps: 100, record: true });
    expect(ex.finding?.check).toBe('page-leak');
    // Each task ends with its exit step.
    expect(ex.records.map((r) => r.task)).toEqual(['a', 'a', 'teardown', 'teardown']);
    // Without a teardown there is no leak check.
    const noTeardown = execute({ boot: leaky.boot }, guidedChooser([]), {
      maxSteps: 100,
      record: false,
    });
    expect(noTeardown.finding).toBeNull();
  });

  it('stops at the step budget and says so', () => {
    const ex = execute(retractRace(), guidedChooser([]), { maxSteps: 3, record: false });
    expect(ex).toMatchObject({ truncated: true, steps: 3, finding: null });
  });

  it('records what the story needs: cpu, call chain, locks, RCU, notes', () => {
    const r = explore(retractRace({ buggy: true }), {
      strategy: 'exhaustive',
      seed: 0,
      schedules: 100,
    });
    const first = r.records.find((x) => x.task === 'khugepaged' && x.locks.length > 0);
    expect(first?.stack).toEqual(['retract_page_tables']);
    expect(first?.locks).toEqual(['pmd ptl of mm A']);
    const story = renderStory(r.records, r.finding, { title: 'retract race' });
    expect(story).toContain('FINDING use-after-free');
    expect(story).toMatch(/>>\s+\d+\s+cpu0\s+walk: read pte/);
    expect(story).toMatch(/ \*\s+\d+\s+rcu\s+pte_free_now: pte_free/);
  });
});
