import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { valid } from './helpers/schemas.js';

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
      if (m.expect === 'caught' && m.verdict !== 'not-run')
        expect(m.kills.length).toBeGreaterThan(0);
    }
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite name="conformance"/);
    expect(j.mutants.find((m: { id: string }) => m.id === 's390-v1-shared-rcu-head').verdict).toBe(
      'not-run',
    );
    expect(valid('report', j)).toBe('valid');
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
        'retract-vs-fault',
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
            verdict: string;
            kills: { arch: string; scenario: string; check: string }[];
          }) => [m.id, m.verdict, m.kills.map((k) => [k.arch, k.scenario, k.check])],
        ),
      ]);
    };
    expect(await run('0')).toBe(await run('2'));
  }, 300_000);

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

describe('papercuts', () => {
  it('--version prints the package version', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')).version,
    );
  });

  it('errors have one prefix and say "did you mean" for arch, scenario and mutant ids', async () => {
    const a = await cli('check', '--arch', 'x86-46', '--scenario', 'retract-vs-lockless-walkers');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/^ptlab: unknown arch config "x86-46" \(did you mean "x86-64"\?\)/);
    expect(a.err).not.toMatch(/\[ptlab\]/);
    const s = await cli('check', '--arch', 'x86-64', '--scenario', 'retract-vs-lockless-walker');
    expect(s.err).toMatch(/did you mean "retract-vs-lockless-walkers"/);
    const m = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--mutant',
      'retract-frees-immediatly',
    );
    expect(m.err).toMatch(/did you mean "retract-frees-immediately"/);
    const c = await cli('conformance', '--arch', 's390-2kk', '--no-progress');
    expect(c.err).toMatch(/did you mean "s390-2k"/);
    // Nothing close: no guess, just the list.
    const far = await cli('check', '--arch', 'vax-780', '--scenario', 'x');
    expect(far.err).not.toMatch(/did you mean/);
  });

  it('check and replay show why scenario files failed to load', async () => {
    const dir = mkdtempSync(join(tmp, 'broken-'));
    writeFileSync(join(dir, 'broken.json'), '{ "id": ');
    const r = await cli('check', '--arch', 'x86-64', '--scenario', 'broken', '--scenario-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/1 scenario file\(s\) could not be loaded/);
    expect(r.err).toMatch(/broken\.json.*not JSON/);
  });
});

describe('colour', () => {
  it('only on a TTY, never with NO_COLOR, always with FORCE_COLOR', async () => {
    const { colourEnabled } = await import('../src/output.js');
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});

describe('--arch-module resolution (reads files, runs nothing)', () => {
  it('takes a file, a package directory, or an installed package name', async () => {
    const { resolveArchModule } = await import('../src/resolve-module.js');
    const root = mkdtempSync(join(tmp, 'resolve-'));
    const pkg = join(root, 'node_modules', '@acme', 'arch-foo');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: '@acme/arch-foo', exports: { '.': { import: './dist/index.js' } } }),
    );
    writeFileSync(join(pkg, 'dist', 'index.js'), 'throw new Error("must not run");\n');
    const byName = resolveArchModule('@acme/arch-foo', root);
    expect(byName.entry).toBe(realpathSync(join(pkg, 'dist', 'index.js')));
    expect(byName.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(resolveArchModule(pkg, root).entry).toBe(byName.entry);
    expect(resolveArchModule(join(pkg, 'dist', 'index.js'), root).entry).toBe(byName.entry);
    expect(() => resolveArchModule('@acme/arch-bar', root)).toThrow(/not installed/);
    expect(() => resolveArchModule('./nope.js', root)).toThrow(/no such file/);
  });

  it('runs the suite on a package directory (examples/arch-riscv)', async () => {
    const r = await cli(
      'conformance',
      '--arch-module',
      join(__dirname, '../../../examples/arch-riscv'),
      '--scenario',
      'retract-vs-lockless-walkers',
      '--no-mutants',
      '--workers',
      '1',
      '--no-progress',
      '--traces',
      join(tmp, 'riscv'),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/arch module .*arch-riscv/);
  }, 60_000);
});

describe('time limits stop modules, never judge ptlab', () => {
  it('a built-in cell past the limit is reported as slow and still passes', async () => {
    const r = await cli(
      'conformance',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--no-mutants',
      '--workers',
      '1',
      '--cell-timeout',
      '1',
      '--no-progress',
      '--traces',
      join(tmp, 'slow'),
    );
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/slow: cell x86-64 x retract-vs-lockless-walkers still running/);
    expect(r.out).toMatch(/, 0 failed, 0 errors \(1 applicable; 0 not applicable\)\nCONFORMANT/);
  }, 60_000);
});

