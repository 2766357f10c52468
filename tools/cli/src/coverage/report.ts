/**
 * The parent side of `--coverage DIR`: read what the children wrote
 * (collect.ts), map V8's block counts back to the TypeScript sources through
 * each script's source map with ast-v8-to-istanbul (branches come from the
 * AST of the code V8 ran, so a branch never reached still counts as one), keep
 * the kernel-model files (scope.ts), and write DIR/lcov.info (istanbul's
 * lcovonly reporter) and DIR/coverage-summary.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from 'acorn';
import { convert } from 'ast-v8-to-istanbul';
import libCoverage, {
  type CoverageMap,
  type CoverageMapData,
  type FileCoverage,
} from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';
import type { ScriptSource } from './collect.js';
import { type ModuleScope, packageOf } from './scope.js';

/** Found and hit counts. */
export interface Counts {
  readonly found: number;
  readonly hit: number;
}

/** A branch no cell reached: one arm of an if, a ?:, a && / || / ??, a switch case, a default value. */
export interface UnreachedBranch {
  /** Path relative to the working directory. */
  readonly file: string;
  readonly line: number;
  /** istanbul's branch type: if, cond-expr, binary-expr, switch, default-arg. */
  readonly type: string;
  /** Which arm (0: the then / left / first case ...). */
  readonly arm: number;
  /** The trimmed source line the branch starts on: what the allow-list matches. */
  readonly code: string;
  /** The enclosing function's name, where one is known. */
  readonly fn: string;
}

export interface PackageCoverage {
  readonly branches: Counts;
  readonly functions: Counts;
  readonly unreachedBranches: readonly UnreachedBranch[];
  /** Functions never called: "file:line name". */
  readonly unreachedFunctions: readonly string[];
}

export interface CoverageResult {
  readonly perPackage: Readonly<Record<string, PackageCoverage>>;
  /** Scripts whose coverage could not be mapped (no source map, unparsable), with why. */
  readonly unmapped: readonly string[];
  /** Child coverage files read. */
  readonly processes: number;
}

/** Where the children write (DIR/raw), made empty for this run. */
export function prepareCoverageDir(dir: string): string {
  const raw = join(resolve(dir), 'raw');
  rmSync(raw, { recursive: true, force: true });
  mkdirSync(join(raw, 'v8'), { recursive: true });
  return raw;
}

function loadSourceMap(d: ScriptSource): unknown {
  const u = d.sourceMapURL;
  if (!u) return undefined;
  if (u.startsWith('data:')) {
    const comma = u.indexOf(',');
    const meta = u.slice(0, comma);
    const body = u.slice(comma + 1);
    return JSON.parse(
      meta.endsWith(';base64')
        ? Buffer.from(body, 'base64').toString('utf8')
        : decodeURIComponent(body),
    );
  }
  const path = fileURLToPath(new URL(u, d.url));
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

const parse = (code: string) =>
  Parser.parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true });

/** The enclosing function of a location, by name, from the file's fnMap. */
function fnAt(fc: FileCoverage, line: number): string {
  let best = '';
  let bestStart = -1;
  for (const f of Object.values(fc.fnMap)) {
    const s = f.loc.start.line;
    if (s <= line && f.loc.end.line >= line && s > bestStart) {
      best = f.name;
      bestStart = s;
    }
  }
  return best;
}

/**
 * Read DIR/raw, write DIR/lcov.info and DIR/coverage-summary.json, and
 * return the per-package figures with every unreached branch and function.
 */
