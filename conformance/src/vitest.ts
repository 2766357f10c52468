/**
 * The conformance suite inside your own vitest run:
 *
 *   import { runConformance } from '@ptlab/conformance/vitest';
 *   import { myArch } from '../src/index.js';
 *   runConformance({ arch: myArch });
 *
 * One test per scenario x config (skipped, with the reason, where it does not
 * apply), and one per historical variant the port declares; the same cells,
 * budget and seed as `ptlab conformance`, so the results are the same.
 * Known kernel findings (findings.ts) on the port's configs get a test of
 * their own (still reproduces on the mainline model; its fix passes), and the
 * other cells run with their fixes applied, so a known finding is reported
 * apart and does not hide what else a cell would find.
 */
import type { ArchPort } from '@ptlab/core';
import { describe, it } from 'vitest';
import { validatePort } from './arch-module.js';
import { checkKnownFinding, KERNEL_FINDINGS, knownFixes } from './findings.js';
import { mutantCatalogue } from './mutants.js';
import { type BudgetStep, mutantApplies, notApplicable, runCell } from './runner.js';
import type { ValidScenario } from './scenario-schema.js';
import { loadScenarios } from './scenarios.js';

export interface RunConformanceOptions {
  /** The arch package's ArchPort. */
  readonly arch: ArchPort;
  /** Only these config ids (default: all the port's configs). */
  readonly configs?: readonly string[];
  /** Scenarios to run (default: the suite's). */
  readonly scenarios?: readonly ValidScenario[];
  /** Also check the port's historical variants (default true). */
  readonly variants?: boolean;
  readonly seed?: number;
  readonly budget?: readonly BudgetStep[];
  /** Per-test timeout in ms (default 120 s). */
  readonly timeout?: number;
}

export function runConformance(o: RunConformanceOptions): void {
  const port = validatePort(o.arch, 'runConformance');
  const loaded = o.scenarios ? { scenarios: [...o.scenarios], errors: [] } : loadScenarios();
  const configs = port.configs.filter((c) => !o.configs || o.configs.includes(c.id));
  const timeout = o.timeout ?? 120_000;
  const cell = { seed: o.seed ?? 1, ...(o.budget ? { budget: o.budget } : {}) };
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
          const patches = knownFixes(config.id);
          it(scenario.id, { timeout }, () => {
            const r = runCell({ port, config, scenario, patches, ...cell });
            if (r.result === 'fail') throw new Error(r.story ?? r.reason ?? 'failed');
          });
        }
      });
    }
    for (const f of KERNEL_FINDINGS) {
      if (f.fix.arch !== port.arch || !configs.some((c) => f.configs.includes(c.id))) continue;
      it(`kernel finding ${f.id} reproduces and its fix ${f.fix.variant} passes`, {
        timeout,
      }, () => {
        const checks = checkKnownFinding(f, {
          ports: [port],
          scenarios: loaded.scenarios,
          ...cell,
        });
        const bad = checks.filter((c) => !c.reproduced || !c.fixPasses);
        if (checks.length === 0) throw new Error(`${f.id}: scenario ${f.scenario} not loaded`);
        if (bad.length)
          throw new Error(
            bad
              .map(
                (c) =>
                  `${c.config}: ${c.reproduced ? '' : `no longer reproduces (${c.detail}); update the catalogue. `}${c.fixPasses ? '' : `fix fails: ${c.fixDetail}`}`,
              )
              .join('\n'),
          );
      });
    }
    if (o.variants === false) return;
    for (const m of mutantCatalogue([port]).filter((x) => x.layer === 'arch')) {
      const where = configs.filter((c) => mutantApplies(m, c));
      if (where.length === 0) continue;
      it(`variant ${m.id} ${m.expect === 'caught' ? 'is caught' : 'passes'}`, {
        timeout: timeout * 4,
      }, () => {
        const failures: string[] = [];
        for (const config of where) {
          for (const scenario of loaded.scenarios) {
            const patches = knownFixes(config.id);
            const r = runCell({ port, config, scenario, mutant: m, patches, ...cell });
            if (r.result === 'fail') {
              failures.push(`${config.id} x ${scenario.id}: ${r.reason}`);
              if (m.expect === 'caught') return;
            }
          }
        }
        if (m.expect === 'caught')
          throw new Error(
            `variant ${m.id} was not caught by any scenario on ${where.map((c) => c.id).join(', ')}`,
          );
        if (failures.length)
          throw new Error(`alternative design ${m.id} fails:\n${failures.join('\n')}`);
      });
    }
  });
}