describe('replay runs no code the user did not name', () => {
  const fake = join(__dirname, 'fixtures', 'fake-x86');
  let trace: string;

  it('a module may not reuse a built-in config id where both are loaded', async () => {
    const r = await cli('list', '--arch-module', fake);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/config id x86-64 is declared by both built-in arch-x86 and arch module/);
  }, 30_000);

  it('a trace recorded on a module is refused without that --arch-module, and says which', async () => {
    const traces = join(tmp, 'fake-traces');
    const c = await cli(
      'conformance',
      '--arch-module',
      fake,
      '--scenario',
      'retract-vs-lockless-walkers',
      '--no-mutants',
      '--workers',
      '1',
      '--no-progress',
      '--traces',
      traces,
    );
    expect(c.code).toBe(1);
    trace = join(traces, 'x86-64__retract-vs-lockless-walkers.json');
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    expect(t.archModule).toBe(realpathSync(join(fake, 'index.mjs')));
    const r = await cli('replay', trace);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/was recorded on arch module .*fake-x86\/index\.mjs.*pass --arch-module/);
    expect(r.out).toBe('');
    const other = await cli(
      'replay',
      trace,
      '--arch-module',
      join(__dirname, 'fixtures', 'hostile', 'honest.mjs'),
    );
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/was recorded on arch module/);
  }, 60_000);

  it('with the same module it reproduces, naming the module and its digest, never "built-in"', async () => {
    const r = await cli('replay', trace, '--arch-module', fake);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(
      /on x86-64 from arch module .*fake-x86 \(.*index\.mjs, sha256 [0-9a-f]{64}\).*same finding reproduced/,
    );
    expect(r.out).not.toMatch(/built-in/);
  }, 60_000);

  it('the same trace with archModule removed (digest recomputed) is not "still failing" on the built-in x86-64', async () => {
    const { makeTrace } = await import('@ptlab/explore');
    const {
      digest: _d,
      format: _f,
      version: _v,
      archModule: _m,
      ...rest
    } = JSON.parse(readFileSync(trace, 'utf8'));
    const stripped = join(tmp, 'stripped.json');
    writeFileSync(stripped, JSON.stringify(makeTrace(rest)));
    const r = await cli('replay', stripped);
    // ptlab's x86-64 defers the free the module did at once: the recorded path is not this code's.
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      /^diverged at step \d+: replay of .* on x86-64 from built-in @ptlab\/arch-x86/,
    );
    expect(r.out).not.toMatch(/reproduced|still failing/);
  }, 60_000);
});

describe('frozen prototypes in a child', () => {
  it('a patch throws; the snapshot check names what changed, and is silent otherwise', async () => {
    const { changes, snapshot } = await import('../src/child/harden.js');
    class Victim {
      ok() {
        return true;
      }
    }
    Object.freeze(Victim.prototype);
    const before = snapshot([{ name: 'Victim.prototype', target: Victim.prototype }]);
    expect(() => {
      (Victim.prototype as unknown as Record<string, unknown>).ok = () => false;
    }).toThrow(/read only/);
    expect(changes(before)).toEqual([]);
    expect(new Victim().ok()).toBe(true);
    // An object that was not (or no longer is) frozen: additions are named.
    const loose: Record<string, unknown> = {};
    const was = snapshot([{ name: 'loose', target: loose }]);
    loose.maxSteps = 3;
    expect(changes(was)).toEqual(['loose.maxSteps (added)', 'loose (no longer frozen)']);
  });
});

describe('SIGINT', () => {
  it('stops the children and writes the finished cells as a report marked interrupted', async () => {
    const { spawn } = await import('node:child_process');
    const json = join(tmp, 'int.json');
    const p = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(__dirname, '../src/bin.ts'),
        'conformance',
        '--arch',
        'x86-64',
        '--workers',
        '1',
        '--json',
        json,
        '--traces',
        join(tmp, 'tint'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: join(__dirname, '../../..') },
    );
    let err = '';
    let sent = false;
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      // After the first progress line some units are done: interrupt then (once).
      if (!sent && /conformance: [1-9]\d*\/\d+ units/.test(err)) {
        sent = true;
        p.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect(code, err).toBe(130);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.interrupted).toBe('SIGINT');
    expect(j.unitsFinished).toBeGreaterThan(0);
    expect(j.unitsFinished).toBeLessThan(j.unitsTotal);
    for (const k of ['archConfigs', 'scenarios', 'cells', 'mutants', 'ok'])
      expect(j).toHaveProperty(k);
    expect(j.ok).toBe(false);
    expect(j.cells.length).toBeGreaterThan(0);
    // The same shape as a finished run's report.
    expect(valid('report', j)).toBe('valid');
  }, 120_000);
});

describe.runIf(process.platform === 'linux')('signals while a module runs', () => {
  it('SIGTERM during check kills the looping module process too', async () => {
    const { spawn } = await import('node:child_process');
    const { readdirSync } = await import('node:fs');
    const p = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(__dirname, '../src/bin.ts'),
        'check',
        '--arch-module',
        join(__dirname, 'fixtures', 'hostile', 'loop.mjs'),
        '--arch',
        'hostile-loop',
        '--scenario',
        'retract-vs-lockless-walkers',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: join(__dirname, '../../..') },
    );
    // The CLI's child processes (not tsx's esbuild service): those running the child entry.
    const childrenOf = (ppid: number): number[] =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
            const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
            return (
              stat.split(') ')[1]?.split(' ')[1] === String(ppid) && cmd.includes('child/entry')
            );
          } catch {
            return false;
          }
        })
        .map(Number);
    const running = (pid: number): boolean => {
      try {
        return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    // Wait until the module's child exists and has had time to reach its loop.
    let kids: number[] = [];
    for (let i = 0; i < 100 && kids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      kids = childrenOf(p.pid as number);
    }
    expect(kids.length).toBe(1);
    await new Promise((r) => setTimeout(r, 2500));
    p.kill('SIGTERM');
    const sig = await new Promise<NodeJS.Signals | null>((r) => p.on('exit', (_c, s) => r(s)));
    expect(sig).toBe('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const left = kids.filter(running);
    for (const k of left) process.kill(k, 'SIGKILL'); // leave no spinning process behind
    expect(left).toEqual([]);
  }, 60_000);
});
