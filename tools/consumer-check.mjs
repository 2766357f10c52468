#!/usr/bin/env node
// @ts-check
/**
 * Every published package works from its tarball alone. Packs each published
 * package (`pnpm pack`), then serves the tarballs, and nothing else, as the
 * @ptlab scope's registry on 127.0.0.1 (packuments built from the packed
 * package.json files), and in fresh projects outside the workspace whose
 * .npmrc points the @ptlab scope there (so nothing @ptlab comes from
 * anywhere but the tarballs; third-party dependencies come from the npm
 * registry):
 *
 * 1. installs @ptlab/cli with npm and runs
 *    - `npx ptlab --version` (must be the CLI's version),
 *    - `npx ptlab conformance --arch x86-64` on child-process workers, on
 *      SCENARIOS only, without mutants (the full matrix is CI's main job),
 *    - `npx ptlab check` with a mutant, writing a trace, and `npx ptlab replay`
 *      of it (same finding reproduced; the hint printed says `npx ptlab replay`),
 *    - `npx ptlab init-arch myarch`, the porter's scaffold;
 * 2. in the scaffold: checks that its package.json depends on the @ptlab
 *    packages by the version packed, runs `npm install` on it as written, and runs
 *    `npm run typecheck` (tsc), `npm test` (vitest: runConformance() on the
 *    out-of-tree port, and its example variant must be caught) and
 *    `npm run conformance` (the CLI loading the TypeScript port through tsx;
 *    SCENARIOS only), and checks docs/porting-an-arch.md against the files.
 *
 * Prints the tarball sizes and the time of each phase. Exits 1 on the first
 * failure, naming it. Usage: node tools/consumer-check.mjs [--keep] (--keep
 * leaves the temporary directory and prints where).
 */
import { spawn, spawnSync } from 'node:child_process';

// pnpm as the one that runs this script (`pnpm consumer-check`: npm_execpath), so a machine with
// only Node and npm (`npm exec --yes pnpm@10 -- consumer-check`) needs no pnpm on its PATH.
const { npm_execpath: execpath } = process.env;
const PNPM_JS = execpath?.match(/pnpm(\.c?js)?$/) ? execpath : null;
// The children see no trace of the pnpm that runs this script: a user's `npx ptlab` has none.
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env)
    .filter(([k]) => !/^(npm_|pnpm_)/i.test(k))
    .map(([k, v]) =>
      k === 'PATH' && v
        ? [
            k,
            v
              .split(':')
              .filter((d) => !d.includes('/node_modules/'))
              .join(':'),
          ]
        : [k, v],
    ),
);
/** @param {string[]} args @returns {[string, string[]]} */
const pnpm = (args) => (PNPM_JS ? [process.execPath, [PNPM_JS, ...args]] : ['pnpm', args]);

import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DOC_ARCH, docProblems } from './consumer-check-doc.mjs';

