/**
 * Fuzzing trace replay with edited copies of real traces: counterexamples
 * the suite finds on x86-64 with historical mm mutants (runCell), edited by
 * fast-check (fixed seeds). Three kinds of edit:
 * - reformatting (keys reordered or sorted, re-indented, a BOM, numbers and
 *   strings spelled differently): the same trace, which must still replay as
 *   "same finding reproduced";
 * - edits of the content, digest left as it was: never reproduced;
 * - the same edits with the digest recomputed (a forger): "reproduced" only
 *   when an independent re-execution confirms every claim of the edited file
 *   (each step, the schedule used up exactly, the same check, step, message).
 * A "false reproduction" is a reproduced verdict that does not hold. The
 * tallies are printed.
 */
import { CHECKS, PtlabError } from '@ptlab/core';
import {
  type Choice,
  execute,
  labelOf,
  makeTrace,
  parseTrace,
  replayTrace,
  STRATEGIES,
  type Trace,
} from '@ptlab/explore';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// The reference port, from source (arch packages depend on conformance, not the other way round).
import x86 from '../../packages/arch-x86/src/index.js';
import {
  guardedCreate,
  loadScenarios,
  mutantCatalogue,
  runCell,
  scenarioById,
  scenarioProgram,
} from '../src/index.js';

const load = loadScenarios();
const catalogue = mutantCatalogue([x86]);
const X86_64 = x86.configs.find((c) => c.id === 'x86-64');
if (!X86_64) throw new Error('x86-64 config');

/** Real counterexamples: [scenario, mm mutant] cells that fail on x86-64. */
const CELLS: [string, string][] = [
  ['retract-vs-lockless-walkers', 'pte-offset-map-without-rcu'],
  ['retract-vs-lockless-walkers', 'retract-frees-immediately'],
  ['collapse-vs-uffd-copy', 'collapse-before-uffd-fix'],
];

function realTraces(): Trace[] {
  return CELLS.map(([sid, mid]) => {
    const r = runCell({
      port: x86,
      config: X86_64 as never,
      scenario: scenarioById(load, sid),
      mutant: catalogue.find((m) => m.id === mid) ?? null,
    });
    if (!r.trace) throw new Error(`${sid} with ${mid} did not fail on x86-64`);
    return r.trace;
  });
}

// biome-ignore lint/suspicious/noExplicitAny: traces edited as plain JSON
type Raw = Record<string, any>;

/** The program a trace names, as `ptlab replay` builds it; null when it names something unknown. */
function programOf(t: Trace) {
  const config = x86.configs.find((c) => c.id === t.arch);
  const scenario = load.scenarios.find((s) => s.id === t.scenario);
  const mutant = t.mutant === null ? null : catalogue.find((m) => m.id === t.mutant);
  if (!config || !scenario || mutant === undefined) return null;
  return scenarioProgram(scenario, {
    arch: guardedCreate(x86, config, mutant?.layer === 'arch' ? mutant.id : undefined),
    // The kernel patches the trace was recorded with (known findings' fixes), as replay applies them.
    variants: [...(mutant?.layer === 'mm' ? [mutant.id] : []), ...(t.patches ?? [])],
  });
}

type Outcome = 'reproduced' | 'refused' | 'not-reproduced' | 'unknown-name';

/** Parse and replay `text` as `ptlab replay` does. */
function replay(text: string): { outcome: Outcome; trace?: Trace } {
  let t: Trace;
  try {
    t = parseTrace(text, 'edited.json');
  } catch (e) {
    if (e instanceof PtlabError && e.code === 'E_TRACE_INVALID') return { outcome: 'refused' };
    throw e;
  }
  const program = programOf(t);
  if (!program) return { outcome: 'unknown-name', trace: t };
  const v = replayTrace(program, t, 'edited.json');
  return { outcome: v.verdict === 'reproduced' ? 'reproduced' : 'not-reproduced', trace: t };
}

/**
 * An independent check of a trace's claims: follow its schedule strictly
 * (each named task runnable and at the recorded label), then the run must
 * end with exactly the recorded finding, with no step left over.
 */
