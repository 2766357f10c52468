import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ArchModuleError } from '@ptlab/core';
import { exports as resolveExports } from 'resolve.exports';

/**
 * An arch module as the user named it, resolved to the one file a child
 * process will import. Resolving reads files only; it runs no code.
 */
export interface ArchModuleRef {
  /** What the user typed (--arch-module) or the trace recorded. */
  readonly spec: string;
  /** Absolute, symlink-free path of the entry file. */
  readonly entry: string;
  /** sha256 of the entry file's content, so a report says exactly what ran. */
  readonly sha256: string;
}

/** The --conditions this process runs with (e.g. "source" in the repo), for package exports. */
function userConditions(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (const [i, a] of argv.entries()) {
    if (a.startsWith('--conditions=')) out.push(a.slice('--conditions='.length));
    else if ((a === '--conditions' || a === '-C') && argv[i + 1]) out.push(argv[i + 1] as string);
  }
  return out;
}

function fromPackageDir(dir: string, subpath: string, spec: string): string {
  const pj = join(dir, 'package.json');
  if (!existsSync(pj))
    throw new ArchModuleError(spec, `${dir} is a directory without a package.json`);
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(pj, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ArchModuleError(spec, `cannot read ${pj}: ${(e as Error).message}`);
  }
  const candidates: string[] = [];
  if (pkg.exports !== undefined) {
    try {
      candidates.push(
        ...(resolveExports(pkg, subpath, { conditions: [...userConditions(), 'node', 'import'] }) ??
          []),
      );
    } catch (e) {
      throw new ArchModuleError(spec, `package exports of ${pj}: ${(e as Error).message}`);
    }
  } else if (subpath !== '.') candidates.push(subpath);
  else candidates.push(typeof pkg.main === 'string' ? pkg.main : 'index.js');
  for (const c of candidates) {
    const f = resolve(dir, c);
    if (existsSync(f) && statSync(f).isFile()) return f;
  }
  throw new ArchModuleError(
    spec,
    `package ${String(pkg.name ?? dir)} has no entry file for "${subpath}" (tried ${candidates.join(', ') || 'nothing'}; is it built?)`,
  );
}

/** Split "@scope/name/sub" or "name/sub" into the package name and "./sub". */
function splitPackage(spec: string): { name: string; subpath: string } | null {
  const m = /^((?:@[^/]+\/)?[^/@][^/]*)(\/.*)?$/.exec(spec);
  return m ? { name: m[1] as string, subpath: m[2] ? `.${m[2]}` : '.' } : null;
}

/** Resolve a file, a package directory, or an installed package name (looked up from `cwd`). */
export function resolveArchModule(spec: string, cwd = process.cwd()): ArchModuleRef {
  let entry: string | undefined;
  const asPath = resolve(cwd, spec);
  if (spec.startsWith('.') || isAbsolute(spec) || existsSync(asPath)) {
    if (!existsSync(asPath))
      throw new ArchModuleError(spec, `no such file or directory: ${asPath}`);
    entry = statSync(asPath).isDirectory() ? fromPackageDir(asPath, '.', spec) : asPath;
  } else {
    const p = splitPackage(spec);
    if (!p) throw new ArchModuleError(spec, 'is neither a path nor a package name');
    for (let d = resolve(cwd); ; d = dirname(d)) {
      const dir = join(d, 'node_modules', p.name);
      if (existsSync(join(dir, 'package.json'))) {
        entry = fromPackageDir(dir, p.subpath, spec);
        break;
      }
      if (dirname(d) === d) break;
    }
    if (!entry)
      throw new ArchModuleError(
        spec,
        `package ${p.name} is not installed (looked in node_modules from ${cwd} up)`,
      );
  }
  const real = realpathSync(entry);
  return {
    spec,
    entry: real,
    sha256: createHash('sha256').update(readFileSync(real)).digest('hex'),
  };
}

/** Where an arch came from, for verdict lines: the module's entry file and content digest. */
export const moduleOrigin = (m: ArchModuleRef): string =>
  `arch module ${m.spec} (${m.entry}, sha256 ${m.sha256})`;