const root = join(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
/** Cheap cells that every x86-64 config verifies; enough to show workers, verdicts and reports work. */
const SCENARIOS = [
  'retract-vs-fault',
  'fault-beside-retract',
  'deferred-table-not-reused',
  'collapse-vs-uffd-copy',
];
const MUTANT_CELL = [
  '--arch',
  'x86-64',
  '--scenario',
  'retract-vs-lockless-walkers',
  '--mutant',
  'retract-frees-immediately',
];

const work = mkdtempSync(join(tmpdir(), 'ptlab-consumer-'));
const t0 = performance.now();
/** @type {[string, number][]} */
const timings = [];

/** @param {string} msg @returns {never} */
function fail(msg) {
  console.error(`consumer-check: FAILED: ${msg}`);
  if (keep) console.error(`consumer-check: left ${work}`);
  else rmSync(work, { recursive: true, force: true });
  process.exit(1);
}

/**
 * Run a command; its output is shown. Resolves to stdout. `expect` is the exit code it must have.
 * Asynchronous, so the registry below keeps answering while npm runs.
 * @param {string} what @param {string} cmd @param {string[]} args
 * @param {{ cwd: string, expect?: number, quiet?: boolean, repo?: boolean, env?: NodeJS.ProcessEnv }} o
 * @returns {Promise<string>}
 */
async function run(what, cmd, args, o) {
  const t = performance.now();
  console.log(`\n== ${what}\n$ ${[cmd, ...args].join(' ')}`);
  const child = spawn(cmd, args, {
    cwd: o.cwd,
    env: { ...(o.repo ? process.env : CLEAN_ENV), NO_COLOR: '1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let all = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    all += d;
    if (!o.quiet) process.stdout.write(d);
  });
  child.stderr.on('data', (d) => {
    all += d;
    if (!o.quiet) process.stdout.write(d);
  });
  const status = await new Promise((resolve) => {
    child.on('error', (e) => fail(`${what}: ${e.message}`));
    child.on('close', (code) => resolve(code));
  });
  timings.push([what, performance.now() - t]);
  if (status !== (o.expect ?? 0)) {
    if (o.quiet) process.stdout.write(all);
    fail(`${what}: exit ${status}, expected ${o.expect ?? 0}`);
  }
  return stdout;
}

/** A fresh project whose @ptlab packages can come from `registry` only. @param {string} dir @param {string} registry */
function isolate(dir, registry) {
  writeFileSync(
    join(dir, '.npmrc'),
    `# @ptlab/* come from the packed tarballs only (tools/consumer-check.mjs serves them)\n@ptlab:registry=${registry}\naudit=false\nfund=false\nupdate-notifier=false\n`,
  );
}

/**
 * Every @ptlab package in a lockfile is a packed tarball: the same name and
 * version, the same sha512 (npm records the integrity, not always the URL).
 * @param {string} dir @param {Map<string, { version: string, integrity: string }>} tarballs
 */
function checkLock(dir, tarballs) {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
  let n = 0;
  for (const [path, p] of Object.entries(lock.packages ?? {})) {
    const m = /node_modules\/(@ptlab\/[^/]+)$/.exec(path);
    if (!m) continue;
    n++;
    const t = tarballs.get(/** @type {string} */ (m[1]));
    if (!t) fail(`${dir}: ${path} is installed, but no such package was packed`);
    if (p.version !== t.version || p.integrity !== t.integrity)
      fail(
        `${dir}: ${path} ${p.version} (${p.integrity}) is not the packed tarball (${t.version}, ${t.integrity})`,
      );
  }
  if (n === 0) fail(`${dir}: no @ptlab package was installed`);
}

/**
 * The @ptlab scope's registry: a packument per packed package (its package.json from
 * the tarball, one version) and the tarballs; 404 for anything else.
 * @param {Map<string, { file: string, version: string, integrity: string }>} tarballs
 * @returns {Promise<{ url: string, close: () => void, requests: string[] }>}
 */
async function serveTarballs(tarballs) {
  /** @type {Map<string, object>} */
  const packuments = new Map();
  /** @type {Map<string, string>} */
  const files = new Map();
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    requests.push(path);
    const doc = packuments.get(path.slice(1));
    const file = files.get(path);
    if (doc) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc));
    } else if (file) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(readFileSync(file));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = server.address();
  if (!addr || typeof addr === 'string') fail('the tarball registry did not start');
  const url = `http://127.0.0.1:${addr.port}/`;
  for (const [name, t] of tarballs) {
    const bytes = readFileSync(t.file);
    const manifest = JSON.parse(
      spawnSync('tar', ['-xzOf', t.file, 'package/package.json'], { encoding: 'utf8' }).stdout,
    );
    const tarPath = `/-/${basename(t.file)}`;
    files.set(tarPath, t.file);
    packuments.set(name, {
      name,
      'dist-tags': { latest: t.version },
      versions: {
        [t.version]: {
          ...manifest,
          dist: {
            tarball: `${url}${tarPath.slice(1)}`,
            shasum: createHash('sha1').update(bytes).digest('hex'),
            integrity: t.integrity,
          },
        },
      },
    });
  }
  return { url, close: () => server.close(), requests };
}

