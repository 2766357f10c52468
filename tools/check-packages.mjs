// @ts-check
/**
 * What every published package must ship, checked on the built tree (run
 * `pnpm build` first; `pnpm check:packages` runs this, then publint and attw):
 *   - package.json: description, keywords, license MIT, author, repository
 *     (with this package's directory), homepage, bugs, engines.node;
 *   - README.md, and LICENSE identical to the root LICENSE, in the packed tarball;
 *   - every package it imports at run time or from its types (src/, dist/*.js,
 *     dist/*.d.ts) is a dependency or peer dependency: a workspace package
 *     missing there installs fine here and breaks for users; and every
 *     dependency is imported somewhere (none installed for nothing).
 * Prints one line per package and every problem; exits 1 if there is any.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
const REPO_URL = 'git+https://github.com/ptlab/ptlab.git';

/** @typedef {{ name: string, path: string, private: boolean }} WorkspacePackage */
/** @type {WorkspacePackage[]} */
const workspace = JSON.parse(
  execFileSync('pnpm', ['-r', 'ls', '--json', '--depth', '-1'], { cwd: root, encoding: 'utf8' }),
);
const published = workspace.filter((p) => !p.private);

/** @param {string} dir @returns {string[]} */
function walk(dir) {
  /** @type {string[]} */
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Bare specifiers a JS/TS file imports or re-exports (comments stripped first). */
/** @param {string} text @returns {string[]} */
function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = [];
  const re =
    /(?:^|[;\s}])(?:import|export)\s*(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of code.matchAll(re)) found.push(/** @type {string} */ (m[1] ?? m[2]));
  return found.filter((s) => !s.startsWith('.') && !s.startsWith('/'));
}

/** @param {string} spec */
function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : /** @type {string} */ (parts[0]);
}

/** @param {string} name */
function isBuiltin(name) {
  return name.startsWith('node:') || builtinModules.includes(name);
}

const problems = [];
const work = mkdtempSync(join(tmpdir(), 'ptlab-check-packages-'));
try {
  for (const p of published) {
    const dir = relative(root, p.path);
    const pj = JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8'));
    const bad = (/** @type {string} */ what) => problems.push(`${p.name} (${dir}): ${what}`);

    // Manifest.
    if (typeof pj.description !== 'string' || pj.description.length < 20) bad('no description');
    if (!Array.isArray(pj.keywords) || pj.keywords.length === 0) bad('no keywords');
    if (pj.license !== 'MIT') bad(`license is ${JSON.stringify(pj.license)}, not MIT`);
    if (!pj.author) bad('no author');
    if (pj.repository?.url !== REPO_URL || pj.repository?.directory !== dir)
      bad(`repository must be { type: git, url: ${REPO_URL}, directory: ${dir} }`);
    if (typeof pj.homepage !== 'string' || !pj.homepage) bad('no homepage');
    if (!pj.bugs?.url) bad('no bugs.url');
    if (pj.engines?.node !== '>=20') bad('engines.node must be ">=20"');

    // Dependencies. What dist/ (the published .js and .d.ts) imports must be a dependency or
    // peer dependency. src/ is scanned too, because tsup bundles whatever is not declared
    // there, so dist/ alone would hide a missing one; src/ may also use a devDependency
    // (code that only runs from a checkout).
    const runtime = new Set([
      ...Object.keys(pj.dependencies ?? {}),
      ...Object.keys(pj.peerDependencies ?? {}),
    ]);
    const dev = new Set(Object.keys(pj.devDependencies ?? {}));
    const code = (/** @type {string} */ d) =>
      walk(join(p.path, d)).filter((f) => /\.(?:[cm]?[jt]s)$/.test(f));
    const dist = code('dist');
    if (dist.length === 0) bad('no dist/ (run pnpm build first)');
    /** @type {Map<string, string>} */
    const missing = new Map();
    for (const [files, allowDev] of /** @type {const} */ ([
      [dist, false],
      [code('src'), true],
    ]))
      for (const f of files)
        for (const spec of importsOf(readFileSync(f, 'utf8'))) {
          const name = packageOf(spec);
          if (isBuiltin(name) || name === p.name || runtime.has(name)) continue;
          if (allowDev && dev.has(name)) continue;
          if (!missing.has(name)) missing.set(name, relative(p.path, f));
        }
    for (const [name, where] of missing)
      bad(
        `imports ${name} (${where}) but does not declare it` +
          (where.startsWith('src/') ? ' (dependencies, peer or dev)' : ' in dependencies'),
      );
    // And the other way round: a dependency nothing imports is installed for every user for nothing.
    const imported = new Set(
      [...dist, ...code('src')].flatMap((f) => importsOf(readFileSync(f, 'utf8')).map(packageOf)),
    );
    for (const name of Object.keys(pj.dependencies ?? {}))
      if (!imported.has(name))
        bad(`declares the dependency ${name}, which nothing in src/ or dist/ imports`);

    // The tarball: README.md and the root LICENSE.
    const dest = join(work, p.name.replace('/', '+'));
    execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: p.path, stdio: 'ignore' });
    const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
    if (!tgz) {
      bad('pnpm pack wrote no tarball');
      continue;
    }
    const tarball = join(dest, tgz);
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    if (!listing.includes('package/README.md')) bad('the tarball has no README.md');
    if (!listing.includes('package/LICENSE')) bad('the tarball has no LICENSE');
    else {
      const text = execFileSync('tar', ['-xzOf', tarball, 'package/LICENSE'], { encoding: 'utf8' });
      if (text !== rootLicense) bad('LICENSE differs from the root LICENSE (copy it again)');
    }
    console.log(`${p.name.padEnd(20)} ${listing.filter(Boolean).length} files packed`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (problems.length) {
  for (const m of problems) console.error(`check-packages: ${m}`);
  process.exit(1);
}
console.log(`check-packages: ${published.length} packages ok`);
