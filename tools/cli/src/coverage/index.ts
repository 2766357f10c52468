/**
 * `ptlab conformance --coverage DIR`: which branches of the kernel-model code
 * (scope.ts) the run's cells reached, measured with V8's precise coverage in
 * the child processes that run them (collect.ts), mapped back to TypeScript
 * (report.ts), and held against the reviewed allow-list (allow.ts).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SCENARIO_DIR } from '@ptlab/conformance';
import { type AllowCheck, checkAllowList, entryFor, loadAllowList } from './allow.js';
import {
  type CoverageResult,
  pct,
  prepareCoverageDir,
  summaryJson,
  writeCoverageReport,
} from './report.js';
import { type ModuleScope, moduleScope, TARGET_PACKAGE } from './scope.js';

export { moduleScope, prepareCoverageDir, summaryJson, writeCoverageReport };
export type { CoverageResult };

/** The suite's reviewed allow-list, beside its scenarios. */
export const ALLOW_LIST = join(dirname(SCENARIO_DIR), 'coverage-allow.json');

export interface CoverageOutcome {
  readonly result: CoverageResult;
  /** The report's `coverage` field (DIR/coverage-summary.json). */
  readonly json: ReturnType<typeof summaryJson> & { readonly target: TargetFigures };
  /** False when the allow-list was enforced and an unreached branch is not on it. */
  readonly ok: boolean;
}

/** The target packages' figures, raw and over the branches correct code can take. */
export interface TargetFigures {
  /** Every branch of packages/mm and packages/arch-*. */
  readonly branches: { readonly found: number; readonly hit: number };
  /**
   * Without the unreached arms the allow-list says no default run of correct
   * code can take (kinds broken-code, foreign-input, model-artefact): what the
   * 95% target is held against.
   */
  readonly correctCode: { readonly found: number; readonly hit: number };
  /** Unreached and allowed, by kind. */
  readonly unreachedByKind: AllowCheck['byKind'];
  readonly gaps: number;
  readonly stale: number;
}

/** The target percentage of the branches correct code can take (issue 7; docs/coverage.md). */
export const TARGET_PCT = 95;

export function targetFigures(found: number, hit: number, check: AllowCheck): TargetFigures {
  const k = check.byKind;
  const out = k['broken-code'] + k['foreign-input'] + k['model-artefact'];
  return {
    branches: { found, hit },
    correctCode: { found: found - out, hit },
    unreachedByKind: check.byKind,
    gaps: check.gaps.length,
    stale: check.stale.length,
  };
}

/**
 * Write the reports, print the per-package figures and every unreached
 * function and branch, and (when `enforce`: the default run, every scenario
 * and config of ptlab's own ports) fail on an unreached branch of a target
 * package that the allow-list does not name.
 */
export async function finishCoverage(
  dir: string,
  modules: readonly ModuleScope[],
  enforce: boolean,
  out: (s: string) => void,
  allowPath: string = ALLOW_LIST,
): Promise<CoverageOutcome> {
  const result = await writeCoverageReport(dir, modules);
  const allow = loadAllowList(allowPath);
  out('');
  out(`Coverage of the kernel-model code (${result.processes} child processes; ${dir}/lcov.info):`);
  const pkgs = Object.keys(result.perPackage).sort();
  const w = Math.max(...pkgs.map((p) => p.length), 8);
  out(`  ${'package'.padEnd(w)}  branches            functions`);
  let tf = 0;
  let th = 0;
  for (const p of pkgs) {
    const c = result.perPackage[p];
    if (!c) continue;
    if (TARGET_PACKAGE.test(p)) {
      tf += c.branches.found;
      th += c.branches.hit;
    }
    out(
      `  ${p.padEnd(w)}  ${`${c.branches.hit}/${c.branches.found}`.padStart(9)} ${pct(c.branches).padStart(5)}%  ${`${c.functions.hit}/${c.functions.found}`.padStart(9)} ${pct(c.functions).padStart(5)}%`,
    );
  }
  const target = pkgs
    .filter((p) => TARGET_PACKAGE.test(p))
    .flatMap((p) => result.perPackage[p]?.unreachedBranches ?? []);
  const check = checkAllowList(target, allow);
  const figures = targetFigures(tf, th, check);
  const k = figures.unreachedByKind;
  out(`  mm + arch-* branches: ${th}/${tf} (${pct({ found: tf, hit: th })}%)`);
  out(
    `  of the ${figures.correctCode.found} that correct code can take: ${th} (${pct(figures.correctCode)}%; target ${TARGET_PCT}%)` +
      ` — not counted: ${k['broken-code']} broken-code, ${k['foreign-input']} foreign-input, ${k['model-artefact']} model-artefact arms; ${k.unmodelled} unmodelled arms count as unreached`,
  );
  const listed = new Set(check.gaps);
  for (const p of pkgs) {
    const c = result.perPackage[p];
    if (!c || (!c.unreachedBranches.length && !c.unreachedFunctions.length)) continue;
    out('');
    out(`  ${p}: unreached functions (${c.unreachedFunctions.length})`);
    for (const f of c.unreachedFunctions) out(`    ${f}`);
    out(`  ${p}: unreached branches (${c.unreachedBranches.length})`);
    for (const b of c.unreachedBranches)
      out(
        `    ${b.file}:${b.line} ${b.type}[${b.arm}]${b.fn ? ` in ${b.fn}` : ''}: ${b.code}${TARGET_PACKAGE.test(p) ? (listed.has(b) ? '  <- NOT IN ALLOW-LIST' : '  (allowed)') : ''}`,
      );
  }
  for (const u of result.unmapped) out(`  not mapped: ${u}`);
  out('');
  out(
    `allow-list ${allowPath}: ${check.allowed} unreached branches allowed, ${check.gaps.length} not listed, ${check.stale.length} stale entries${enforce ? '' : ' (not enforced: a filtered run or an arch module)'}`,
  );
  for (const s of check.stale)
    out(`  stale: ${s.file}: ${s.code} ${s.type}[${s.arm}] (reached now, or the line changed)`);
  if (check.gaps.length && enforce) {
    out('COVERAGE GAP: unreached branches not in the allow-list (add a scenario, or list them with a reason):');
    out(JSON.stringify(check.gaps.map(entryFor), null, 2));
  }
  const json = { ...summaryJson(result), target: figures };
  writeFileSync(join(dir, 'coverage-summary.json'), `${JSON.stringify(json, null, 2)}\n`);
  return { result, json, ok: !enforce || check.gaps.length === 0 };
}