// --- pack ---
await run('build', ...pnpm(['build', '--output-logs=errors-only']), {
  cwd: root,
  quiet: true,
  repo: true,
});
/** @type {{ name: string, path: string, private: boolean }[]} */
const workspace = JSON.parse(
  spawnSync(...pnpm(['-r', 'ls', '--json', '--depth', '-1']), { cwd: root, encoding: 'utf8' })
    .stdout,
);
const published = workspace.filter((p) => !p.private);
const tarDir = join(work, 'tarballs');
mkdirSync(tarDir);
const tp = performance.now();
/** @type {Map<string, { file: string, version: string, integrity: string, bytes: number, unpacked: number, files: number }>} */
const tarballs = new Map();
for (const p of published) {
  const dest = join(work, 'pack', p.name.replace('/', '+'));
  const r = spawnSync(...pnpm(['pack', '--pack-destination', dest]), {
    cwd: p.path,
    encoding: 'utf8',
  });
  if (r.status !== 0) fail(`pnpm pack ${p.name}: ${r.stderr}`);
  const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!tgz) fail(`pnpm pack ${p.name} wrote no tarball`);
  const file = join(tarDir, tgz);
  writeFileSync(file, readFileSync(join(dest, tgz)));
  const listing = spawnSync('tar', ['-tvzf', file], { encoding: 'utf8' }).stdout.trim().split('\n');
  const unpacked = listing.reduce((n, l) => n + Number(l.split(/\s+/)[2] ?? 0), 0);
  const version = JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8')).version;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
  tarballs.set(p.name, {
    file,
    version,
    integrity,
    bytes: statSync(file).size,
    unpacked,
    files: listing.length,
  });
}
timings.push(['pack', performance.now() - tp]);
console.log('\n== tarballs');
const kb = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KiB`;
for (const [name, t] of tarballs)
  console.log(
    `${name.padEnd(22)} ${t.version.padEnd(8)} ${kb(t.bytes).padStart(11)} packed ${kb(t.unpacked).padStart(11)} unpacked ${String(t.files).padStart(4)} files`,
  );
const total = [...tarballs.values()].reduce((n, t) => n + t.bytes, 0);
console.log(`${'total'.padEnd(31)} ${kb(total).padStart(11)}`);
const registry = await serveTarballs(tarballs);
const cliVersion = tarballs.get('@ptlab/cli')?.version;

// --- 1. the CLI from its tarball ---
const consumer = join(work, 'consumer');
mkdirSync(consumer);
writeFileSync(
  join(consumer, 'package.json'),
  '{ "name": "consumer", "private": true, "type": "module" }\n',
);
isolate(consumer, registry.url);
await run('npm install @ptlab/cli', 'npm', ['install', `@ptlab/cli@${cliVersion}`], {
  cwd: consumer,
  quiet: true,
});
checkLock(consumer, tarballs);
const v = (
  await run('npx ptlab --version', 'npx', ['ptlab', '--version'], { cwd: consumer })
).trim();
if (v !== cliVersion) fail(`ptlab --version printed "${v}", the packed CLI is ${cliVersion}`);
await run(
  `npx ptlab conformance --arch x86-64 (${SCENARIOS.length} scenarios, 2 workers)`,
  'npx',
  [
    'ptlab',
    'conformance',
    '--arch',
    'x86-64',
    ...SCENARIOS.flatMap((s) => ['--scenario', s]),
    '--no-mutants',
    '--workers',
    '2',
    '--no-progress',
    '--json',
    'report.json',
    '--junit',
    'junit.xml',
  ],
  { cwd: consumer },
);
const report = JSON.parse(readFileSync(join(consumer, 'report.json'), 'utf8'));
if (!report.ok || report.cells.length !== SCENARIOS.length)
  fail(`report.json: ok ${report.ok}, ${report.cells.length} cells (expected ${SCENARIOS.length})`);
for (const c of report.cells)
  if (!['verified', 'verified-bounded', 'sampled'].includes(c.verdict))
    fail(`report.json: ${c.scenario} is ${c.verdict}`);
const checked = await run(
  'npx ptlab check with a mutant (a finding, exit 1)',
  'npx',
  ['ptlab', 'check', ...MUTANT_CELL, '--trace-out', 'uaf.json'],
  { cwd: consumer, expect: 1, quiet: true },
);
console.log(
  checked
    .split('\n')
    .filter((l) => /^FINDING|^trace written/.test(l))
    .join('\n'),
);
if (!checked.includes('(replay with: npx ptlab replay uaf.json)'))
  fail('ptlab check run with npx does not print "replay with: npx ptlab replay uaf.json"');
const replayed = await run(
  'npx ptlab replay (same finding, exit 1)',
  'npx',
  ['ptlab', 'replay', 'uaf.json'],
  { cwd: consumer, expect: 1, quiet: true },
);
console.log(replayed.split('\n')[0]);
if (!replayed.includes('same finding reproduced'))
  fail('ptlab replay did not say "same finding reproduced"');
await run(
  `npx ptlab init-arch ${DOC_ARCH}`,
  'npx',
  ['ptlab', 'init-arch', DOC_ARCH, '--dir', '../scaffold'],
  { cwd: consumer },
);

// --- 2. the porter's scaffold, out of tree, installed as written ---
const scaffold = join(work, 'scaffold');
const pj = JSON.parse(readFileSync(join(scaffold, 'package.json'), 'utf8'));
for (const field of ['dependencies', 'devDependencies'])
  for (const [name, range] of Object.entries(pj[field] ?? {})) {
    if (!name.startsWith('@ptlab/')) continue;
    const t = tarballs.get(name);
    if (!t) fail(`the scaffold depends on ${name}, which is not a published package`);
    if (range !== `^${t.version}`)
      fail(`the scaffold depends on ${name}@${range}, but ${t.version} was packed`);
  }
const docIssues = docProblems(scaffold);
if (docIssues.length)
  fail(`docs/porting-an-arch.md does not match the scaffold:\n  ${docIssues.join('\n  ')}`);
console.log('\n== docs/porting-an-arch.md matches the scaffold');
isolate(scaffold, registry.url);
await run('npm install (the scaffold as generated)', 'npm', ['install'], {
  cwd: scaffold,
  quiet: true,
});
checkLock(scaffold, tarballs);
await run('npm run typecheck (tsc)', 'npm', ['run', 'typecheck'], { cwd: scaffold });
const tested = await run(
  'npm test (vitest: runConformance on the scaffold)',
  'npm',
  ['test', '--', '--reporter=verbose'],
  { cwd: scaffold },
);
if (!/Tests\s+\d+ passed/.test(tested) || /\d+ failed/.test(tested))
  fail('npm test in the scaffold did not pass');
// The example variant's test passed, and its annotation says which check killed it.
const variantTest = new RegExp(
  `✓ .*mutant ${DOC_ARCH}-pte-free-defer-at-once is killed by use-after-free[^\\n]*\\n[\\s\\S]*?killed by use-after-free \\(`,
);
if (!variantTest.test(tested))
  fail('npm test in the scaffold did not show its example variant killed by its check');
await run(
  'npm run conformance (the CLI on the TypeScript port)',
  'npm',
  [
    'run',
    'conformance',
    '--',
    ...SCENARIOS.flatMap((s) => ['--scenario', s]),
    '--no-mutants',
    '--workers',
    '1',
    '--no-progress',
  ],
  { cwd: scaffold },
);
registry.close();

console.log('\n== times');
for (const [what, ms] of timings) console.log(`${(ms / 1000).toFixed(1).padStart(7)} s  ${what}`);
console.log(`${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s  total`);
if (keep) console.log(`consumer-check: left ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log('consumer-check: ok');