function claimsHold(t: Trace): boolean {
  const program = programOf(t);
  if (!program) return false;
  let ok = true;
  const ex = execute(
    program,
    (runnable, depth) => {
      const want: Choice | undefined = t.schedule[depth];
      const task = want && runnable.find((x) => x.name === want.task);
      if (!want || !task?.pending || labelOf(task, task.pending) !== want.at) {
        ok = false;
        return null;
      }
      return task;
    },
    // Labels are built only in recorded runs (the explorer builds no strings per step otherwise).
    { maxSteps: t.schedule.length + 1, record: true },
  );
  const f = ex.finding;
  return (
    ok &&
    ex.steps === t.schedule.length &&
    f !== null &&
    f.check === t.finding.check &&
    f.step === t.finding.step &&
    f.message === t.finding.message
  );
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Raw)[k])]),
  );
}
const canonical = (v: unknown) => JSON.stringify(sortKeys(v));

/** JSON with odd but legal whitespace around every token. */
function spaced(v: unknown): string {
  if (Array.isArray(v)) return `[ \n${v.map(spaced).join(' ,\r\n\t')} ]`;
  if (typeof v === 'object' && v !== null)
    return `{\n ${Object.keys(v)
      .map((k) => `${JSON.stringify(k)} :\t${spaced((v as Raw)[k])}`)
      .join('\n,  ')} \n}`;
  return JSON.stringify(v);
}

/** Reorder keys at every level by `perm` (a list of numbers consumed as shuffling choices). */
function shuffleKeys(v: unknown, perm: number[]): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, perm));
  if (typeof v !== 'object' || v === null) return v;
  const keys = Object.keys(v);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = (perm.shift() ?? 0) % (i + 1);
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  return Object.fromEntries(keys.map((k) => [k, shuffleKeys((v as Raw)[k], perm)]));
}

// --- content edits ---

type Path = (string | number)[];
function leaves(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v)) for (const [i, x] of v.entries()) leaves(x, [...at, i], out);
  else if (typeof v === 'object' && v !== null)
    for (const k of Object.keys(v)) leaves((v as Raw)[k], [...at, k], out);
  else out.push(at);
  return out;
}
const getAt = (o: Raw, p: Path): unknown => p.reduce<unknown>((x, k) => (x as Raw)[k as string], o);
function setAt(o: Raw, p: Path, value: unknown): void {
  const parent = getAt(o, p.slice(0, -1)) as Raw;
  parent[p[p.length - 1] as string] = value;
}

const taskNames = (t: Raw) => [...new Set((t.schedule as Choice[]).map((c) => c.task))];

