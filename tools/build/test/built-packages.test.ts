/**
 * The built packages (dist/, every `yield* f(...)` flattened by the build)
 * and their TypeScript sources (the paths as written) reach the same verdicts
 * with the same executions, steps and findings, cell for cell: the rewrite
 * changes how a task resumes its call chain, never what it does. The dist/
 * compared is whatever `pnpm install` (its prepare script) or `pnpm build`
 * last built.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');

const cells = (source: boolean): unknown[] =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [...(source ? ['--conditions=source', '--import', 'tsx'] : []), 'fixtures/cells.mjs'],
      { cwd: here, encoding: 'utf8', timeout: 120_000 },
    ),
  ) as unknown[];

describe('the built packages against their sources', () => {
  it('the built kernel paths are flattened: no yield* is left in their code', () => {
    for (const pkg of ['core', 'mm', 'arch-x86', 'arch-powerpc', 'arch-s390']) {
      const js = readFileSync(join(repo, 'packages', pkg, 'dist', 'index.js'), 'utf8');
      const code = js.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, `packages/${pkg}/dist/index.js (run pnpm build?)`).not.toMatch(/yield\s*\*/);
    }
  });

  it('every built-in config and arch mutant reaches the same verdict in the same executions and steps', () => {
    const [built, source] = [cells(false), cells(true)];
    expect(built.length).toBe(100);
    expect(built, 'dist/ differs from src/: run pnpm build, then compare').toEqual(source);
    const results = new Set(built.map((c) => (c as { result: string }).result));
    expect([...results].sort()).toEqual(['fail', 'n/a', 'pass']);
  }, 150_000);
});
