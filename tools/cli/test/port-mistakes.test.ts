/**
 * A porter's mistakes (fixtures/mistakes): each is reported by the CLI as an
 * error or a finding that names the arch module and says what went wrong,
 * never as ptlab's internal error (exit 3), in the commands that load it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchModuleError, BugFound } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { jobError } from '../src/jobs.js';
import { openModule } from '../src/modules.js';
import { modulePort } from '../src/registry.js';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-mistakes-'));
const fixture = (name: string) => join(__dirname, 'fixtures', 'mistakes', `${name}.mjs`);
const SCENARIO = 'retract-vs-lockless-walkers';
/** The line of the fixture's `throw`. */
const THROW_LINE =
  readFileSync(fixture('throw-in-hook'), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('throw new TypeError')) + 1;
const LIMITS = ['--cell-timeout', '60000', '--cell-memory', '512'] as const;

const check = (name: string) =>
  cli(
    'check',
    '--arch-module',
    fixture(name),
    '--arch',
    `mistake-${name}`,
    '--scenario',
    SCENARIO,
    '--schedules',
    '20',
    ...LIMITS,
  );
async function conformance(name: string) {
  const json = join(tmp, `${name}.json`);
  const r = await cli(
    'conformance',
    '--arch-module',
    fixture(name),
    '--scenario',
    SCENARIO,
    '--no-mutants',
    '--workers',
    '1',
    '--no-progress',
    '--traces',
    join(tmp, name),
    '--json',
    json,
    ...LIMITS,
  );
  return { ...r, report: r.code === 1 ? JSON.parse(readFileSync(json, 'utf8')) : null };
}

describe.concurrent('a port mistake names the module and what went wrong', () => {
  it('a table handed out without registering it: bogus-pmd, in check and conformance', async () => {
    const c = await check('forgot-registration');
    expect(c.code, c.text).toBe(2);
    expect(c.text).toContain(`ptlab: arch module ${fixture('forgot-registration')}: bogus-pmd:`);
    expect(c.text).toContain('which is no page table');
    const r = await conformance('forgot-registration');
    expect(r.code, r.text).toBe(1);
    const cell = r.report.cells[0];
    expect(cell.verdict).toBe('error');
    expect(cell.error.code).toBe('E_ARCH_MODULE');
    expect(cell.reason).toContain(`arch module ${fixture('forgot-registration')}: bogus-pmd:`);
  }, 60_000);

  it('a hook that throws: its error, its type and where it was thrown', async () => {
    const c = await check('throw-in-hook');
    expect(c.code, c.text).toBe(2);
    expect(c.text).toMatch(
      new RegExp(
        `ptlab: arch module .*throw-in-hook\\.mjs: TypeError: pte_free_defer is not finished yet \\(thrown at .*throw-in-hook\\.mjs:${THROW_LINE}\\)`,
      ),
    );
    const r = await conformance('throw-in-hook');
    expect(r.code, r.text).toBe(1);
    const cell = r.report.cells[0];
    expect(cell.verdict).toBe('error');
    expect(cell.error.code).toBe('E_ARCH_MODULE');
    expect(cell.reason).toMatch(
      new RegExp(
        `TypeError: pte_free_defer is not finished yet \\(thrown at .*throw-in-hook\\.mjs:${THROW_LINE}\\)`,
      ),
    );
  }, 60_000);

  it('a variant declaring a check that does not exist: refused before anything runs', async () => {
    for (const r of [
      await cli('list', '--arch-module', fixture('misspelt-check'), ...LIMITS),
      await check('misspelt-check'),
      await conformance('misspelt-check'),
    ]) {
      expect(r.code, r.text).toBe(2);
      expect(r.text).toContain(
        `ptlab: arch module ${fixture('misspelt-check')}: ArchPort mistake-misspelt-check: variant mistake-misspelt-check-free-at-once: checks names "use-after-fre", which is no check`,
      );
      expect(r.text).not.toMatch(/internal error/);
    }
  }, 60_000);

  it("a module variant's declared checks reach the CLI (a kill by another check is no kill)", async () => {
    const m = await openModule(fixture('killed-by-another-check'), {
      cellTimeoutMs: 60_000,
      cellMemoryMb: 512,
    });
    m.child.kill();
    expect(m.port.port.variants.map((v) => v.checks)).toEqual([['double-free']]);
  }, 60_000);
});

describe('what the CLI takes from a child is validated again', () => {
  const ref = { spec: './nonsense.mjs', entry: '/nonsense.mjs', sha256: '0'.repeat(64) };
  it('nonsense is refused naming the module, a valid description passes', () => {
    for (const info of [null, { arch: 'x' }, { arch: 'x', configs: [{ id: 'x-1' }], variants: [] }])
      expect(() => modulePort(info as never, ref)).toThrow(ArchModuleError);
    expect(() => modulePort({ arch: 'x', configs: 'all', variants: [] } as never, ref)).toThrow(
      /\[\.\/nonsense\.mjs\] ArchPort x: configs must be a non-empty array/,
    );
  });
});

describe("jobError: an error that is not ptlab's", () => {
  it('gets the foreign code, its type and where it was thrown; a finding keeps its text', () => {
    const e = new TypeError('boom');
    const j = jobError(e, 'E_ARCH_MODULE');
    expect(j.code).toBe('E_ARCH_MODULE');
    expect(j.message).toMatch(/^TypeError: boom \(thrown at .*port-mistakes\.test\.ts:\d+\)$/);
    expect(jobError(new ArchModuleError('m', 'refused'), 'E_ARCH_MODULE')).toEqual({
      code: 'E_ARCH_MODULE',
      message: '[m] refused',
    });
    expect(jobError('a string', 'E_INTERNAL')).toEqual({ code: 'E_INTERNAL', message: 'a string' });
    expect(jobError(new BugFound('bogus-pmd', 'no page table'), 'E_ARCH_MODULE')).toEqual({
      code: 'E_ARCH_MODULE',
      message: 'bogus-pmd: no page table',
    });
  });
});
