/**
 * What a conformance run's results depend on, written at the head of a
 * `--resume` journal and into every shard report: the code (a digest of
 * ptlab's packages as they are on disk), the options that decide the cells,
 * and the plan's digest. A journal or shard made by other code or other
 * options is refused, and the message names what differs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@ptlab/core';
import type { ConformancePlan } from './plan.js';
import { cliVersion } from './version.js';

/** The options a run's cells and report depend on (not --workers, --json, --junit, --progress). */
export interface RunOptionsIdentity {
  readonly seed: number;
  /** --arch as given (empty: every config). */
  readonly archs: readonly string[];
  /** --scenario as given (empty: every scenario). */
  readonly scenarios: readonly string[];
  readonly scenarioDirs: readonly string[];
  /** --arch-module as given, with the sha256 of the file each resolved to. */
  readonly archModules: readonly { readonly spec: string; readonly sha256: string }[];
  readonly mutants: boolean;
  readonly allMutantCells: boolean;
  /** --split-above: which cells split their search (their execution counts are the split search's). */
  readonly splitAbove: number;
  /** Trace paths appear in the report. */
  readonly tracesDir: string;
  readonly cellTimeoutMs: number;
  readonly cellMemoryMb: number;
  /** `i/N`, or null for the whole plan. */
  readonly shard: string | null;
}

export interface CodeIdentity {
  /** @ptlab/cli's version. */
  readonly cli: string;
  /** sha256 over the src/ and dist/ files of @ptlab/cli and every @ptlab package it loads. */
  readonly sha256: string;
  readonly files: number;
}

export interface RunIdentity {
  readonly code: CodeIdentity;
  readonly options: RunOptionsIdentity;
  /** The plan's digest (ConformancePlan.digest). */
  readonly plan: string;
  /** Units this run covers (the plan's, or one shard's). */
  readonly units: number;
}

const CODE_DIRS = ['src', 'dist'];

function filesUnder(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    if (e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/** The package directory of @ptlab/<name> as seen from `from` (a node_modules lookup, no code run). */
function packageDir(name: string, from: string): string | null {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return realpathSync(p);
    if (dirname(d) === d) return null;
  }
}

let cached: CodeIdentity | null = null;

/**
 * The digest of the code that runs cells: @ptlab/cli and the @ptlab packages
 * it depends on (directly or not), their src/ and dist/ as on disk. Running
 * from source and from the built bundle both read these files, so a rebuild
 * or an edit changes the digest.
 */
export function codeIdentity(): CodeIdentity {
  if (cached) return cached;
  const cliDir = dirname(dirname(fileURLToPath(import.meta.url)));
  const seen = new Map<string, string>();
  const todo: [string, string][] = [['@ptlab/cli', cliDir]];
  while (todo.length) {
    const [name, dir] = todo.pop() as [string, string];
    if (seen.has(name)) continue;
    seen.set(name, dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {}).sort()) {
      if (!dep.startsWith('@ptlab/') || seen.has(dep)) continue;
      const d = packageDir(dep, dir);
      if (d) todo.push([dep, d]);
    }
  }
  const h = createHash('sha256');
  let files = 0;
  for (const name of [...seen.keys()].sort()) {
    const dir = seen.get(name) as string;
    h.update(`${name}\u0000${readFileSync(join(dir, 'package.json'))}\u0000`);
    for (const sub of CODE_DIRS) {
      const root = join(dir, sub);
      if (!existsSync(root) || !statSync(root).isDirectory()) continue;
      const list: string[] = [];
      filesUnder(root, list);
      for (const f of list) {
        h.update(`${name}/${relative(dir, f)}\u0000`);
        h.update(readFileSync(f));
        files++;
      }
    }
  }
  cached = { cli: cliVersion(), sha256: h.digest('hex'), files };
  return cached;
}

export function runIdentity(
  plan: ConformancePlan,
  options: RunOptionsIdentity,
  units: number,
): RunIdentity {
  return { code: codeIdentity(), options, plan: plan.digest, units };
}

const OPTION_FLAGS: Record<keyof RunOptionsIdentity, string> = {
  seed: '--seed',
  archs: '--arch',
  scenarios: '--scenario',
  scenarioDirs: '--scenario-dir',
  archModules: '--arch-module',
  mutants: '--no-mutants',
  allMutantCells: '--all-mutant-cells',
  splitAbove: '--split-above',
  tracesDir: '--traces',
  cellTimeoutMs: '--cell-timeout',
  cellMemoryMb: '--cell-memory',
  shard: '--shard',
};

const show = (v: unknown): string => (v === null ? 'none' : JSON.stringify(v));

/** How a message names the two sides: "in the journal" / "in this run". */
export interface Sides {
  readonly there: string;
  readonly here: string;
}

/**
 * What differs between two identities, as phrases ("--seed: 2 in the
 * journal, 1 in this run"); empty when they agree. `ignore` leaves options
 * out (merge: the shard index).
 */
export function identityDiff(
  there: RunIdentity,
  here: RunIdentity,
  sides: Sides,
  ignore: readonly (keyof RunOptionsIdentity)[] = [],
): string[] {
  const { there: T, here: H } = sides;
  const out: string[] = [];
  if (there.code.sha256 !== here.code.sha256 || there.code.cli !== here.code.cli)
    out.push(
      `other code (@ptlab/cli ${there.code.cli} with code sha256 ${there.code.sha256.slice(0, 12)} ${T}; ${here.code.cli} with ${here.code.sha256.slice(0, 12)} ${H})`,
    );
  for (const k of Object.keys(OPTION_FLAGS) as (keyof RunOptionsIdentity)[]) {
    if (ignore.includes(k)) continue;
    const a = show(there.options[k]);
    const b = show(here.options[k]);
    if (a !== b) out.push(`${OPTION_FLAGS[k]}: ${a} ${T}, ${b} ${H}`);
  }
  if (out.length === 0 && there.plan !== here.plan)
    out.push(
      `another plan (the scenarios, configs or mutant catalogue differ: plan ${there.plan.slice(0, 12)} ${T}, ${here.plan.slice(0, 12)} ${H})`,
    );
  // A shard's unit count depends on its index: compared only when the shard is.
  if (out.length === 0 && !ignore.includes('shard') && there.units !== here.units)
    out.push(`${there.units} units ${T}, ${here.units} ${H}`);
  return out;
}

/** Refuse (exit 2) when `there` (a journal, a shard) is not a run of the same code and options. */
export function requireSameRun(
  what: string,
  there: RunIdentity,
  here: RunIdentity,
  sides: Sides,
  ignore: readonly (keyof RunOptionsIdentity)[] = [],
): void {
  const d = identityDiff(there, here, sides, ignore);
  if (d.length) throw new UsageError(`${what} comes from a different run: ${d.join('; ')}`);
}
