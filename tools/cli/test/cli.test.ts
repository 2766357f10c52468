import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/main.js';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-cli-'));
const fixture = (name: string) => join(__dirname, 'fixtures', name);

describe('ptlab list', () => {
  it('--json has archConfigs, scenarios, mutants and checks with id and description', async () => {
    const r = await cli('list', '--json');
    expect(r.code).toBe(0);
    const l = JSON.parse(r.out);
    for (const k of ['archConfigs', 'scenarios', 'mutants', 'checks']) {
      expect(Array.isArray(l[k]) && l[k].length > 0).toBe(true);
      for (const e of l[k])
        expect(typeof e.id === 'string' && typeof e.description === 'string').toBe(true);
    }
    expect(l.archConfigs.map((c: { id: string }) => c.id)).toContain('x86-64');
  });
});

describe('ptlab check', () => {
  it('exits 0 and reports the required JSON fields on a pass', async () => {
    const r = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--schedules',
      '30',
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of [
      'arch',
      'scenario',
      'mutant',
      'strategy',
      'seed',
      'schedules',
      'steps',
      'elapsedMs',
      'result',
    ])
      expect(j).toHaveProperty(k);
    expect(j.result).toBe('pass');
  });

  it('exits 1 with a finding (check, message, trace) on a mutant, and the same seed gives the same trace twice', async () => {
    const args = [
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
    ];
    const a = await cli(...args);
    const b = await cli(...args);
    expect(a.code).toBe(1);
    const j = JSON.parse(a.out);
    expect(j.result).toBe('fail');
    expect(j.finding.check).toBe('use-after-free');
    expect(j.finding.message).toMatch(/freed/);
    expect(JSON.stringify(j.finding.trace)).toBe(JSON.stringify(JSON.parse(b.out).finding.trace));
  });

  it('exits 2 on bad usage, naming what is wrong', async () => {
    expect(
      (await cli('check', '--arch', 'vax-780', '--scenario', 'retract-vs-lockless-walkers')).err,
    ).toMatch(/unknown arch config "vax-780"/);
    expect((await cli('check', '--arch', 'vax-780', '--scenario', 'x')).code).toBe(2);
    const r = await cli('check', '--arch', 'x86-64', '--scenario', 'no-such-scenario');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown scenario "no-such-scenario"/);
    expect(
      (
        await cli(
          'check',
          '--arch',
          'x86-64',
          '--scenario',
          'retract-vs-lockless-walkers',
          '--strategy',
          'magic',
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await cli(
          'check',
          '--arch',
          'x86-64',
          '--scenario',
          'retract-vs-lockless-walkers',
          '--mutant',
          'nope',
        )
      ).err,
    ).toMatch(/unknown mutant "nope"/);
  });
});

describe('ptlab replay', () => {
  const traceFile = join(tmp, 'trace.json');

  it('reproduces the finding of a written trace (exit 1)', async () => {
    const w = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--mutant',
      'pte-offset-map-without-rcu',
      '--strategy',
      'pct',
      '--schedules',
      '2000',
      '--trace-out',
      traceFile,
    );
    expect(w.code).toBe(1);
    const r = await cli('replay', traceFile);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/same finding reproduced/);
    expect(r.out).toMatch(/FINDING use-after-free/);
  });

  it('refuses files that are not valid traces (exit 2), saying why', async () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{ not json');
    expect((await cli('replay', bad)).err).toMatch(/not JSON/);
    writeFileSync(bad, JSON.stringify({ format: 'something-else' }));
    expect((await cli('replay', bad)).err).toMatch(/not a ptlab trace/);
    const t = JSON.parse(readFileSync(traceFile, 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...t, finding: { ...t.finding, message: 'edited' } }));
    const r = await cli('replay', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/digest does not match/);
    const { schedule: _s, ...noSchedule } = t;
    writeFileSync(bad, JSON.stringify(noSchedule));
    expect((await cli('replay', bad)).err).toMatch(/schedule/);
    expect((await cli('replay', join(tmp, 'missing.json'))).code).toBe(2);
  });
});