type Edit =
  | { kind: 'leaf'; at: number; how: number; other: number }
  | { kind: 'deleteStep' | 'duplicateStep' | 'appendStep'; at: number }
  | { kind: 'swapSteps'; a: number; b: number }
  | { kind: 'otherTask'; at: number; pick: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'reverse' }
  | { kind: 'dropKey'; at: number }
  | { kind: 'addKey'; key: string }
  | { kind: 'finding'; field: 'check' | 'message' | 'step'; pick: number }
  | { kind: 'meta'; field: 'strategy' | 'seed' | 'mutant' | 'scenario' | 'arch'; pick: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('leaf' as const), at: fc.nat(), how: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constantFrom('deleteStep' as const, 'duplicateStep' as const, 'appendStep' as const),
    at: fc.nat(),
  }),
  fc.record({ kind: fc.constant('swapSteps' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('otherTask' as const), at: fc.nat(), pick: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('reverse' as const) }),
  fc.record({ kind: fc.constant('dropKey' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('addKey' as const),
    key: fc.constantFrom('__proto__', 'comment', 'constructor', 'toString'),
  }),
  fc.record({
    kind: fc.constant('finding' as const),
    field: fc.constantFrom('check' as const, 'message' as const, 'step' as const),
    pick: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('meta' as const),
    field: fc.constantFrom(
      'strategy' as const,
      'seed' as const,
      'mutant' as const,
      'scenario' as const,
      'arch' as const,
    ),
    pick: fc.nat(),
  }),
);

const OTHER_STRINGS = [
  '',
  'x',
  'toString',
  '__proto__',
  'gup_fast',
  'x86-64-paravirt',
  '\u200B',
  'rcu',
];
const checkIds = Object.keys(CHECKS);

/** Apply `e` to the trace object `o` in place. */
function applyEdit(o: Raw, e: Edit): void {
  if (!Array.isArray(o.schedule) || typeof o.finding !== 'object' || o.finding === null) return;
  const s = o.schedule as Choice[];
  const i = (n: number) => n % Math.max(1, s.length);
  switch (e.kind) {
    case 'leaf': {
      const ls = leaves(o);
      const p = ls[e.at % ls.length] as Path;
      const v = getAt(o, p);
      const nv =
        typeof v === 'number'
          ? [v + 1, v - 1, v * 2, -v, 2 ** 32][e.how % 5]
          : typeof v === 'string'
            ? [`${v}x`, v.slice(1), OTHER_STRINGS[e.other % OTHER_STRINGS.length], v.toUpperCase()][
                e.how % 4
              ]
            : typeof v === 'boolean'
              ? !v
              : 0;
      setAt(o, p, nv);
      return;
    }
    case 'deleteStep':
      s.splice(i(e.at), 1);
      return;
    case 'duplicateStep':
      s.splice(i(e.at), 0, { ...(s[i(e.at)] as Choice) });
      return;
    case 'appendStep':
      s.push({ ...(s[i(e.at)] as Choice) });
      return;
    case 'swapSteps': {
      const [a, b] = [i(e.a), i(e.b)];
      [s[a], s[b]] = [s[b] as Choice, s[a] as Choice];
      return;
    }
    case 'otherTask': {
      const names = taskNames(o);
      const c = s[i(e.at)] as Choice;
      s[i(e.at)] = { ...c, task: names[e.pick % names.length] as string };
      return;
    }
    case 'truncate':
      o.schedule = s.slice(0, e.keep % Math.max(1, s.length));
      return;
    case 'reverse':
      s.reverse();
      return;
    case 'dropKey': {
      const keys = Object.keys(o).filter((k) => k !== 'digest');
      delete o[keys[e.at % keys.length] as string];
      return;
    }
    case 'addKey':
      Object.defineProperty(o, e.key, {
        value: 1,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return;
    case 'finding': {
      const f = o.finding as Raw;
      if (e.field === 'check') f.check = checkIds[e.pick % checkIds.length];
      else if (e.field === 'message') f.message = `${f.message}${e.pick % 2 ? ' ' : '.'}`;
      else f.step = (f.step as number) + (e.pick % 2 ? 1 : -1);
      return;
    }
    case 'meta': {
      if (e.field === 'strategy') o.strategy = STRATEGIES[e.pick % STRATEGIES.length];
      else if (e.field === 'seed') o.seed = e.pick % 1000;
      else if (e.field === 'mutant')
        o.mutant = [null, ...catalogue.map((m) => m.id)][e.pick % (catalogue.length + 1)];
      else if (e.field === 'scenario')
        o.scenario = load.scenarios[e.pick % load.scenarios.length]?.id;
      else o.arch = x86.configs[e.pick % x86.configs.length]?.id;
      return;
    }
  }
}

/** The edited object re-signed: a trace with a valid digest over the edited content. */
function forge(o: Raw): string {
  const { digest: _d, format: _f, version: _v, ...rest } = o;
  try {
    return JSON.stringify(makeTrace(rest as Parameters<typeof makeTrace>[0]));
  } catch {
    return JSON.stringify(o); // content canonicalize() refuses: keep it as it is
  }
}

interface Tally {
  edited: number;
  noop: number;
  reproduced: number;
  refused: number;
  notReproduced: number;
  unknownName: number;
  confirmedForgeries: number;
  falseReproductions: string[];
  falseRefusals: string[];
}
const tally = (): Tally => ({
  edited: 0,
  noop: 0,
  reproduced: 0,
  refused: 0,
  notReproduced: 0,
  unknownName: 0,
  confirmedForgeries: 0,
  falseReproductions: [],
  falseRefusals: [],
});

function count(t: Tally, outcome: Outcome): void {
  t.edited++;
  if (outcome === 'reproduced') t.reproduced++;
  else if (outcome === 'refused') t.refused++;
  else if (outcome === 'not-reproduced') t.notReproduced++;
  else t.unknownName++;
}

function report(name: string, t: Tally): void {
  console.log(
    `[trace fuzz] ${name}: ${t.edited} edited traces (${t.noop} no-op), ${t.reproduced} reproduced` +
      `${t.confirmedForgeries ? ` (${t.confirmedForgeries} re-signed edits whose claims hold)` : ''}, ` +
      `${t.refused} refused as invalid, ${t.notReproduced} not reproduced, ${t.unknownName} naming an unknown arch/scenario/mutant; ` +
      `${t.falseReproductions.length} false reproductions, ${t.falseRefusals.length} false refusals`,
  );
  for (const x of [...t.falseReproductions, ...t.falseRefusals].slice(0, 10)) console.log(`  ${x}`);
}

describe('trace replay fuzz', () => {
  const traces = realTraces();
  const texts = traces.map((t) => JSON.stringify(t, null, 2));

  it('the real traces reproduce, and the independent check agrees', () => {
    for (const text of texts) {
      const r = replay(text);
      expect(r.outcome).toBe('reproduced');
      expect(r.trace && claimsHold(r.trace)).toBe(true);
    }
  });

  it('reformatted copies are the same trace: all reproduce', () => {
    const t = tally();
    fc.assert(
      fc.property(
        fc.nat({ max: traces.length - 1 }),
        fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
        fc.constantFrom(0, 1, 2, 4, '\t'),
        fc.constantFrom('none', 'sort', 'bom', 'crlf', 'spaces', 'float-seed', 'escape'),
        (ti, perm, indent, extra) => {
          const o = JSON.parse(texts[ti] as string);
          let text = JSON.stringify(
            extra === 'sort' ? sortKeys(o) : shuffleKeys(o, [...perm]),
            null,
            indent,
          );
          if (extra === 'bom') text = `\uFEFF${text}`;
          if (extra === 'crlf') text = text.replace(/\n/g, '\r\n');
          if (extra === 'spaces') text = spaced(o);
          if (extra === 'float-seed') text = text.replace(/"seed": ?(\d+)/, '"seed": $1.0');
          if (extra === 'escape') text = text.replace(/"arch": ?"x/, '"arch": "\\u0078');
          t.noop++;
          const r = replay(text);
          count(t, r.outcome);
          if (r.outcome !== 'reproduced') t.falseRefusals.push(`${extra}/${indent}: ${r.outcome}`);
        },
      ),
      { seed: 0x0f0f, numRuns: 120 },
    );
    report('reformatted', t);
    expect(t.falseRefusals).toEqual([]);
  }, 60_000);

  it('content edits with the digest as it was: never reproduced', () => {
    const t = tally();
    fc.assert(
      fc.property(
        fc.nat({ max: traces.length - 1 }),
        fc.array(editArb, { minLength: 1, maxLength: 2 }),
        (ti, edits) => {
          const orig = JSON.parse(texts[ti] as string);
          const o = JSON.parse(texts[ti] as string);
          for (const e of edits) applyEdit(o, e);
          const noop = canonical(o) === canonical(orig);
          if (noop) t.noop++;
          const r = replay(JSON.stringify(o, null, 2));
          count(t, r.outcome);
          if (r.outcome === 'reproduced' && !noop)
            t.falseReproductions.push(`${JSON.stringify(edits)} reproduced with the old digest`);
          if (r.outcome !== 'reproduced' && noop)
            t.falseRefusals.push(`${JSON.stringify(edits)}: ${r.outcome}`);
        },
      ),
      { seed: 0xd16e57, numRuns: 250 },
    );
    report('edited, old digest', t);
    expect(t.falseReproductions).toEqual([]);
    expect(t.falseRefusals).toEqual([]);
    expect(t.refused).toBeGreaterThan(200);
  }, 60_000);

  it('content edits re-signed by a forger: reproduced only when the edited claims hold', () => {
    const t = tally();
    fc.assert(
      fc.property(
        fc.nat({ max: traces.length - 1 }),
        fc.array(editArb, { minLength: 1, maxLength: 2 }),
        (ti, edits) => {
          const o = JSON.parse(texts[ti] as string);
          for (const e of edits) applyEdit(o, e);
          const r = replay(forge(o));
          count(t, r.outcome);
          if (r.outcome !== 'reproduced' || !r.trace) return;
          // Provenance (seed, strategy), a sibling config with the same bug, or an edit that undoes itself.
          if (claimsHold(r.trace)) t.confirmedForgeries++;
          else
            t.falseReproductions.push(
              `${JSON.stringify(edits)} reproduced, but its claims do not hold`,
            );
        },
      ),
      { seed: 0xf0e9, numRuns: 250 },
    );
    report('edited, re-signed', t);
    expect(t.falseReproductions).toEqual([]);
    expect(t.refused + t.notReproduced).toBeGreaterThan(100);
  }, 60_000);
});
