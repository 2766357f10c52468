/**
 * Fuzzing the scenario loader with malformed versions of the suite's own
 * scenario files (fast-check, fixed seeds: the same inputs every run):
 * - every known-invalid edit of the catalogue (hostile-scenarios.ts), alone
 *   and on top of another edit: refused, with its expected message;
 * - random structural corruption of the JSON (values replaced by wrong
 *   types, huge numbers, prototype names, invisible characters, references
 *   swapped, keys added or deleted, array items duplicated or dropped);
 * - random corruption of the file's text (truncation, inserted bytes, BOMs).
 * Each input must give a clear ScenarioError (naming the file, no invisible
 * characters in the message) or load; what loads must break no documented
 * rule (the independent oracle brokenRule()) and run a few bounded schedules
 * with no crash: only findings or PtlabErrors. The tallies are printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasInvisible, PtlabError, ScenarioError } from '@ptlab/core';
import { explore } from '@ptlab/explore';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  guardedCreate,
  loadScenarioFile,
  PATHS,
  parseScenario,
  scenarioProgram,
  type ValidScenario,
} from '../src/index.js';
import { generic } from './generic-port.js';
import {
  brokenRule,
  edited,
  INVALID_EDITS,
  type Raw,
  setOwn,
  suiteScenarios,
} from './hostile-scenarios.js';

const SUITE = suiteScenarios();
const CONFIG = generic.configs[0];
if (!CONFIG) throw new Error('generic config');
/** Steps per schedule of a run: a valid scenario's run is bounded by this. */
const MAX_STEPS = 3000;
const SCHEDULES = 2;

interface Tally {
  generated: number;
  refused: number;
  loaded: number;
  runsPassed: number;
  runsWithFinding: number;
  /** What the runs with a finding found (the fixed model: each one is a model bug or a bogus state). */
  findings: string[];
  modelErrors: number;
  crashes: string[];
  hangs: string[];
  garbage: string[];
  unclear: string[];
}
const tally = (): Tally => ({
  generated: 0,
  refused: 0,
  loaded: 0,
  runsPassed: 0,
  runsWithFinding: 0,
  findings: [],
  modelErrors: 0,
  crashes: [],
  hangs: [],
  garbage: [],
  unclear: [],
});

/** Load (by `load`) and, when it loads, check the rules and run it; record the outcome in `t`. */
function judge(
  t: Tally,
  label: string,
  source: string,
  load: () => ValidScenario,
  mustRefuse?: RegExp,
): void {
  t.generated++;
  let s: ValidScenario;
  try {
    s = load();
  } catch (e) {
    if (!(e instanceof ScenarioError)) {
      t.crashes.push(
        `${label}: load threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
      return;
    }
    t.refused++;
    if (!e.message.startsWith(`[${source}] `) || hasInvisible(e.message))
      t.unclear.push(`${label}: ${e.message}`);
    else if (mustRefuse && !mustRefuse.test(e.message))
      t.unclear.push(`${label}: expected ${mustRefuse}, got ${e.message}`);
    return;
  }
  t.loaded++;
  if (mustRefuse) {
    t.garbage.push(`${label}: loaded, but the edit breaks a rule (${mustRefuse})`);
    return;
  }
  const broken = brokenRule(s);
  if (broken) {
    t.garbage.push(`${label}: loaded, but breaks "${broken}"`);
    return;
  }
  try {
    const r = explore(
      scenarioProgram(s, { arch: guardedCreate(generic, CONFIG as never), variants: [] }),
      { strategy: 'random', schedules: SCHEDULES, seed: 1, maxSteps: MAX_STEPS },
    );
    if (r.steps > SCHEDULES * MAX_STEPS) t.hangs.push(`${label}: ${r.steps} steps`);
    if (r.result === 'fail') {
      t.runsWithFinding++;
      t.findings.push(`${label}: ${r.finding?.check}: ${r.finding?.message}`);
    } else t.runsPassed++;
  } catch (e) {
    if (e instanceof PtlabError) t.modelErrors++;
    else
      t.crashes.push(
        `${label}: run threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
  }
}

function report(name: string, t: Tally): void {
  console.log(
    `[scenario fuzz] ${name}: ${t.generated} generated, ${t.refused} refused, ${t.loaded} loaded ` +
      `(${t.runsPassed} ran clean, ${t.runsWithFinding} with a finding, ${t.modelErrors} PtlabError); ` +
      `${t.crashes.length} crashes, ${t.hangs.length} hangs, ${t.garbage.length} garbage accepted, ` +
      `${t.unclear.length} unclear errors`,
  );
  for (const x of [...t.crashes, ...t.hangs, ...t.garbage, ...t.unclear, ...t.findings].slice(
    0,
    10,
  ))
    console.log(`  ${x}`);
}

function expectClean(t: Tally): void {
  expect(t.crashes).toEqual([]);
  expect(t.hangs).toEqual([]);
  expect(t.garbage).toEqual([]);
  expect(t.unclear).toEqual([]);
}

// --- random structural corruption of the JSON tree ---

type Path = readonly (string | number)[];

function allPaths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) allPaths(x, [...at, i], out);
  else if (typeof v === 'object' && v !== null)
    for (const k of Object.keys(v)) allPaths((v as Raw)[k], [...at, k], out);
  return out;
}

