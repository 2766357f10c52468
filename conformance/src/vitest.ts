/**
 * The conformance suite inside your own vitest run:
 *
 *   import { runConformance } from '@ptlab/conformance/vitest';
 *   import { myArch } from '../src/index.js';
 *   runConformance({ arch: myArch });
 *
 * One test per scenario x config (skipped, with the reason, where it does not
 * apply; annotated with its verdict kind: verified, verified-bounded or
 * sampled), and one per mutant of the catalogue that applies to the port's
 * configs (the mm mutants and the port's own variants), accounted for exactly
 * as `ptlab conformance` does (summary.ts): the same cells, budget, seed and
 * verdicts.
 * Known kernel findings (findings.ts) on the port's configs get a test of
 * their own (still reproduces on the mainline model; its fix passes), and the
 * other cells run with their fixes applied, so a known finding is reported
 * apart and does not hide what else a cell would find.
 */
import type { ArchConfig, ArchPort } from '@ptlab/core';
import { describe, it, type TestContext } from 'vitest';
import { validatePort } from './arch-module.js';
import { checkKnownFinding, KERNEL_FINDINGS, knownFixes } from './findings.js';
import { mutantCanChange, unreachedResult } from './mutant-reach.js';
import { mutantCatalogue, mutantNotApplicable, mutantOrder } from './mutants.js';
import {
  type BudgetStep,
  type CellResult,
  cellKey,
  notApplicable,
  QUICK_BUDGET,
  QUICK_MUTANT_BUDGET,
  runCell,
} from './runner.js';
import type { ValidScenario } from './scenario-schema.js';
import { loadScenarios, SCENARIO_DIR, SUITE_SCENARIO_DIRS } from './scenarios.js';
import { accountMutant, mutantVerdictText, verdictLabel } from './summary.js';

export interface RunConformanceOptions {
  /** The arch package's ArchPort. */
  readonly arch: ArchPort;
  /** Only these config ids (default: all the port's configs). */
  readonly configs?: readonly string[];
  /** Scenarios to run (default: the suite's). */
  readonly scenarios?: readonly ValidScenario[];
  /**
   * Which mutants to run: `all` (default: the mm mutants and the port's
   * variants, as `ptlab conformance`), `arch` (only the port's variants), or
   * `none`. `false` is `none`, `true` is `all`.
   */
  readonly variants?: boolean | 'all' | 'arch' | 'none';
  readonly seed?: number;
  /** The plan of the clean cells (default CLEAN_BUDGET, as `ptlab conformance`). */
  readonly budget?: readonly BudgetStep[];
  /**
   * The plan of the mutant and variant cells (default MUTANT_BUDGET; with `budget:
   * QUICK_BUDGET`, QUICK_MUTANT_BUDGET).
   */
  readonly mutantBudget?: readonly BudgetStep[];
  /** Per-test timeout in ms (default 120 s; mutant tests get 4x). */
  readonly timeout?: number;
}

function describeCell(r: CellResult): string {
  return `${verdictLabel(r)}: ${r.schedules} executions${r.truncated ? `, ${r.truncated} cut off by the step budget` : ''}`;
}

