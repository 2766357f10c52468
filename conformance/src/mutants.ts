import type { ArchPort, CheckId } from '@ptlab/core';
import { MM_MUTANTS } from '@ptlab/mm';
import type { Capability } from './scenario-schema.js';

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
      });
    }
  }
  return out;
}
