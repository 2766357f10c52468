/**
 * `ptlab init-arch <name>`: scaffold an out-of-tree arch package from the
 * templates shipped with the CLI (templates/arch): package.json depending on
 * the @ptlab packages this CLI runs with, by version; tsconfig; the port
 * split as the kernel splits it (configs, entry encoding, pgalloc, hugetlb,
 * variants); a README; and a vitest file that runs runConformance() on it.
 * As generated it passes and typechecks. It writes into a new or empty
 * directory only.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@ptlab/core';
import { BUILTIN_PORTS } from '../registry.js';
import { cliVersion } from '../version.js';

/** An arch name: it becomes the port's `arch`, its config ids' prefix, file names and the package name. */
const ARCH_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME = 32;

/** Where the CLI's templates are: templates/arch at the package root (above src/commands or dist). */
export function templateDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let d = from, i = 0; i < 4; d = dirname(d), i++) {
    const t = join(d, 'templates', 'arch');
    if (existsSync(join(t, 'package.json.tmpl'))) return t;
  }
  throw new Error(`ptlab init-arch: no templates/arch above ${from} (a broken @ptlab/cli install)`);
}

/** The version of an installed package as this CLI resolves it (node_modules upwards from here). */
export function installedVersion(
  name: string,
  from = dirname(fileURLToPath(import.meta.url)),
): string {
  for (let d = from; ; d = dirname(d)) {
    const pj = join(d, 'node_modules', name, 'package.json');
    if (existsSync(pj)) {
      const v = (JSON.parse(readFileSync(pj, 'utf8')) as { version?: unknown }).version;
      if (typeof v === 'string') return v;
    }
    if (dirname(d) === d)
      throw new Error(`ptlab init-arch: ${name} is not installed next to the CLI`);
  }
}

/** "my-arch" → "myArch" (identifiers) and "MyArch" (the class). */
const camel = (name: string): string =>
  name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const pascal = (name: string): string => camel(name).replace(/^[a-z]/, (c) => c.toUpperCase());

/** Why `name` cannot be an arch name, or null. */
export function archNameProblem(name: string): string | null {
  if (!ARCH_NAME.test(name) || name.length > MAX_NAME)
    return `"${name}" is not an arch name: lower-case letters and digits, optionally joined by "-", starting with a letter, at most ${MAX_NAME} characters (e.g. riscv, loongarch)`;
  const builtin = BUILTIN_PORTS.map((p) => p.arch);
  if (builtin.includes(name))
    return `"${name}" is one of ptlab's built-in arches (${builtin.join(', ')}); give your port a name of its own`;
  return null;
}

/** The placeholders of the templates and what they become for `name`. */
export function substitutions(name: string): Record<string, string> {
  const range = (pkg: string) => `^${installedVersion(pkg)}`;
  return {
    __arch__: name,
    __archCamel__: camel(name),
    __ArchPascal__: pascal(name),
    __range_core__: range('@ptlab/core'),
    __range_conformance__: range('@ptlab/conformance'),
    __range_cli__: `^${cliVersion()}`,
  };
}

function fill(text: string, subs: Record<string, string>): string {
  let out = text;
  for (const [k, v] of Object.entries(subs)) out = out.split(k).join(v);
  return out;
}

/**
 * Template file → generated path: placeholders filled, `_gitignore` →
 * `.gitignore`, `.tmpl` dropped (templates that are no valid file of their
 * kind, or that tools would take for the CLI's own: package.json, README.md).
 */
function outputPath(rel: string, subs: Record<string, string>): string {
  return fill(rel, subs)
    .replace(/(^|\/)_gitignore$/, '$1.gitignore')
    .replace(/\.tmpl$/, '');
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** The files init-arch writes for `name`, path → content, without writing them. */
export function scaffold(name: string): Map<string, string> {
  const problem = archNameProblem(name);
  if (problem) throw new UsageError(`init-arch: ${problem}`);
  const subs = substitutions(name);
  const root = templateDir();
  const files = new Map<string, string>();
  for (const rel of walk(root)) {
    const content = fill(readFileSync(join(root, rel), 'utf8'), subs);
    const left = /__[A-Za-z_]+__/.exec(content);
    // A placeholder nobody fills is a bug in the templates, not the user's input.
    if (left)
      throw new Error(`ptlab init-arch: template ${rel} has an unknown placeholder ${left[0]}`);
    files.set(outputPath(rel, subs), content);
  }
  return files;
}

export interface InitArchResult {
  readonly dir: string;
  readonly files: readonly string[];
}

/** Write the scaffold for `name` into `dir` (default ./ptlab-arch-<name>), which must be new or empty. */
export function initArch(name: string, o: { dir?: string; cwd?: string } = {}): InitArchResult {
  const files = scaffold(name);
  const dir = resolve(o.cwd ?? process.cwd(), o.dir ?? `ptlab-arch-${name}`);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new UsageError(`init-arch: ${dir} exists and is not a directory`);
    const there = readdirSync(dir);
    if (there.length)
      throw new UsageError(
        `init-arch: ${dir} is not empty (${there.slice(0, 5).join(', ')}${there.length > 5 ? ', ...' : ''}); give --dir a new or empty directory`,
      );
  }
  for (const [rel, content] of files) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content, { flag: 'wx' });
  }
  return { dir, files: [...files.keys()] };
}

/** What init-arch prints: the files, then what to run. */
export function renderInitArch(r: InitArchResult, name: string, cwd = process.cwd()): string {
  const rel = relative(cwd, r.dir);
  const where = rel === '' ? '.' : rel.startsWith('..') ? r.dir : rel;
  return [
    `created ${where}/: the arch package ptlab-arch-${name}`,
    ...r.files.map((f) => `  ${f}`),
    '',
    'next:',
    `  cd ${where}`,
    '  npm install',
    '  npm test               # runConformance() on the port (quick plan) and its variants',
    '  npm run typecheck',
    '  npm run conformance    # ptlab conformance --arch-module . (the full verdicts)',
  ].join('\n');
}