function parentOf(root: Raw, p: Path): [Raw, string | number] | null {
  if (p.length === 0) return null;
  let o: Raw = root;
  for (const k of p.slice(0, -1)) o = o[k as string];
  return [o, p[p.length - 1] as string | number];
}

const strings = (v: unknown): string[] =>
  allPaths(v)
    .map((p) => p.reduce<unknown>((o, k) => (o as Raw)[k as string], v))
    .filter((x): x is string => typeof x === 'string' && x.length < 40);

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1e308, -1, 2 ** 53, 2 ** 31, 1.5, -0, 0, 7, 8, 15, 16, 4096, 1e9, 5000),
  fc.constantFrom(
    'toString',
    'constructor',
    '__proto__',
    'hasOwnProperty',
    'rcu',
    'kworker',
    'teardown',
    'boot',
    'cpu0',
    '',
    ' ',
    '\uFEFF',
    'shm\u200B',
    'A\u00A0',
    '\u0000',
    '\uD800',
    'x'.repeat(5000),
    'collapse_file',
    'exit_mmap',
    'iommu_dma',
    'user_load',
  ),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom([], {}, null, true, false),
);
const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'prototype',
    'id',
    'file',
    'mm',
    'thp',
    'ptes',
    'pmds',
    'lockedBy',
    'requires',
    'warm',
    'secondaryMmu',
  ),
  fc.string({ maxLength: 6 }),
);

type Op =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'addKey'; at: number; key: string; value: unknown }
  | { op: 'swapRef'; at: number; pick: number }
  | { op: 'nudge'; at: number; by: number }
  | { op: 'dupItem'; at: number }
  | { op: 'dropItem'; at: number }
  | { op: 'addThread'; path: string; pick: number; pmd: number; pte: number; flag: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('addKey' as const),
    at: fc.nat(),
    key: hostileKey,
    value: hostileValue,
  }),
  fc.record({ op: fc.constant('swapRef' as const), at: fc.nat(), pick: fc.nat() }),
  fc.record({
    op: fc.constant('nudge' as const),
    at: fc.nat(),
    by: fc.constantFrom(-1, 1, 2, 8, 1000),
  }),
  fc.record({ op: fc.constant('dupItem' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dropItem' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('addThread' as const),
    path: fc.constantFrom(...Object.keys(PATHS)),
    pick: fc.nat(),
    pmd: fc.nat({ max: 7 }),
    pte: fc.nat({ max: 15 }),
    flag: fc.boolean(),
  }),
);

/** Apply `op` to `root` in place (an op that does not fit the chosen node does nothing). */
function apply(root: Raw, op: Op): void {
  const ps = allPaths(root);
  const p = ps[('at' in op ? op.at : 0) % ps.length] ?? [];
  const parent = parentOf(root, p);
  const node = p.reduce<unknown>((o, k) => (o as Raw)?.[k as string], root);
  switch (op.op) {
    case 'replace':
      if (parent) parent[0][parent[1]] = structuredClone(op.value);
      return;
    case 'delete':
      if (!parent) return;
      if (Array.isArray(parent[0])) parent[0].splice(parent[1] as number, 1);
      else delete parent[0][parent[1]];
      return;
    case 'addKey':
      if (typeof node === 'object' && node !== null && !Array.isArray(node))
        setOwn(node, op.key, structuredClone(op.value));
      return;
    case 'swapRef': {
      const pool = strings(root);
      if (parent && typeof node === 'string' && pool.length)
        parent[0][parent[1]] = pool[op.pick % pool.length];
      return;
    }
    case 'nudge':
      if (parent && typeof node === 'number') parent[0][parent[1]] = node + op.by;
      return;
    case 'dupItem':
      if (Array.isArray(node) && node.length) node.push(structuredClone(node[0]));
      return;
    case 'dropItem':
      if (Array.isArray(node) && node.length) node.pop();
      return;
    case 'addThread': {
      // A new thread of any path on the scenario's own mms and files: what a generator would add.
      const mms = Array.isArray(root.mms) ? (root.mms as Raw[]) : [];
      const files = Array.isArray(root.files) ? (root.files as Raw[]) : [];
      if (!Array.isArray(root.threads)) return;
      const addr = { pmd: op.pmd, pte: op.pte };
      const t: Raw = {
        name: `gen${root.threads.length}`,
        path: op.path,
        mm: mms[op.pick % Math.max(1, mms.length)]?.id,
        file: files[op.pick % Math.max(1, files.length)]?.id,
        addr,
        addrs: [addr],
        pmd: op.pmd,
        write: op.flag,
        fault: op.flag,
      };
      // Keep only the arguments this path takes (its schema is strict).
      const shape =
        (PATHS[op.path]?.args as unknown as { shape?: Record<string, unknown> } | undefined)
          ?.shape ?? {};
      for (const k of Object.keys(t))
        if (k !== 'name' && k !== 'path' && !(k in shape)) delete t[k];
      root.threads.push(t);
      return;
    }
  }
}