describe('ptlab conformance', () => {
  it('writes the matrix and mutants as JSON and JUnit, exit 0 when conformant', async () => {
    const json = join(tmp, 'c.json');
    const junit = join(tmp, 'c.xml');
    const r = await cli(
      'conformance',
      '--arch',
      'x86-64',
      '--workers',
      '0',
      '--json',
      json,
      '--junit',
      junit,
      '--traces',
      join(tmp, 'traces'),
      '--no-progress',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.cells.length).toBeGreaterThan(0);
    for (const c of j.cells) expect(['pass', 'fail', 'n/a']).toContain(c.result);
    for (const m of j.mutants) {
      expect(m).toHaveProperty('id');
      expect(m).toHaveProperty('killed');
      if (m.expect === 'caught') expect(m.killedBy.length).toBeGreaterThan(0);
    }
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite name="conformance"/);
    expect(j.mutantsNotRun).toContain('s390-v1-shared-rcu-head');
  }, 180_000);

  it('gives the same cells and verdicts whatever the worker count', async () => {
    const run = async (workers: string) => {
      const json = join(tmp, `w${workers}.json`);
      await cli(
        'conformance',
        '--arch',
        'x86-64',
        '--arch',
        's390-2k',
        '--scenario',
        'retract-vs-lockless-walkers',
        '--scenario',
        'sibling-tables-deferred-together',
        '--workers',
        workers,
        '--json',
        json,
        '--traces',
        join(tmp, `tw${workers}`),
        '--no-progress',
      );
      const j = JSON.parse(readFileSync(json, 'utf8'));
      return JSON.stringify([
        j.cells.map(({ elapsedMs: _e, trace: _t, ...c }: Record<string, unknown>) => c),
        j.mutants.map(
          (m: {
            id: string;
            killed: boolean;
            killedBy: { arch: string; scenario: string; check: string }[];
          }) => [m.id, m.killed, m.killedBy.map((k) => [k.arch, k.scenario, k.check])],
        ),
      ]);
    };
    expect(await run('0')).toBe(await run('2'));
  }, 120_000);

  it('reports a malformed scenario file by name and still runs the other scenarios', async () => {
    const dir = mkdtempSync(join(tmp, 'scen-'));
    const good = JSON.parse(
      readFileSync(
        join(__dirname, '../../../conformance/scenarios/retract-vs-lockless-walkers.json'),
        'utf8',
      ),
    );
    writeFileSync(join(dir, 'good.json'), JSON.stringify(good));
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ ...good, id: 'Bad Id', threads: [{ name: 'x', path: 'no_such_path' }] }),
    );
    writeFileSync(join(dir, 'broken.json'), '{ "id": ');
    const json = join(tmp, 'scen.json');
    const r = await cli(
      'conformance',
      '--arch',
      'x86-64',
      '--scenario-dir',
      dir,
      '--no-mutants',
      '--workers',
      '0',
      '--json',
      json,
      '--traces',
      join(tmp, 'ts'),
      '--no-progress',
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/bad\.json.*(id|path)/);
    expect(r.out).toMatch(/broken\.json.*not JSON/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.cells).toEqual([
      expect.objectContaining({
        arch: 'x86-64',
        scenario: 'retract-vs-lockless-walkers',
        result: 'pass',
      }),
    ]);
    expect(j.scenarioErrors.length).toBe(2);
  }, 60_000);

  it('reports a throwing arch module by name and still runs the rest', async () => {
    const r = await cli(
      'conformance',
      '--arch-module',
      fixture('throwing-arch.ts'),
      '--workers',
      '0',
      '--no-mutants',
      '--no-progress',
      '--traces',
      join(tmp, 't2'),
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/this port is broken on purpose/);
    expect(r.out).toMatch(/FAIL/);
  });

  it('refuses an arch module that is not an ArchPort (exit 2)', async () => {
    const r = await cli(
      'conformance',
      '--arch-module',
      fixture('nonsense-arch.ts'),
      '--no-progress',
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/PTRS_PER_PTE must be a positive integer/);
  });

  it('stops a looping arch module at the cell timeout and reports it', async () => {
    const json = join(tmp, 'loop.json');
    const r = await cli(
      'conformance',
      '--arch-module',
      fixture('looping-arch.ts'),
      '--workers',
      '1',
      '--cell-timeout',
      '3000',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--no-mutants',
      '--no-progress',
      '--json',
      json,
      '--traces',
      join(tmp, 't3'),
    );
    expect(r.code).toBe(1);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(
      j.cells.every((c: { error?: { code: string } }) => c.error?.code === 'E_ARCH_TIMEOUT'),
    ).toBe(true);
  }, 60_000);
});
