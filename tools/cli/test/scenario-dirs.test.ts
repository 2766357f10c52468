/**
 * --scenario-dir, given several times: every directory is loaded, each once,
 * and a scenario id two directories share is refused in both, by file name.
 * `check` finds a scenario through conformance's scenarioById(), which says
 * why a file with that id did not load.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIO_DIR } from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-scenario-dirs-'));
const dir = (name: string, ...scenarios: string[]) => {
  const d = join(tmp, name);
  mkdirSync(d);
  for (const s of scenarios) copyFileSync(join(SCENARIO_DIR, `${s}.json`), join(d, `${s}.json`));
  return d;
};
const a = dir('a', 'retract-vs-fault');
const b = dir('b', 'retract-vs-exit');
const c = dir('c', 'retract-vs-fault');
const ids = (out: string): string[] =>
  (JSON.parse(out).scenarios as { id: string }[]).map((s) => s.id);

describe('--scenario-dir, several times', () => {
  it('loads every directory, each once', async () => {
    const r = await cli(
      'list',
      '--json',
      '--scenario-dir',
      a,
      '--scenario-dir',
      b,
      '--scenario-dir',
      a,
    );
    expect(r.code, r.err).toBe(0);
    expect(ids(r.out)).toEqual(['retract-vs-fault', 'retract-vs-exit']);
  });

  it('refuses an id two directories share, naming both files', async () => {
    const r = await cli('list', '--json', '--scenario-dir', a, '--scenario-dir', c);
    expect(r.code).toBe(2);
    expect(ids(r.out)).toEqual([]);
    expect(r.err).toContain(
      `scenario id "retract-vs-fault" is used by 2 files (${join(a, 'retract-vs-fault.json')}, ${join(c, 'retract-vs-fault.json')})`,
    );
  });

  it('check names why the scenario asked for did not load', async () => {
    const bad = dir('bad');
    const text = JSON.parse(readFileSync(join(SCENARIO_DIR, 'retract-vs-fault.json'), 'utf8'));
    writeFileSync(join(bad, 'x.json'), JSON.stringify({ ...text, threads: 'none' }));
    const r = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-fault',
      '--scenario-dir',
      bad,
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ptlab: scenarios: scenario "retract-vs-fault" did not load: .*x\.json/);
    const typo = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-faul',
      '--scenario-dir',
      a,
    );
    expect(typo.code).toBe(2);
    expect(typo.err).toContain(
      'unknown scenario "retract-vs-faul" (did you mean "retract-vs-fault"?)',
    );
  });
});
