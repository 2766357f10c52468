import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarios } from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { type RunOptionsIdentity, runIdentity } from '../src/identity.js';
import { openJournal } from '../src/journal.js';
import { planConformance } from '../src/plan.js';
import { builtinPorts } from '../src/registry.js';
import { type ConformanceReport, type UnitRecord, untimed } from '../src/report.js';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-journal-'));
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describe('openJournal', () => {
  const plan = planConformance(builtinPorts(), loadScenarios().scenarios, {
    archs: ['x86-64'],
    seed: 1,
    mutants: false,
    allMutantCells: false,
  });
  const options: RunOptionsIdentity = {
    seed: 1,
    archs: ['x86-64'],
    scenarios: [],
    scenarioDirs: [],
    archModules: [],
    mutants: false,
    allMutantCells: false,
    splitAbove: 10_000_000,
    tracesDir: '.ptlab/traces',
    cellTimeoutMs: 120_000,
    cellMemoryMb: 2048,
    shard: null,
  };
  const id = runIdentity(plan, options, plan.units.length);
  const rec = (i: number, error = false): UnitRecord => {
    const u = plan.units[i];
    if (!u) throw new Error('no unit');
    return {
      unit: u.index,
      key: u.key,
      cells: [
        {
          arch: u.config.id,
          scenario: u.scenario?.id ?? '',
          mutant: null,
          result: error ? 'fail' : 'pass',
          verdict: error ? 'error' : 'verified',
          ...(error ? { error: { code: 'E_INTERNAL', message: 'child died' } } : {}),
          schedules: 3,
          steps: 30,
          elapsedMs: 1.5,
        },
      ],
    };
  };
  let n = 0;
  const fresh = () => join(tmp, `j${n++}.jsonl`);

  it('starts a journal, and reads back every unit appended to it', () => {
    const f = fresh();
    const j = openJournal(f, id, plan.units);
    expect(j.done.size).toBe(0);
    j.append(rec(0), []);
    j.append(rec(2), [{ path: join(tmp, 'tr.json'), trace: { x: 1 } }]);
    j.close();
    const k = openJournal(f, id, plan.units);
    k.close();
    expect([...k.done.keys()]).toEqual([0, 2]);
    expect(k.done.get(2)).toEqual(rec(2));
    expect(k.traces).toEqual([{ path: join(tmp, 'tr.json'), trace: { x: 1 } }]);
    expect(k.notes).toEqual([]);
  });

  it('drops a torn last line, says so, and appends after the last whole line', () => {
    const f = fresh();
    const j = openJournal(f, id, plan.units);
    j.append(rec(0), []);
    j.close();
    const whole = readFileSync(f, 'utf8');
    appendFileSync(f, JSON.stringify(rec(1)).slice(0, 40));
    const k = openJournal(f, id, plan.units);
    expect(k.notes.join('\n')).toMatch(/last line is torn \(40 bytes, not complete JSON/);
    expect([...k.done.keys()]).toEqual([0]);
    k.append(rec(1), []);
    k.close();
    expect(readFileSync(f, 'utf8')).toBe(`${whole}${JSON.stringify(rec(1))}\n`);
    // A whole record without its newline is torn too (its unit runs again).
    appendFileSync(f, JSON.stringify(rec(3)));
    const m = openJournal(f, id, plan.units);
    m.close();
    expect(m.notes.join('\n')).toMatch(/no newline at its end/);
    expect(m.done.has(3)).toBe(false);
  });

  it('runs a unit that could not run again, and takes its later record', () => {
    const f = fresh();
    const j = openJournal(f, id, plan.units);
    j.append(rec(0, true), []);
    j.close();
    const k = openJournal(f, id, plan.units);
    expect(k.done.has(0)).toBe(false);
    expect(k.retried).toBe(1);
    k.append(rec(0), []);
    k.close();
    const m = openJournal(f, id, plan.units);
    m.close();
    expect(m.done.get(0)).toEqual(rec(0));
    expect(m.retried).toBe(0);
  });

  it('refuses a damaged line before the last, a unit twice, and a unit of another plan', () => {
    const f = fresh();
    const j = openJournal(f, id, plan.units);
    j.append(rec(0), []);
    j.close();
    const good = readFileSync(f, 'utf8');
    writeFileSync(f, `${good}{"unit": 1,\n${JSON.stringify(rec(2))}\n`);
    expect(() => openJournal(f, id, plan.units)).toThrow(
      /line 3 is not JSON; the journal is damaged/,
    );
    writeFileSync(f, `${good}${JSON.stringify({ ...rec(1), cells: [{ arch: 1 }] })}\n`);
    expect(() => openJournal(f, id, plan.units)).toThrow(
      /line 3 is not a unit record \(at cells\.0/,
    );
    writeFileSync(f, `${good}${JSON.stringify(rec(0))}\n`);
    expect(() => openJournal(f, id, plan.units)).toThrow(/line 3 records unit .* a second time/);
    writeFileSync(f, `${good}${JSON.stringify({ ...rec(1), key: '["clean","x86-64","nope"]' })}\n`);
    expect(() => openJournal(f, id, plan.units)).toThrow(/not a unit of this run/);
  });

  it('refuses a journal of other options or other code, naming what differs, and leaves it as it was', () => {
    const f = fresh();
    openJournal(f, id, plan.units).close();
    const before = readFileSync(f, 'utf8');
    const other = runIdentity(plan, { ...options, seed: 7 }, plan.units.length);
    expect(() => openJournal(f, other, plan.units)).toThrow(
      /comes from a different run: --seed: 1 in the journal, 7 in this run/,
    );
    const code = { ...id, code: { ...id.code, sha256: 'f'.repeat(64) } };
    expect(() => openJournal(f, code, plan.units)).toThrow(/other code/);
    expect(readFileSync(f, 'utf8')).toBe(before);
    // A file that is not a journal at all is not touched.
    const report = join(tmp, 'report.json');
    writeFileSync(report, '{\n  "ptlab": 2\n}\n');
    expect(() => openJournal(report, id, plan.units)).toThrow(/not a ptlab journal/);
    expect(readFileSync(report, 'utf8')).toBe('{\n  "ptlab": 2\n}\n');
    // Nowhere to write it: said so, not a crash.
    expect(() => openJournal(join(tmp, 'no/such/dir/j.jsonl'), id, plan.units)).toThrow(
      /cannot write it: ENOENT/,
    );
  });
});

const SUBSET = [
  'conformance',
  '--arch',
  'x86-32-pae',
  '--arch',
  'x86-64',
  '--scenario',
  'retract-vs-exit',
  '--workers',
  '0',
  '--no-progress',
  '--traces',
  join(tmp, 'traces'),
];

describe('--resume after SIGKILL', () => {
  it('skips the journaled units and ends with the report of an uninterrupted run', async () => {
    const journal = join(tmp, 'run.jsonl');
    const p = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(__dirname, '../src/bin.ts'),
        ...SUBSET,
        '--json',
        join(tmp, 'killed.json'),
        '--resume',
        journal,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: join(__dirname, '../../..') },
    );
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => p.on('exit', (_c, s) => r(s)));
    const records = () =>
      existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').length - 2 : 0;
    // Kill it once a few units are journaled.
    while (records() < 4 && p.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    p.kill('SIGKILL');
    expect(await exited, err).toBe('SIGKILL');
    const kept = records();
    expect(kept).toBeGreaterThanOrEqual(4);
    expect(existsSync(join(tmp, 'killed.json'))).toBe(false);
    // As if it had died in the middle of writing the next record.
    appendFileSync(journal, '{"unit":31,"key":"[\\"mut');

    const resumed = await cli(...SUBSET, '--json', join(tmp, 'resumed.json'), '--resume', journal);
    expect(resumed.err).toMatch(/last line is torn \(\d+ bytes, not complete JSON/);
    expect(resumed.err).toMatch(
      new RegExp(`resuming from .*run\\.jsonl: ${kept}/\\d+ units already done`),
    );
    const whole = await cli(...SUBSET, '--json', join(tmp, 'whole.json'));
    expect(resumed.code).toBe(whole.code);
    const a = readJson(join(tmp, 'resumed.json')) as ConformanceReport;
    const b = readJson(join(tmp, 'whole.json')) as ConformanceReport;
    expect(JSON.stringify(untimed(a), null, 2)).toBe(JSON.stringify(untimed(b), null, 2));
    // The journal now holds every unit once; resuming again runs nothing.
    const again = await cli(...SUBSET, '--resume', journal);
    expect(again.err).toMatch(/(\d+)\/\1 units already done/);
    expect(again.code).toBe(whole.code);

    // Other options: refused with exit 2, the journal untouched.
    const before = readFileSync(journal, 'utf8');
    const other = await cli(...SUBSET, '--seed', '2', '--resume', journal);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/--seed: 1 in the journal, 2 in this run/);
    expect(readFileSync(journal, 'utf8')).toBe(before);
  }, 600_000);
});
