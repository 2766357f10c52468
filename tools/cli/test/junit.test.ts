import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { junitXml } from '../src/junit.js';
import { cli } from './helpers/cli.js';

const XSD = join(__dirname, 'fixtures', 'junit', 'junit-10.xsd');
const tmp = mkdtempSync(join(tmpdir(), 'ptlab-junit-'));

const xmllint = spawnSync('xmllint', ['--version']).status === 0;
if (!xmllint)
  console.warn(
    '\n*** SKIPPED: JUnit XSD validation needs xmllint (Debian: apt-get install libxml2-utils); .ci/run installs it ***\n',
  );

/** xmllint's verdict on `xml` against junit-10.xsd: 'valid' or its complaint. */
function validate(xml: string, name = 'j.xml'): string {
  const f = join(tmp, name);
  writeFileSync(f, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, f], { encoding: 'utf8' });
  return r.status === 0 ? 'valid' : r.stderr;
}

const sample = junitXml([
  {
    name: 'conformance',
    cases: [
      { classname: 'x86-64', name: 'ok', timeMs: 1234.5, output: 'verdict: verified' },
      {
        classname: 'x86-64',
        name: 'fails',
        timeMs: 2,
        failure: { message: 'use-after-free: "x" <y> & z', type: 'use-after-free', text: 'a\nb' },
        output: 'verdict: fail',
      },
      {
        classname: 'x86-64',
        name: 'broken',
        timeMs: 0,
        error: { message: 'create() threw\u0001', type: 'E_MODEL' },
      },
      { classname: 'x86-64', name: 'n/a', timeMs: 0, skipped: 'not applicable: no THP' },
    ],
  },
  { name: 'empty', cases: [] },
]);

describe('JUnit XML', () => {
  it('counts tests, failures, errors and skipped on each suite and in total', () => {
    expect(sample).toMatch(
      /<testsuite name="conformance" tests="4" failures="1" errors="1" skipped="1" time="1\.23\d">/,
    );
    expect(sample).toMatch(/<testsuite name="empty" tests="0" failures="0" errors="0" skipped="0"/);
    expect(sample).toMatch(/<testsuites name="ptlab" tests="4" failures="1" errors="1" time=/);
    expect(sample).toMatch(/<error message="create\(\) threw" type="E_MODEL">/);
    expect(sample).toMatch(
      /<failure message="use-after-free: &quot;x&quot; &lt;y&gt; &amp; z" type="use-after-free">a\nb<\/failure>/,
    );
  });

  it.runIf(xmllint)('is valid against junit-10.xsd (Jenkins xunit)', () => {
    expect(validate(sample)).toBe('valid');
  });

  it.runIf(xmllint)('and the validation can fail: a testsuite without errors= is refused', () => {
    const old = sample.replace(/ errors="\d+"/g, '');
    expect(validate(old, 'old.xml')).toMatch(/errors.*required|attribute 'errors'/);
  });

  it.runIf(xmllint)(
    'a real conformance run: verdict kinds in system-out, an error cell as <error>, n/a as <skipped>',
    async () => {
      const junit = join(tmp, 'c.xml');
      await cli(
        'conformance',
        '--arch',
        'x86-64',
        '--scenario',
        'retract-vs-exit',
        '--scenario',
        'torn-pmd-read',
        '--workers',
        '0',
        '--junit',
        junit,
        '--traces',
        join(tmp, 'traces'),
        '--no-progress',
      );
      const xml = readFileSync(junit, 'utf8');
      expect(validate(xml, 'real.xml')).toBe('valid');
      expect(xml).toMatch(/verdict: verified \(every interleaving up to equivalence\)/);
      expect(xml).toMatch(/<skipped message="not applicable/);
      expect(xml).toMatch(/<testcase classname="mutant\.mm" name="retract-frees-immediately"/);

      // A port whose create() throws: its cells could not run, so they are errors, not failures.
      const broken = join(tmp, 'broken.xml');
      await cli(
        'conformance',
        '--arch-module',
        join(__dirname, 'fixtures', 'throwing-arch.ts'),
        '--scenario',
        'retract-vs-exit',
        '--no-mutants',
        '--workers',
        '1',
        '--junit',
        broken,
        '--traces',
        join(tmp, 'traces-b'),
        '--no-progress',
      );
      const b = readFileSync(broken, 'utf8');
      expect(validate(b, 'broken-real.xml')).toBe('valid');
      expect(b).toMatch(/<testsuite name="conformance" tests="1" failures="0" errors="1"/);
      expect(b).toMatch(/<error message="[^"]+" type="E_[A-Z_]+">/);
      expect(b).not.toMatch(/<failure/);
    },
    120_000,
  );
});