describe('scenario loader fuzz', () => {
  it('every catalogue edit, alone and on top of another, on every suite scenario: refused as expected', () => {
    const t = tally();
    for (const { file, raw } of SUITE)
      for (const e of INVALID_EDITS) {
        const s = structuredClone(raw);
        if (!e.edit(s)) continue;
        judge(t, `${file} / ${e.name}`, file, () => parseScenario(edited(s), file), e.expect);
      }
    // Two edits: still refused (whichever rule is reported first).
    fc.assert(
      fc.property(
        fc.nat({ max: SUITE.length - 1 }),
        fc.nat({ max: INVALID_EDITS.length - 1 }),
        fc.nat({ max: INVALID_EDITS.length - 1 }),
        (si, a, b) => {
          const { file, raw } = SUITE[si] as (typeof SUITE)[number];
          const s = structuredClone(raw);
          const ea = INVALID_EDITS[a];
          const eb = INVALID_EDITS[b];
          if (!ea?.edit(s) || '__replace' in s) return;
          try {
            eb?.edit(s);
          } catch {
            // The second edit did not fit what the first left (test code, not the loader).
          }
          judge(
            t,
            `${file} / ${ea.name} + ${eb?.name}`,
            file,
            () => parseScenario(edited(s), file),
            /./,
          );
        },
      ),
      { seed: 0x5ce7a210, numRuns: 600 },
    );
    report('catalogue', t);
    expectClean(t);
    expect(t.generated).toBeGreaterThan(1000);
  }, 60_000);

  it('random structural corruption: a clear refusal, or a valid scenario that runs without crashing', () => {
    const t = tally();
    fc.assert(
      fc.property(
        fc.nat({ max: SUITE.length - 1 }),
        fc.array(opArb, { minLength: 1, maxLength: 3 }),
        (si, ops) => {
          const { file, raw } = SUITE[si] as (typeof SUITE)[number];
          const s = structuredClone(raw);
          for (const op of ops) apply(s, op);
          judge(t, `${file} / ${JSON.stringify(ops).slice(0, 200)}`, file, () =>
            parseScenario(s, file),
          );
        },
      ),
      { seed: 0xf022, numRuns: 1500 },
    );
    report('structural', t);
    expectClean(t);
    expect(t.refused).toBeGreaterThan(0);
    expect(t.runsPassed + t.runsWithFinding).toBeGreaterThan(0);
  }, 60_000);

  it('random corruption of the file text: a clear refusal naming the file, or a valid scenario', () => {
    const t = tally();
    const dir = mkdtempSync(join(tmpdir(), 'ptlab-fuzz-'));
    let n = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: SUITE.length - 1 }),
        fc.oneof(
          fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
          fc.record({
            kind: fc.constant('insert' as const),
            at: fc.nat(),
            text: fc.oneof(
              fc.constantFrom(
                '\uFEFF',
                '\u0000',
                '\u200B',
                '"',
                ',',
                '{',
                ']',
                '\\',
                '\uD800',
                ' ',
              ),
              fc.string({ unit: 'binary', maxLength: 3 }),
            ),
          }),
          fc.record({ kind: fc.constant('bom' as const), at: fc.constant(0) }),
          fc.record({
            kind: fc.constant('bytes' as const),
            at: fc.nat(),
            byte: fc.integer({ min: 0x80, max: 0xff }),
          }),
        ),
        (si, m) => {
          const { file, raw } = SUITE[si] as (typeof SUITE)[number];
          const text = JSON.stringify(raw, null, 2);
          const at = m.at % (text.length + 1);
          const path = join(dir, `${n++}-${file}`);
          if (m.kind === 'bytes') {
            const b = Buffer.from(text, 'utf8');
            b[at % b.length] = m.byte;
            writeFileSync(path, b);
          } else
            writeFileSync(
              path,
              m.kind === 'truncate'
                ? text.slice(0, at)
                : m.kind === 'bom'
                  ? `\uFEFF${text}`
                  : text.slice(0, at) + m.text + text.slice(at),
            );
          judge(t, `${file} / ${JSON.stringify(m)}`, path, () => loadScenarioFile(path));
        },
      ),
      { seed: 0x7e47, numRuns: 400 },
    );
    report('text', t);
    expectClean(t);
    expect(t.refused).toBeGreaterThan(0);
  }, 60_000);
});
