/**
 * Traces on disk (src/trace.ts) and replaying them (src/replay.ts).
 */
import { TraceError } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  explore,
  makeTrace,
  parseTrace,
  replaySchedule,
  TRACE_FORMAT,
  TRACE_VERSION,
  type Trace,
} from '../src/index.js';
import { retractRace } from './programs.js';

/** A real counterexample: exhaustive search on the walker/khugepaged race without RCU. */
function counterexample() {
  const r = explore(retractRace({ buggy: true }), {
    strategy: 'exhaustive',
    seed: 0,
    schedules: 1000,
  });
  if (!r.finding) throw new Error('expected a finding');
  const trace = makeTrace({
    arch: 'test-generic',
    scenario: 'retract-race',
    mutant: 'pte-offset-map-without-rcu',
    strategy: r.strategy,
    seed: r.seed,
    schedule: r.schedule,
    finding: { check: r.finding.check, message: r.finding.message, step: r.finding.step },
  });
  return { r, trace, text: JSON.stringify(trace, null, 2) };
}

/** parseTrace's refusal of `text`, as a TraceError. */
function refusal(text: string): TraceError {
  try {
    parseTrace(text, 'bad.json');
  } catch (e) {
    if (e instanceof TraceError) return e;
    throw e;
  }
  throw new Error('parseTrace accepted it');
}

/** The trace as a plain object to edit. */
function edit(text: string, f: (o: Record<string, unknown>) => void): string {
  const o = JSON.parse(text) as Record<string, unknown>;
  f(o);
  return JSON.stringify(o);
}

describe('trace files', () => {
  it('make -> text -> parse round-trips', () => {
    const { trace, text } = counterexample();
    expect(trace.format).toBe(TRACE_FORMAT);
    expect(trace.version).toBe(TRACE_VERSION);
    expect(trace.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(parseTrace(text, 't.json')).toEqual(trace);
    // With the optional archModule too.
    const withModule = makeTrace({ ...trace, archModule: './my-arch.js' });
    expect(parseTrace(JSON.stringify(withModule), 't.json')).toEqual(withModule);
  });

  it('round-trips whatever order the fields were given in', () => {
    const { trace } = counterexample();
    const { finding, schedule, ...rest } = trace;
    const reordered = makeTrace({
      finding: { step: finding.step, message: finding.message, check: finding.check },
      schedule: schedule.map((c) => ({ at: c.at, task: c.task })),
      seed: rest.seed,
      strategy: rest.strategy,
      mutant: rest.mutant,
      scenario: rest.scenario,
      arch: rest.arch,
    });
    expect(parseTrace(JSON.stringify(reordered), 't.json')).toEqual(reordered);
  });

  it('refuses text that is not JSON', () => {
    const e = refusal('{"format": "ptlab-trace",');
    expect(e.code).toBe('E_TRACE_INVALID');
    expect(e.message).toMatch(/^\[trace\] bad\.json is not JSON: /);
  });

  it('refuses JSON that is not a ptlab trace', () => {
    const { text } = counterexample();
    const e = refusal(edit(text, (o) => (o.format = 'chrome-trace')));
    expect(e.code).toBe('E_TRACE_INVALID');
    expect(e.message).toContain(
      'bad.json is not a ptlab trace (format is "chrome-trace", expected "ptlab-trace")',
    );
    expect(refusal('[1, 2]').code).toBe('E_TRACE_INVALID');
  });

  it('names a missing field', () => {
    const { text } = counterexample();
    expect(refusal(edit(text, (o) => delete o.scenario)).message).toContain(
      'bad.json: field scenario:',
    );
    expect(
      refusal(edit(text, (o) => delete (o.finding as Record<string, unknown>).check)).message,
    ).toContain('field finding.check:');
    expect(
      refusal(
        edit(
          text,
          (o) =>
            delete ((o.schedule as Record<string, unknown>[])[2] as Record<string, unknown>).task,
        ),
      ).message,
    ).toContain('field schedule.2.task:');
    expect(refusal(edit(text, (o) => delete o.digest)).message).toContain('field digest:');
  });

  it('refuses an unknown check id and unknown fields', () => {
    const { text } = counterexample();
    expect(
      refusal(edit(text, (o) => ((o.finding as Record<string, unknown>).check = 'no-such-check')))
        .message,
    ).toContain('field finding.check:');
    expect(refusal(edit(text, (o) => (o.extra = 1))).code).toBe('E_TRACE_INVALID');
  });

  it('refuses edited content by its digest', () => {
    const { text } = counterexample();
    const e = refusal(
      edit(text, (o) => {
        const s = o.schedule as { task: string; at: string }[];
        s.reverse();
      }),
    );
    expect(e.message).toContain(
      'digest does not match the content: the file was edited after ptlab wrote it',
    );
    expect(refusal(edit(text, (o) => (o.seed = 99))).message).toContain('digest does not match');
  });

  it('refuses another trace version', () => {
    const { text } = counterexample();
    const e = refusal(edit(text, (o) => (o.version = TRACE_VERSION + 1)));
    expect(e.code).toBe('E_TRACE_INVALID');
    expect(e.message).toContain(
      `trace version ${TRACE_VERSION + 1}, this ptlab reads version ${TRACE_VERSION}`,
    );
  });
});

describe('replaySchedule', () => {
  it('reproduces the finding of a parsed trace', () => {
    const { r, text } = counterexample();
    const t: Trace = parseTrace(text, 't.json');
    const ex = replaySchedule(retractRace({ buggy: true }), t.schedule);
    expect(ex.finding).toEqual(r.finding);
    expect(ex.finding?.message).toBe(t.finding.message);
    expect(ex.finding?.step).toBe(t.finding.step);
    expect(ex.choices).toEqual(t.schedule);
  });

  it('reports where the model changed: step index, expected and actual label', () => {
    const { trace } = counterexample();
    const i = trace.schedule.findIndex((c) => c.task === 'khugepaged');
    const want = trace.schedule[i];
    expect(want?.at).toMatch(/^retract_page_tables: /);
    const changed = retractRace({ buggy: true, retractFn: 'collapse_pte_mapped_thp' });
    let err: unknown;
    try {
      replaySchedule(changed, trace.schedule);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceError);
    const e = err as TraceError;
    expect(e.code).toBe('E_TRACE_MISMATCH');
    const actual = want?.at.replace('retract_page_tables', 'collapse_pte_mapped_thp');
    expect(e.message).toContain(
      `step ${i}: the trace has khugepaged at "${want?.at}", but this model has it at "${actual}"`,
    );
  });

  it('reports a schedule that is too short, and a task that cannot run', () => {
    const { trace } = counterexample();
    const program = retractRace({ buggy: true });
    expect(() => replaySchedule(program, trace.schedule.slice(0, 3))).toThrow(
      /the recorded schedule ends after 3 steps but the run goes on/,
    );
    const bogus = [...trace.schedule.slice(0, 1), { task: 'nobody', at: 'x: y' }];
    expect(() => replaySchedule(program, bogus)).toThrow(
      /step 1: the trace runs nobody \("x: y"\), but nobody is not runnable here/,
    );
    // The fixed model does not reach the finding: replay says where it departs.
    expect(() => replaySchedule(retractRace(), trace.schedule)).toThrow(TraceError);
  });
});