export function runConformance(o: RunConformanceOptions): void {
  const port = validatePort(o.arch, 'runConformance');
  // The hand-written scenarios: the generated ones (scenarios/generated) are the default run's.
  const loaded = o.scenarios
    ? { scenarios: [...o.scenarios], errors: [] }
    : loadScenarios(SCENARIO_DIR);
  const configs = port.configs.filter((c) => !o.configs || o.configs.includes(c.id));
  const timeout = o.timeout ?? 120_000;
  const cell = { seed: o.seed ?? 1, ...(o.budget ? { budget: o.budget } : {}) };
  // With the quick plan for clean cells, mutants and variants get QUICK_MUTANT_BUDGET (the main
  // job runs the default ones).
  const quick = o.budget === QUICK_BUDGET;
  const mutantBudget = o.mutantBudget ?? (quick ? QUICK_MUTANT_BUDGET : undefined);
  const mutantCell = { seed: o.seed ?? 1, ...(mutantBudget ? { budget: mutantBudget } : {}) };
  const which =
    o.variants === false
      ? 'none'
      : o.variants === true || o.variants === undefined
        ? 'all'
        : o.variants;
  // Clean results are shared by the cell tests and the mutant accounting (tests run in order).
  const clean = new Map<string, CellResult>();
  const cleanCell = (config: ArchConfig, scenario: ValidScenario): CellResult => {
    const key = cellKey(config.id, scenario.id);
    let r = clean.get(key);
    if (!r) {
      r = runCell({ port, config, scenario, patches: knownFixes(config.id), ...cell });
      clean.set(key, r);
    }
    return r;
  };
  describe(`ptlab conformance: ${port.arch}`, () => {
    for (const e of loaded.errors) {
      it(`scenario file ${e.where} loads`, () => {
        throw e;
      });
    }
    for (const config of configs) {
      describe(config.id, () => {
        for (const scenario of loaded.scenarios) {
          const na = notApplicable(scenario, config);
          if (na) {
            it.skip(`${scenario.id} (${na})`, () => {});
            continue;
          }
          it(scenario.id, { timeout }, async (t: TestContext) => {
            const r = cleanCell(config, scenario);
            await t.annotate(describeCell(r), r.verdict);
            if (r.result === 'fail') throw new Error(r.story ?? r.reason ?? 'failed');
          });
        }
      });
    }
    for (const f of KERNEL_FINDINGS) {
      if (f.fix.arch !== port.arch || !configs.some((c) => f.configs.includes(c.id))) continue;
      it(`kernel finding ${f.id} (reported apart: the fix ${f.fix.variant} must pass)`, {
        timeout,
      }, async (t: TestContext) => {
        // A finding's scenario may be a generated one: look in the whole suite for it.
        const scenarios = loaded.scenarios.some((x) => x.id === f.scenario)
          ? loaded.scenarios
          : loadScenarios(SUITE_SCENARIO_DIRS).scenarios;
        const checks = checkKnownFinding(f, { ports: [port], scenarios, ...cell });
        if (checks.length === 0) throw new Error(`${f.id}: scenario ${f.scenario} not loaded`);
        for (const c of checks)
          await t.annotate(
            `${c.config}: ${c.reproduced ? 'reproduces on the mainline model' : `no longer reproduces (${c.detail}); the catalogue is stale`}`,
            c.reproduced ? 'known-finding' : 'stale-finding',
          );
        const bad = checks.filter((c) => !c.fixPasses);
        if (bad.length)
          throw new Error(bad.map((c) => `${c.config}: fix fails: ${c.fixDetail}`).join('\n'));
      });
    }
    if (which === 'none') return;
    for (const m of mutantCatalogue([port])) {
      if (which === 'arch' && m.layer !== 'arch') continue;
      if (m.layer === 'arch' && m.arch !== port.arch) continue;
      const where = configs.filter((c) => mutantNotApplicable(m, c) === null);
      const title = `mutant ${m.id} ${m.expect === 'caught' ? `is killed by ${m.checks.join(' or ') || 'a check'}` : 'passes'}`;
      if (where.length === 0) {
        const reason = configs.map((c) => mutantNotApplicable(m, c)).find((x) => x) ?? 'no config';
        it.skip(`${title} (not run: ${reason})`, () => {});
        continue;
      }
      it(title, { timeout: timeout * 4 }, async (t: TestContext) => {
        const cells: CellResult[] = [];
        const cleans: CellResult[] = [];
        for (const config of where) {
          for (const scenario of mutantOrder(loaded.scenarios, m)) {
            if (notApplicable(scenario, config)) continue;
            const base = cleanCell(config, scenario);
            // A verified clean search that never reached the mutant's code proves the cell (mutant-reach.ts).
            const r = mutantCanChange(base, m)
              ? runCell({
                  port,
                  config,
                  scenario,
                  mutant: m,
                  patches: knownFixes(config.id),
                  ...mutantCell,
                })
              : unreachedResult(base, m);
            cells.push(r);
            cleans.push(base);
            const own = r.finding && (m.checks.length === 0 || m.checks.includes(r.finding.check));
            if (m.expect === 'caught' && own && cleans[cleans.length - 1]?.result === 'pass') break;
          }
        }
        const a = accountMutant(m, configs, cells, cleans);
        await t.annotate(mutantVerdictText(a), a.verdict);
        if (!a.ok) throw new Error(`mutant ${m.id}: ${mutantVerdictText(a)}`);
      });
    }
  });
}
