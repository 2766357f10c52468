import type { ArchConfig, ArchPort, CheckId } from '@ptlab/core';
import { MM_MUTANTS } from '@ptlab/mm';
import {
  CAPABILITIES,
  type Capability,
  hasCapability,
  type ValidScenario,
} from './scenario-schema.js';

/** A historical bug (or an alternative design) the suite runs as a mutant. */
export interface Mutant {
  readonly id: string;
  readonly description: string;
  readonly seed: string;
  /** `mm`: a kernel-variant flag on any arch; `arch`: a variant implementation of one arch package. */
  readonly layer: 'mm' | 'arch';
  /** For arch mutants: the port and the configs it applies to. */
  readonly arch?: string;
  readonly configs?: readonly string[];
  /** `caught`: the suite must find a bug; `pass`: a correct alternative that must pass. */
  readonly expect: 'caught' | 'pass';
  /**
   * The check(s) that ARE the bug (empty for `pass`, and for a third-party
   * variant that declares none): a kill by another check is a kill for
   * another reason.
   */
  readonly checks: readonly CheckId[];
  /**
   * For arch variants: the port records every point where the variant's code
   * can differ (ArchVariant.reachRecorded), so mutant reach may apply.
   */
  readonly reachRecorded?: boolean;
  /** For mm mutants: capabilities a config needs for the mutant's code to run (mutantApplies()). */
  readonly requires?: readonly Capability[];
}

/** The mm/core mutants plus every variant the given ports declare. */
export function mutantCatalogue(ports: readonly ArchPort[]): Mutant[] {
  const out: Mutant[] = MM_MUTANTS.map((m) => ({
    ...m,
    layer: 'mm' as const,
    expect: 'caught' as const,
  }));
  for (const p of ports) {
    for (const v of p.variants) {
      out.push({
        id: v.id,
        description: v.description,
        seed: v.seed,
        layer: 'arch',
        arch: p.arch,
        configs: v.configs,
        expect: v.expect,
        checks: v.checks ?? [],
        ...(v.reachRecorded === true ? { reachRecorded: true } : {}),
      });
    }
  }
  return out;
}

/**
 * Checks that can fire only on some configs: a mutant whose declared checks
 * all need something a config lacks is not applicable there (its bug is
 * invisible by construction, not missed).
 */
export const CHECK_REQUIRES: Readonly<Partial<Record<CheckId, Capability>>> = {
  'page-table-check': 'page-table-check',
  'torn-pmd-read': 'pmd-low-high',
};

/** Why `m` does not apply to `config`, or null when it does. */
export function mutantNotApplicable(m: Mutant, config: ArchConfig): string | null {
  if (m.layer === 'arch') {
    if (m.arch !== config.arch) return `a ${m.arch} variant`;
    if (!(m.configs ?? []).includes(config.id)) return `not a variant of ${config.id}`;
  } else {
    const cap = (m.requires ?? []).find((c) => !hasCapability(config, c));
    if (cap) return CAPABILITIES[cap];
  }
  if (m.checks.length === 0) return null;
  const firable = m.checks.filter((c) => {
    const cap = CHECK_REQUIRES[c];
    return cap === undefined || hasCapability(config, cap);
  });
  if (firable.length > 0) return null;
  const reasons = m.checks.map((c) => {
    const cap = CHECK_REQUIRES[c] as Capability;
    return `${c}: ${CAPABILITIES[cap]}`;
  });
  return `its check cannot fire here (${reasons.join('; ')})`;
}

/** Whether a mutant applies to a config (mutantNotApplicable() gives the reason when not). */
export function mutantApplies(m: Mutant, config: ArchConfig): boolean {
  return mutantNotApplicable(m, config) === null;
}

/**
 * The order a mutant's scenarios run in (until its first kill):
 *  1. `killers`, in the order given: scenarios a measured run saw kill this
 *     mutant (on this config first, then on the most other configs), so the
 *     cells searched in vain before the kill are few;
 *  2. those that declare one of its checks;
 *  3. the rest.
 * Groups 2 and 3 run cheapest first when `cost` is given (a scenario's
 * expected search cost on the config: a kill usually comes within a few
 * hundred executions wherever it comes, so the cells searched in vain before
 * it are what a unit costs), else, and among equal costs, in suite order.
 * Only the cost changes: a mutant killed by a later scenario is still run
 * there, and a killer that no longer kills is just one more cell searched.
 */
export function mutantOrder(
  scenarios: readonly ValidScenario[],
  m: Mutant,
  cost?: (s: ValidScenario) => number,
  killers: readonly string[] = [],
): ValidScenario[] {
  const first = killers.flatMap((id) => scenarios.find((s) => s.id === id) ?? []);
  const rest = scenarios.filter((s) => !first.includes(s));
  const aims = (s: ValidScenario) => m.checks.some((c) => s.checks.includes(c));
  // Array.prototype.sort is stable: equal costs keep suite order.
  const cheapFirst = (xs: ValidScenario[]) =>
    cost
      ? xs
          .map((s) => ({ s, c: cost(s) }))
          .sort((a, b) => a.c - b.c)
          .map((x) => x.s)
      : xs;
  return [
    ...new Set(first),
    ...cheapFirst(rest.filter(aims)),
    ...cheapFirst(rest.filter((s) => !aims(s))),
  ];
}
