import type { ArchPort } from '@ptlab/core';
import { MM_MUTANTS } from '@ptlab/mm';

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
      });
    }
  }
  return out;
}
