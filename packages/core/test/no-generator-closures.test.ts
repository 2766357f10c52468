/**
 * Kernel code (core, mm, the arch ports, conformance's scenario paths) runs its
 * bodies as named generator functions, never as anonymous generator closures (`(function* () {...})()`, `function* (c) {...}`
 * as a callback): on Node 20, once a generator closure has run, old space keeps
 * it, its context and through `ctx` the whole kernel reachable until the next
 * full GC, so every execution's kernel is copied to old space (pgtable.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Anonymous generator function expressions in `source` (comments and strings left out), by line. */
export function generatorClosures(source: string): number[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, (m) =>
      m.replace(/[^\n]/g, ' '),
    );
  const lines: number[] = [];
  code.split('\n').forEach((l, i) => {
    if (/function\s*\*\s*\(/.test(l)) lines.push(i + 1);
  });
  return lines;
}

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

  // Every source directory whose generators run inside an execution's tasks.
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

  it('looks at core, mm, every arch port and the scenario paths', () => {
    expect(dirs.filter((d) => d.startsWith('packages/arch-')).length).toBeGreaterThanOrEqual(6);
    for (const d of dirs) expect(tsFiles(join(root, d)).length, d).toBeGreaterThan(0);
  });

  for (const d of dirs)
    it(`${d} has none`, () => {
      const found: string[] = [];
      for (const f of tsFiles(join(root, d)))
        for (const line of generatorClosures(readFileSync(join(root, d, f), 'utf8')))
          found.push(`${f}:${line}`);
      expect(found).toEqual([]);
    });
});

/** The .ts files under `dir`, as paths relative to it. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort();
}
