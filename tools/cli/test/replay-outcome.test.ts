import { bug, type CheckId, GENERIC_CONFIG, GenericArch, Kernel } from '@ptlab/core';
import { testObj } from '@ptlab/core/testing';
import { type Choice, execute, guidedChooser, type Program } from '@ptlab/explore';
import { describe, expect, it } from 'vitest';
import { replayExitCode, replayOutcome } from '../src/replay-outcome.js';

/**
 * Two threads of three steps on objects of their own. `fire` raises a check
 * in a's step `at`; `extra` gives b one more step (a changed path);
 * `late` raises a check in the teardown.
 */
function program(
  o: { fire?: CheckId; at?: number; extra?: boolean; late?: CheckId } = {},
): Program {
  return {
    boot() {
      const k = new Kernel({ arch: new GenericArch(GENERIC_CONFIG) });
      k.spawn('a', function* (ctx) {
        for (let i = 0; i < 3; i++) {
          yield ctx.step(`a${i}`, testObj('a'));
          if (o.fire && i === (o.at ?? 2)) bug(o.fire, `boom at a${i}`);
        }
      });
      k.spawn('b', function* (ctx) {
        yield ctx.step('b0', testObj('b'));
        if (o.extra) yield ctx.step('b-extra', testObj('b'));
        yield ctx.step('b1', testObj('b'));
      });
      return k;
    },
    teardown: o.late
      ? function* (ctx) {
          yield ctx.step('teardown', testObj('t'));
          bug(o.late as CheckId, 'found at teardown');
        }
      : undefined,
  };
}

/** The recorded counterexample: b0, a0, b1, a1, a2 (a fires use-after-free in a2). */
function recorded(): {
  schedule: readonly Choice[];
  finding: { check: string; message: string; step: number };
} {
  const ex = execute(
    program({ fire: 'use-after-free' }),
    guidedChooser(['b', 'a', 'b', 'b', 'a', 'a', 'a']),
    {
      maxSteps: 100,
      record: true,
    },
  );
  if (!ex.finding) throw new Error('the recorded program must fail');
  return { schedule: ex.choices, finding: ex.finding };
}

describe('replayOutcome: what a recorded schedule does on changed code', () => {
  const r = recorded();

  it('still failing: the same code gives the same finding (exit 1)', () => {
    const { outcome } = replayOutcome(
      program({ fire: 'use-after-free' }),
      r.schedule,
      r.finding,
      false,
    );
    expect(outcome).toMatchObject({
      kind: 'still-failing',
      exact: true,
      finding: { check: 'use-after-free' },
    });
    expect(replayExitCode(outcome)).toBe(1);
  });

  it('still failing, not exactly: the same check fires earlier on the same path', () => {
    const { outcome } = replayOutcome(
      program({ fire: 'use-after-free', at: 1 }),
      r.schedule,
      r.finding,
      false,
    );
    expect(outcome).toMatchObject({ kind: 'still-failing', exact: false });
    expect(replayExitCode(outcome)).toBe(1);
  });

  it('fails differently: another check on the same path (exit 1)', () => {
    const { outcome } = replayOutcome(
      program({ fire: 'double-free' }),
      r.schedule,
      r.finding,
      false,
    );
    expect(outcome).toMatchObject({
      kind: 'fails-differently',
      afterSchedule: false,
      finding: { check: 'double-free' },
    });
    expect(replayExitCode(outcome)).toBe(1);
  });

  it('finding gone: the recorded steps all run, no check fires, nor in the rest of the run (exit 0)', () => {
    const { outcome } = replayOutcome(program(), r.schedule, r.finding, false);
    expect(outcome).toMatchObject({
      kind: 'gone',
      steps: r.schedule.length,
      continued: { finding: null },
    });
    expect(replayExitCode(outcome)).toBe(0);
  });

  it('not gone when a check fires after the recorded schedule ends (the run goes on to its end)', () => {
    const { outcome } = replayOutcome(program({ late: 'page-leak' }), r.schedule, r.finding, false);
    expect(outcome).toMatchObject({
      kind: 'fails-differently',
      afterSchedule: true,
      finding: { check: 'page-leak' },
    });
    expect(replayExitCode(outcome)).toBe(1);
  });

  it('diverged at step N: names what was recorded and what the model does now (exit 3)', () => {
    const { outcome } = replayOutcome(
      program({ fire: 'use-after-free', extra: true }),
      r.schedule,
      r.finding,
      false,
    );
    expect(outcome).toMatchObject({
      kind: 'diverged',
      step: 2,
      recorded: { task: 'b', at: '(task): b1' },
      now: 'b "(task): b-extra"',
    });
    expect(outcome).not.toHaveProperty('continued');
    expect(replayExitCode(outcome)).toBe(3);
  });

  it('--continue: a diverged run goes on and finds the bug still reachable (exit 1), or not (exit 3)', () => {
    const still = replayOutcome(
      program({ fire: 'use-after-free', extra: true }),
      r.schedule,
      r.finding,
      true,
    ).outcome;
    expect(still).toMatchObject({
      kind: 'diverged',
      continued: { finding: { check: 'use-after-free' } },
    });
    expect(replayExitCode(still)).toBe(1);
    const fixed = replayOutcome(program({ extra: true }), r.schedule, r.finding, true).outcome;
    expect(fixed).toMatchObject({
      kind: 'diverged',
      continued: { finding: null, truncated: false },
    });
    expect(replayExitCode(fixed)).toBe(3);
  });

  it('diverged when the run ends before the recorded schedule does', () => {
    const whole = execute(program(), guidedChooser([]), { maxSteps: 100, record: true });
    expect(whole.finding).toBeNull();
    const longer = [...whole.choices, { task: 'a', at: '(task): a3' }];
    const { outcome } = replayOutcome(program(), longer, r.finding, false);
    expect(outcome).toMatchObject({
      kind: 'diverged',
      step: whole.steps,
      now: 'nothing: every task has finished',
    });
    expect(replayExitCode(outcome)).toBe(3);
  });
});
