/**
 * The suite's power as two figures for `pnpm bench`: the kill rate of the
 * mutant catalogue (mutants expected to be caught that a killing cell was
 * found for) and the branch coverage per package of the last
 * `ptlab conformance --coverage DIR` run (DIR/coverage-summary.json).
 */
import { existsSync, readFileSync } from 'node:fs';

export interface KillRate {
  readonly killed: number;
  readonly total: number;
  readonly missed: readonly string[];
}

/** Kill rate from per-mutant outcomes (`killed`: a killing cell was found within the budget). */
export function killRate(outcomes: readonly { id: string; killed: boolean }[]): KillRate {
  return {
    killed: outcomes.filter((o) => o.killed).length,
    total: outcomes.length,
    missed: outcomes.filter((o) => !o.killed).map((o) => o.id),
  };
}

export interface CoverageFigures {
  readonly perPackage: Record<
    string,
    { branches: { found: number; hit: number }; functions: { found: number; hit: number } }
  >;
  /** mm + arch-*, raw and over the branches correct code can take (absent in old summaries). */
  readonly target?: {
    readonly branches: { found: number; hit: number };
    readonly correctCode: { found: number; hit: number };
    readonly unreachedByKind: Record<string, number>;
  };
}

/** The coverage summary a --coverage run wrote, or null when there is none. */
export function readCoverageSummary(path: string): CoverageFigures | null {
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as CoverageFigures;
}

const pct = (hit: number, found: number) => (found ? ((100 * hit) / found).toFixed(1) : '100.0');

/** Lines for the bench output. */
export function suiteFigureLines(
  k: KillRate,
  cov: CoverageFigures | null,
  covPath: string,
): string[] {
  const out = [
    `Mutant catalogue: ${k.killed}/${k.total} killed (${pct(k.killed, k.total)}%)${k.missed.length ? `; not killed within the budget: ${k.missed.join(', ')}` : ''}`,
  ];
  if (!cov) {
    out.push(
      `Branch coverage: no ${covPath} (run pnpm ptlab conformance --coverage ${covPath.replace(/\/coverage-summary\.json$/, '')})`,
    );
    return out;
  }
  out.push(`Branch coverage per package (${covPath}):`);
  for (const [p, c] of Object.entries(cov.perPackage).sort())
    out.push(
      `  ${p.padEnd(22)} branches ${`${c.branches.hit}/${c.branches.found}`.padStart(9)} ${pct(c.branches.hit, c.branches.found).padStart(5)}%   functions ${`${c.functions.hit}/${c.functions.found}`.padStart(9)} ${pct(c.functions.hit, c.functions.found).padStart(5)}%`,
    );
  const t = cov.target;
  if (t)
    out.push(
      `  mm + arch-*: ${t.branches.hit}/${t.branches.found} (${pct(t.branches.hit, t.branches.found)}%); of the branches correct code can take ${t.correctCode.hit}/${t.correctCode.found} (${pct(t.correctCode.hit, t.correctCode.found)}%; target 95%); unreached by kind: ${Object.entries(
        t.unreachedByKind,
      )
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
  return out;
}
