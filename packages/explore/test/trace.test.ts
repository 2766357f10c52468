/**
 * Traces on disk (src/trace.ts) and replaying them (src/replay.ts).
 */
import { LIMITS, TraceError } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  type Choice,
  execute,
  explore,
  MAX_SEED,
  makeTrace,
  parseTrace,
  randomChooser,
  replaySchedule,
  replayTrace,
  STRATEGIES,
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

/** A trace with the digest recomputed after `f` edits it: what a forger would write. */
function forged(trace: Trace, f: (o: Record<string, unknown>) => void): string {
  const {
    digest: _d,
    format: _f,
    version: _v,
    ...o
  } = structuredClone(trace) as unknown as Record<string, unknown>;
  f(o);
  return JSON.stringify(makeTrace(o as unknown as Parameters<typeof makeTrace>[0]));
}

/** Keys sorted at every level, as `jq -S` writes them. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
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

  it('a key-sorted, re-indented or minified copy is the same trace (canonical JSON digest)', () => {
    const { trace, text } = counterexample();
    const copies = [
      JSON.stringify(sortKeys(JSON.parse(text)), null, 2),
      JSON.stringify(sortKeys(JSON.parse(text)), null, '\t'),
      JSON.stringify(JSON.parse(text)),
      `\n\n${text.replace(/\n/g, '\r\n')}\n`,
      `\uFEFF${text}`,
      text.replace('"seed": 0', '"seed": 0.0'),
    ];
    for (const c of copies) expect(parseTrace(c, 'copy.json')).toEqual(trace);
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

  it('refuses a lone surrogate, which has no canonical JSON form', () => {
    const { text } = counterexample();
    const e = refusal(edit(text, (o) => ((o.finding as { message: string }).message = '\uD800')));
    expect(e.message).toContain('cannot be put in canonical JSON');
  });

  it('refuses text past LIMITS.traceChars without parsing it', () => {
    expect(refusal(' '.repeat(LIMITS.traceChars + 1)).message).toMatch(
      /more than a trace may have .*LIMITS\.traceChars/,
    );
  });

  it('refuses a schedule past LIMITS.traceSteps', () => {
    const { trace } = counterexample();
    const long = forged(trace, (o) => {
      o.schedule = Array.from({ length: LIMITS.traceSteps + 1 }, () => trace.schedule[0]);
    });
    expect(refusal(long).message).toMatch(
      /field schedule: at most \d+ steps \(LIMITS\.traceSteps\)/,
    );
  });

  it("strategy: one of the explorer's strategies", () => {
    const { trace } = counterexample();
    for (const st of STRATEGIES)
      expect(
        parseTrace(
          forged(trace, (o) => (o.strategy = st)),
          't.json',
        ).strategy,
      ).toBe(st);
    for (const bad of ['bogus', 'toString', '', 'Random', 3])
      expect(refusal(forged(trace, (o) => (o.strategy = bad))).message).toContain(
        'bad.json: field strategy:',
      );
  });

  it('seed: a non-negative 32-bit integer', () => {
    const { trace } = counterexample();
    for (const ok of [0, 1, MAX_SEED])
      expect(
        parseTrace(
          forged(trace, (o) => (o.seed = ok)),
          't.json',
        ).seed,
      ).toBe(ok);
    for (const bad of [-1, 1.5, MAX_SEED + 1, 2 ** 53, '1', null])
      expect(refusal(forged(trace, (o) => (o.seed = bad))).message).toContain(
        'bad.json: field seed:',
      );
  });

  it('refuses a schedule that goes on after its finding, or ends before it', () => {
    const { trace } = counterexample();
    const more = forged(trace, (o) => {
      const s = o.schedule as unknown[];
      s.push(s[0], s[1]);
    });
    expect(refusal(more).message).toBe(
      `[trace] bad.json: trace has 2 steps after its finding at step ${trace.finding.step}`,
    );
    const short = forged(trace, (o) => (o.schedule = (o.schedule as unknown[]).slice(0, 2)));
    expect(refusal(short).message).toBe(
      `[trace] bad.json: the schedule ends after 2 steps, before its finding at step ${trace.finding.step}`,
    );
  });

  it('refuses a "__proto__" key and invisible characters in names, showing them', () => {
    const { text } = counterexample();
    expect(refusal(text.replace('{', '{"__proto__": {"seed": 1},')).message).toContain(
      'Unrecognized key: "__proto__"',
    );
    const e = refusal(
      edit(
        text,
        (o) => (((o.schedule as { task: string }[])[0] as { task: string }).task += '\u200B'),
      ),
    );
    expect(e.message).toContain('field schedule.0.task: contains invisible characters');
    const at = refusal(edit(text, (o) => (o.scenario = 'retract\u00A0race')));
    expect(at.message).toContain('field scenario:');
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

  it('refuses steps after the finding even when the file claims them', () => {
    const { trace } = counterexample();
    const extra = [...trace.schedule, trace.schedule[0] as Choice];
    expect(() => replaySchedule(retractRace({ buggy: true }), extra)).toThrow(
      new RegExp(
        `trace has 1 steps after its finding at step ${trace.finding.step} \\(use-after-free\\)`,
      ),
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

describe('replayTrace: "same finding reproduced" only when everything holds', () => {
  it('reproduced: same schedule, used up exactly, same check, step and message', () => {
    const { r, text } = counterexample();
    const v = replayTrace(retractRace({ buggy: true }), parseTrace(text, 't.json'));
    expect(v.verdict).toBe('reproduced');
    if (v.verdict === 'reproduced') expect(v.finding).toEqual(r.finding);
  });

  it('another check, step or message is "other-finding"', () => {
    const { trace } = counterexample();
    const edits: ((f: Record<string, unknown>) => void)[] = [
      (f) => (f.check = 'double-free'),
      (f) => (f.message = `${f.message} (edited)`),
      (f) => (f.step = (f.step as number) + 1),
    ];
    for (const e of edits) {
      const t = parseTrace(
        forged(trace, (o) => e(o.finding as Record<string, unknown>)),
        't.json',
      );
      const v = replayTrace(retractRace({ buggy: true }), t, 't.json');
      expect(v.verdict).toBe('not-reproduced');
      if (v.verdict === 'not-reproduced') {
        expect(v.reason).toBe('other-finding');
        expect(v.error.code).toBe('E_TRACE_MISMATCH');
        expect(v.error.message).toMatch(
          /replay of t\.json found use-after-free at step \d+ .* but the trace says/,
        );
      }
    }
  });

  it('a run with no finding is "no-finding"', () => {
    const clean = execute(retractRace(), randomChooser(7), { maxSteps: 5000, record: true });
    expect(clean.finding).toBeNull();
    const t = makeTrace({
      arch: 'test-generic',
      scenario: 'retract-race',
      mutant: null,
      strategy: 'random',
      seed: 7,
      schedule: clean.choices,
      finding: { check: 'use-after-free', message: 'claimed', step: clean.choices.length },
    });
    const v = replayTrace(retractRace(), parseTrace(JSON.stringify(t), 't.json'), 't.json');
    expect(v.verdict).toBe('not-reproduced');
    if (v.verdict === 'not-reproduced') {
      expect(v.reason).toBe('no-finding');
      expect(v.error.message).toContain(`ran all ${clean.choices.length} steps but no check fired`);
    }
  });

  it('a model that departs from the schedule is "schedule"', () => {
    const { trace } = counterexample();
    const v = replayTrace(
      retractRace({ buggy: true, retractFn: 'collapse_pte_mapped_thp' }),
      trace,
    );
    expect(v.verdict).toBe('not-reproduced');
    if (v.verdict === 'not-reproduced') {
      expect(v.reason).toBe('schedule');
      expect(v.execution).toBeNull();
    }
  });
});
