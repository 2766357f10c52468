/**
 * Two shapes kernel code (core, mm, the arch ports, conformance's scenario
 * paths) keeps, both because of what they do to the garbage collector, where
 * a search boots a kernel per execution:
 *  - bodies are named generator functions, never anonymous generator closures
 *    (`(function* () {...})()`, `function* (c) {...}` as a callback): on
 *    Node 20, once a generator closure has run, old space keeps it, its
 *    context and through `ctx` the whole kernel reachable until the next full
 *    GC, so every execution's kernel is copied to old space (pgtable.ts);
 *  - no WeakMap, WeakSet or WeakRef: kernel objects are what they would be
 *    keyed by, and an entry per execution makes every young GC treat each dead
 *    kernel as an ephemeron. One WeakMap keyed by kernels (the stale-TLB
 *    check's leaf clears) cost the bench workload 26-35% of its speed. State a
 *    check keeps about an object is a field of that object.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** `source` with comments and strings blanked out, line breaks kept. */
function codeOf(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, (m) =>
      m.replace(/[^\n]/g, ' '),
    );
}

/** The lines of `source` whose code matches `re`. */
function linesMatching(source: string, re: RegExp): number[] {
  const lines: number[] = [];
  codeOf(source)
    .split('\n')
    .forEach((l, i) => {
      if (re.test(l)) lines.push(i + 1);
    });
  return lines;
}

/** Anonymous generator function expressions in `source` (comments and strings left out), by line. */
export function generatorClosures(source: string): number[] {
  return linesMatching(source, /function\s*\*\s*\(/);
}

/** Weak collections made in `source` (comments and strings left out), by line. */
export function weakCollections(source: string): number[] {
  return linesMatching(source, /\bnew\s+Weak(Map|Set|Ref)\b/);
}

// Every source directory whose code runs inside an execution's tasks.
const root = join(import.meta.dirname, '..', '..', '..');
const dirs = [
  'packages/core/src',
  'packages/mm/src',
  ...readdirSync(join(root, 'packages'))
    .filter((d) => d.startsWith('arch-'))
    .sort()
    .map((d) => `packages/${d}/src`),
  'conformance/src/paths',
];

describe('no generator closures in kernel code', () => {
  it('finds an anonymous generator expression, and not a named generator, a method or a comment', () => {
    expect(generatorClosures('yield* ctx.call("x", (function* () {\n yield 1;\n})());')).toEqual([
      1,
    ]);
    expect(generatorClosures('callRcu(ctx, h, "cb", function*(c) { yield c; });')).toEqual([1]);
    expect(
      generatorClosures(
        'function* named(ctx) {}\nclass A { *gen() {} }\n// (function* () {})()\nconst s = "function* (";',
      ),
    ).toEqual([]);
  });

  it('looks at core, mm, every arch port and the scenario paths', () => {
    expect(dirs.filter((d) => d.startsWith('packages/arch-')).length).toBeGreaterThanOrEqual(6);
    for (const d of dirs) expect(tsFiles(join(root, d)).length, d).toBeGreaterThan(0);
  });

  for (const d of dirs) it(`${d} has none`, () => expect(found(d, generatorClosures)).toEqual([]));
});

describe('no weak collections in kernel code', () => {
  it('finds a WeakMap, a WeakSet and a WeakRef made, and not one named in a comment or a string', () => {
    expect(
      weakCollections(
        'const a = new WeakMap<Kernel, X>();\nconst b = new WeakSet();\nnew WeakRef(k);',
      ),
    ).toEqual([1, 2, 3]);
    expect(
      weakCollections('// new WeakMap()\nconst s = "new WeakSet()";\nconst m = new Map();'),
    ).toEqual([]);
  });

  for (const d of dirs) it(`${d} has none`, () => expect(found(d, weakCollections)).toEqual([]));
});

/** Where `find` finds something in the .ts files of `dir` (relative to the repository), as file:line. */
function found(dir: string, find: (source: string) => number[]): string[] {
  const out: string[] = [];
  for (const f of tsFiles(join(root, dir)))
    for (const line of find(readFileSync(join(root, dir, f), 'utf8'))) out.push(`${f}:${line}`);
  return out;
}

/** The .ts files under `dir`, as paths relative to it. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort();
}
