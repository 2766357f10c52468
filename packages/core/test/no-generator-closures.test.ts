/**
 * Kernel code in core runs its bodies as named generator functions, never as
 * anonymous generator closures (`(function* () {...})()`, `function* (c) {...}`
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

describe('no generator closures in core', () => {
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

  it('packages/core/src has none', () => {
    const dir = join(import.meta.dirname, '..', 'src');
    const found: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts')))
      for (const line of generatorClosures(readFileSync(join(dir, f), 'utf8')))
        found.push(`${f}:${line}`);
    expect(found).toEqual([]);
  });
});
