/**
 * The traces the split search covers against the sequential search's, on a
 * real cell (docs/model.md, "The split search"). Compared by each complete
 * execution's Mazurkiewicz trace (traceKey()), not by final states: this
 * cell's executions all end in the same state after teardown.
 */
import {
  ExhaustiveSearch,
  inProcessRunner,
  type Program,
  type SubtreeResult,
  splitSearchSync,
  traceKey,
} from '@ptlab/explore';
import { describe, expect, it } from 'vitest';
import x86 from '../../packages/arch-x86/src/index.js';
import { guardedCreate, loadScenarios, scenarioProgram } from '../src/index.js';

const scenario = loadScenarios().scenarios.find((s) => s.id === 'retract-vs-lockless-walkers');
const config = x86.configs.find((c) => c.id === 'x86-64');
const maxSteps = 5000;

function program(): Program {
  if (!scenario || !config) throw new Error('no retract-vs-lockless-walkers or x86-64');
  return scenarioProgram(scenario, { arch: guardedCreate(x86, config), variants: [] });
}

function sequentialTraces(bound: number | undefined): Set<string> {
  const traces = new Set<string>();
  const r = new ExhaustiveSearch(program(), {
    preemptionBound: bound,
    maxExecutions: 100_000,
    maxSteps,
    onTrace: (events) => traces.add(traceKey(events)),
  }).run();
  expect(r.complete).toBe(true);
  return traces;
}

/** The split search's traces, its task results passed through `lose` (a merge bug to catch). */
function splitRun(bound: number | undefined, lose = (r: SubtreeResult) => r) {
  const traces = new Set<string>();
  const p = program();
  const o = { preemptionBound: bound, maxSteps };
  const run = inProcessRunner(p, o, { onTrace: (events) => traces.add(traceKey(events)) });
  const r = splitSearchSync(p, { ...o, maxExecutions: 100_000 }, (tasks) => run(tasks).map(lose));
  return { traces, r };
}

function splitTraces(bound: number | undefined): Set<string> {
  const { traces, r } = splitRun(bound);
  expect(r.complete).toBe(true);
  expect(r.rounds).toBeGreaterThan(2);
  return traces;
}

const missing = (want: Set<string>, got: Set<string>) => [...want].filter((k) => !got.has(k));

describe('split search coverage on x86-64 retract-vs-lockless-walkers', () => {
  // Bounded: at least 100 traces; unbounded: all 3,100.
  for (const [bound, size] of [
    [1, undefined],
    [2, undefined],
    [undefined, 3100],
  ] as const) {
    it(`covers every trace the sequential search does ${bound === undefined ? 'without a bound (source sets, sibling footprints)' : `within ${bound} preemption(s)`}`, () => {
      const seq = sequentialTraces(bound);
      const par = splitTraces(bound);
      if (size === undefined) expect(seq.size).toBeGreaterThan(100);
      else expect(seq.size).toBe(size);
      expect(missing(seq, par)).toEqual([]);
      expect(missing(par, seq)).toEqual([]);
    }, 120_000);
  }

  it('fires on a split search that drops what its tasks found on their prefixes', () => {
    // A merge bug: the driver loses the reversals a task schedules above its own subtree. The
    // search still calls itself complete; only the comparison sees the traces it never ran.
    const seq = sequentialTraces(undefined);
    const { traces, r } = splitRun(undefined, (res) => ({
      ...res,
      prefix: res.prefix.map((a) => ({ ...a, backtrack: 0 })),
    }));
    expect(r.complete).toBe(true);
    expect(missing(seq, traces).length).toBeGreaterThan(100);
  }, 120_000);
});
