/**
 * `ptlab conformance --coverage DIR`: which branches of the kernel-model code
 * (scope.ts) the run's cells reached, measured with V8's precise coverage in
 * the child processes that run them (collect.ts), mapped back to TypeScript
 * (report.ts), and held against the reviewed allow-list (allow.ts).
 */
import { dirname, join } from 'node:path';
import { SCENARIO_DIR } from '@ptlab/conformance';
import { checkAllowList, entryFor, loadAllowList } from './allow.js';
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
  /** The report's `coverage` field. */
  readonly json: ReturnType<typeof summaryJson>;
  /** False when the allow-list was enforced and an unreached branch is not on it. */
  readonly ok: boolean;
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
  out(
    `  mm + arch-* branches: ${th}/${tf} (${pct({ found: tf, hit: th })}%; target 95% by the default run)`,
  );
  const target = pkgs
    .filter((p) => TARGET_PACKAGE.test(p))
    .flatMap((p) => result.perPackage[p]?.unreachedBranches ?? []);
  const check = checkAllowList(target, allow);
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
  return { result, json: summaryJson(result), ok: !enforce || check.gaps.length === 0 };
}
