/**
 * `ptlab init-arch`: what it refuses, what it writes, that docs/porting-an-arch.md
 * shows what it writes, and that the port it writes passes a cell and its example
 * variant is caught (in this workspace; tools/consumer-check.mjs builds, typechecks
 * and tests the scaffold out of tree, from the packed tarballs, in CI).
 */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  loadScenarios,
  mutantCatalogue,
  runCell,
  scenarioById,
  validatePort,
} from '@ptlab/conformance';
import type { ArchPort } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper without types, shared with tools/consumer-check.mjs
import { DOC_ARCH, DOC_PATH, docProblems } from '../../consumer-check-doc.mjs';
import { archNameProblem, initArch, scaffold } from '../src/commands/init-arch.js';
import { cli } from './helpers/cli.js';

const repo = join(__dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'ptlab-init-arch-'));
const versionOf = (dir: string): string =>
  JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')).version;

describe('ptlab init-arch refuses', () => {
  it.each([
    ['Bad Name', /not an arch name/],
    ['1arch', /not an arch name/],
    ['my_arch', /not an arch name/],
    ['arch-', /not an arch name/],
    ['a'.repeat(33), /at most 32/],
    ['x86', /built-in arches/],
    ['s390', /built-in arches/],
  ])('the name %j', async (name, why) => {
    expect(archNameProblem(name)).toMatch(why);
    const r = await cli('init-arch', name, '--dir', join(tmp, 'refused'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`ptlab: init-arch: "${name}"`);
  });

  it('a directory that is not empty, by name, and writes nothing', async () => {
    const dir = join(tmp, 'full');
    mkdirSync(dir);
    writeFileSync(join(dir, 'mine.txt'), 'keep me');
    const r = await cli('init-arch', 'myarch', '--dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${dir} is not empty (mine.txt)`);
    expect(readFileSync(join(dir, 'mine.txt'), 'utf8')).toBe('keep me');
  });

  it('a --dir that is a file', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    const r = await cli('init-arch', 'myarch', '--dir', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file} exists and is not a directory`);
  });

  it('accepts names with digits and dashes, and an empty directory', async () => {
    expect(archNameProblem('my-arch2')).toBeNull();
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    const r = await cli('init-arch', 'my-arch2', '--dir', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('src/my-arch2-port.ts');
    const port = readFileSync(join(dir, 'src', 'my-arch2-port.ts'), 'utf8');
    expect(port).toContain('export class MyArch2Arch extends GenericArch');
    expect(port).toContain("arch: 'my-arch2',");
  });
});

describe('ptlab init-arch writes', () => {
  const dir = join(tmp, 'myarch');
  const written = initArch(DOC_ARCH, { dir });

  it('every file, with no placeholder left', () => {
    expect(written.files).toContain('src/myarch-port.ts');
    expect(written.files).toContain('.gitignore');
    for (const [path, text] of scaffold(DOC_ARCH)) {
      expect(readFileSync(join(dir, path), 'utf8')).toBe(text);
      expect(text, path).not.toMatch(/__[A-Za-z_]+__/);
    }
  });

  it('a package.json depending on the @ptlab packages by this workspace version', () => {
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pj.name).toBe('ptlab-arch-myarch');
    expect(pj.dependencies['@ptlab/core']).toBe(`^${versionOf('packages/core')}`);
    expect(pj.devDependencies['@ptlab/conformance']).toBe(`^${versionOf('conformance')}`);
    expect(pj.devDependencies['@ptlab/cli']).toBe(`^${versionOf('tools/cli')}`);
    // Third-party tools at the ranges this repository is tested with.
    const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    for (const t of ['typescript', 'vitest', 'tsx'])
      expect(pj.devDependencies[t], t).toBe(root.devDependencies[t]);
  });

  it('what docs/porting-an-arch.md shows (and the doc check fires on a stale doc)', () => {
    expect(docProblems(dir)).toEqual([]);
    const doc = readFileSync(DOC_PATH, 'utf8');
    const stale = doc.replace("  arch: 'myarch',", "  arch: 'myarch', // edited");
    expect(stale).not.toBe(doc);
    expect(docProblems(dir, { doc: stale }).join('\n')).toMatch(
      /the block shown for src\/myarch-port\.ts is not in the generated file/,
    );
    const lacking = doc.replace(/^src\/myarch-hugetlb\.ts.*\n/m, '');
    expect(docProblems(dir, { doc: lacking }).join('\n')).toMatch(
      /file list lacks src\/myarch-hugetlb\.ts/,
    );
  });

  it('a port that passes a cell, and an example variant its declared check catches', async () => {
    // Resolve the scaffold's @ptlab imports to this workspace's packages.
    const nm = join(dir, 'node_modules', '@ptlab');
    mkdirSync(nm, { recursive: true });
    for (const [name, path] of [
      ['core', 'packages/core'],
      ['conformance', 'conformance'],
    ] as const)
      symlinkSync(realpathSync(join(repo, path)), join(nm, name));
    const mod = (await import(pathToFileURL(join(dir, 'src', 'index.ts')).href)) as {
      default: ArchPort;
    };
    const port = validatePort(mod.default, 'scaffold');
    expect(port.arch).toBe('myarch');
    const config = port.configs[0];
    if (!config) throw new Error('no config');
    const load = loadScenarios();
    const clean = runCell({ port, config, scenario: scenarioById(load, 'retract-vs-fault') });
    expect(clean.result, clean.reason).toBe('pass');
    const variant = port.variants[0];
    expect(variant?.expect).toBe('caught');
    const broken = runCell({
      port,
      config,
      scenario: scenarioById(load, 'retract-vs-lockless-walkers'),
      mutant: mutantCatalogue([port]).find((m) => m.id === variant?.id) ?? null,
    });
    expect(broken.result).toBe('fail');
    expect(broken.finding?.check).toBe('use-after-free');
  }, 120_000);
});