export async function writeCoverageReport(
  dir: string,
  modules: readonly ModuleScope[],
): Promise<CoverageResult> {
  const out = resolve(dir);
  const raw = join(out, 'raw');
  const names = existsSync(raw) ? readdirSync(raw) : [];
  const files = names.filter((f) => /^sources-\d+\.json$/.test(f));
  const map: CoverageMap = libCoverage.createCoverageMap({});
  const unmapped: string[] = [];
  const sourceMaps = new Map<string, unknown>();
  const v8Dir = join(raw, 'v8');
  const v8Files = existsSync(v8Dir) ? readdirSync(v8Dir) : [];
  for (const f of files) {
    const pid = /^sources-(\d+)\.json$/.exec(f)?.[1] as string;
    const code = new Map<string, ScriptSource>();
    for (const x of JSON.parse(readFileSync(join(raw, f), 'utf8')) as ScriptSource[])
      code.set(x.url, x);
    const scripts: { url: string; functions: unknown[] }[] = [];
    for (const c of v8Files.filter((n) => n.startsWith(`coverage-${pid}-`)))
      scripts.push(
        ...(JSON.parse(readFileSync(join(v8Dir, c), 'utf8')) as { result: typeof scripts }).result,
      );
    for (const r of scripts) {
      const src = code.get(r.url);
      if (!src) continue;
      const d = { ...src, functions: r.functions };
      const path = fileURLToPath(d.url);
      // A dist bundle or a transformed .ts: is any of its sources in scope?
      const key = `${d.url}\0${d.sourceMapURL}`;
      let sm = sourceMaps.get(key);
      if (!sourceMaps.has(key)) {
        try {
          sm = loadSourceMap(d);
        } catch (e) {
          unmapped.push(`${path}: its source map cannot be read (${(e as Error).message})`);
          sm = undefined;
        }
        sourceMaps.set(key, sm);
      }
      const sources = sm
        ? ((sm as { sources?: string[] }).sources ?? []).map((s) =>
            s.startsWith('file://') ? fileURLToPath(s) : resolve(dirname(path), s),
          )
        : [path];
      if (!sources.some((s) => packageOf(s, modules))) continue;
      if (!sm && !path.endsWith('.js') && !path.endsWith('.mjs')) {
        unmapped.push(`${path}: no source map for the code V8 ran`);
        continue;
      }
      try {
        const data = await convert({
          code: d.source,
          ast: parse(d.source) as never,
          coverage: { url: d.url, functions: d.functions as never },
          ...(sm ? { sourceMap: sm as never } : {}),
        });
        for (const [file, fc] of Object.entries(data))
          if (packageOf(file, modules)) map.merge({ [file]: fc });
      } catch (e) {
        unmapped.push(`${path}: ${(e as Error).message}`);
      }
    }
  }

  // lcov.info, with paths relative to the working directory.
  const rel = libCoverage.createCoverageMap({});
  for (const file of map.files()) {
    const r = relative(process.cwd(), file);
    rel.merge({ [r]: { ...map.fileCoverageFor(file).toJSON(), path: r } } as CoverageMapData);
  }
  const context = libReport.createContext({ dir: out, coverageMap: rel });
  reports.create('lcovonly', { file: 'lcov.info' }).execute(context);

  const perPackage: Record<string, PackageCoverage> = {};
  const text = new Map<string, string[]>();
  for (const file of map.files().sort()) {
    const pkg = packageOf(file, modules) as string;
    const fc = map.fileCoverageFor(file);
    const prev = perPackage[pkg] ?? {
      branches: { found: 0, hit: 0 },
      functions: { found: 0, hit: 0 },
      unreachedBranches: [],
      unreachedFunctions: [],
    };
    const s = fc.toSummary();
    const lines =
      text.get(file) ??
      (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : ([] as string[]));
    text.set(file, lines);
    const relFile = relative(process.cwd(), file);
    const ub: UnreachedBranch[] = [...prev.unreachedBranches];
    for (const [id, counts] of Object.entries(fc.b)) {
      const br = fc.branchMap[id];
      if (!br) continue;
      counts.forEach((n, arm) => {
        if (n > 0) return;
        const loc = br.locations[arm]?.start.line ? br.locations[arm] : br.loc;
        const line = loc?.start.line ?? 0;
        ub.push({
          file: relFile,
          line,
          type: br.type,
          arm,
          code: (lines[line - 1] ?? '').trim(),
          fn: fnAt(fc, line),
        });
      });
    }
    const uf = [...prev.unreachedFunctions];
    for (const [id, n] of Object.entries(fc.f))
      if (n === 0) {
        const f = fc.fnMap[id];
        if (f) uf.push(`${relFile}:${f.loc.start.line} ${f.name}`);
      }
    perPackage[pkg] = {
      branches: {
        found: prev.branches.found + s.branches.total,
        hit: prev.branches.hit + s.branches.covered,
      },
      functions: {
        found: prev.functions.found + s.functions.total,
        hit: prev.functions.hit + s.functions.covered,
      },
      unreachedBranches: ub,
      unreachedFunctions: uf,
    };
  }
  const result: CoverageResult = { perPackage, unmapped, processes: files.length };
  writeFileSync(join(out, 'coverage-summary.json'), `${JSON.stringify(summaryJson(result), null, 2)}\n`);
  return result;
}

/** The JSON summary (DIR/coverage-summary.json, and the report's `coverage` field). */
export function summaryJson(r: CoverageResult) {
  return {
    perPackage: Object.fromEntries(
      Object.entries(r.perPackage).map(([p, c]) => [
        p,
        { branches: c.branches, functions: c.functions },
      ]),
    ),
  };
}

/** Percent, one decimal; 100 when there is nothing to reach. */
export const pct = (c: Counts): string => (c.found ? ((100 * c.hit) / c.found).toFixed(1) : '100.0');
