import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { schemaFiles } from '../src/schema-files.js';
import { cli } from './helpers/cli.js';
import { valid } from './helpers/schemas.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-schemas-'));
describe('JSON Schema files', () => {
  it('are the ones the zod schemas generate (pnpm --filter @ptlab/cli schemas)', () => {
    // Compared as JSON: the committed files are laid out by the repository's formatter.
    for (const f of schemaFiles())
      expect(JSON.parse(readFileSync(f.path, 'utf8')), f.path).toEqual(JSON.parse(f.text));
  });

  it('are shipped: each package lists schemas/ in its files', () => {
    for (const p of ['../package.json', '../../../packages/explore/package.json'])
      expect(JSON.parse(readFileSync(join(__dirname, p), 'utf8')).files).toContain('schemas');
  });
});

describe('real outputs validate against their schemas', () => {
  const trace = join(tmp, 't.json');
  let failJson: unknown;

  beforeAll(async () => {
    const r = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--mutant',
      'retract-frees-immediately',
      '--strategy',
      'random',
      '--schedules',
      '200',
      '--seed',
      '7',
      '--json',
      '--trace-out',
      trace,
    );
    expect(r.code).toBe(1);
    failJson = JSON.parse(r.out);
  }, 60_000);

  it('list --json', async () => {
    const r = await cli('list', '--json');
    expect(valid('list', JSON.parse(r.out))).toBe('valid');
  });

  it('check --json: fail, pass and n/a', async () => {
    expect(valid('check', failJson)).toBe('valid');
    const pass = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--schedules',
      '20',
      '--json',
    );
    expect(valid('check', JSON.parse(pass.out))).toBe('valid');
    const na = await cli(
      'check',
      '--arch',
      'sparc32',
      '--scenario',
      'hugetlb-walk-balance',
      '--json',
    );
    expect(JSON.parse(na.out).result).toBe('n/a');
    expect(valid('check', JSON.parse(na.out))).toBe('valid');
  }, 60_000);

  it('a trace file', () => {
    expect(valid('trace', JSON.parse(readFileSync(trace, 'utf8')))).toBe('valid');
  });

  it('a conformance report', async () => {
    const json = join(tmp, 'c.json');
    const r = await cli(
      'conformance',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-exit',
      '--scenario',
      'torn-pmd-read',
      '--workers',
      '0',
      '--json',
      json,
      '--traces',
      join(tmp, 'traces'),
      '--no-progress',
    );
    expect(r.err).not.toMatch(/does not match its schema/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.interrupted).toBeNull();
    // Every verdict the report can hold shows up: verified, n/a, killed and not-killed mutants.
    expect(j.cells.map((c: { verdict: string }) => c.verdict).sort()).toEqual(['n/a', 'verified']);
    expect(j.mutants.some((m: { verdict: string }) => m.verdict === 'killed')).toBe(true);
    expect(valid('report', j)).toBe('valid');
    expect(valid('report', { ...j, interrupted: undefined })).toMatch(/interrupted/);
  }, 120_000);

  it('and a schema refuses what is not its shape (the validation can fail)', () => {
    const j = failJson as Record<string, unknown>;
    const { story: _s, ...noStory } = j;
    expect(valid('check', noStory)).toMatch(/story|oneOf|must/);
    expect(valid('trace', { ...JSON.parse(readFileSync(trace, 'utf8')), extra: 1 })).toMatch(
      /additional/,
    );
    expect(valid('list', { archConfigs: [] })).toMatch(/scenarios/);
  });
});
