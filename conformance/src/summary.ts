/**
 * The verdict of a conformance run, computed in one place for the CLI, the
 * vitest binding and every report: verdict kinds per cell, counts per kind,
 * and mutant accounting (docs/model.md, "Verdicts" and "Mutant accounting").
 */
import type { ArchConfig, CheckId } from '@ptlab/core';
import { type Mutant, mutantNotApplicable } from './mutants.js';
import { type CellVerdict, cellKey } from './runner.js';

/** What the summary reads of a cell result (CellResult and the CLI's outcomes both fit). */
export interface SummaryCell {
  readonly arch: string;
  readonly scenario: string;
  readonly mutant: string | null;
  readonly result: 'pass' | 'fail' | 'n/a';
  readonly verdict: CellVerdict;
  readonly bound?: number | undefined;
  readonly finding?: { readonly check: CheckId; readonly message: string } | undefined;
  readonly reason?: string | undefined;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  /** Where its trace was written, if it was. */
  readonly tracePath?: string | undefined;
}

/** Every cell verdict kind, in report order. */
export const VERDICT_KINDS: readonly CellVerdict[] = [
  'verified',
  'verified-bounded',
  'sampled',
  'fail',
  'error',
  'n/a',
];

export type VerdictCounts = Record<CellVerdict, number>;

export function countVerdicts(cells: readonly SummaryCell[]): VerdictCounts {
  const n = Object.fromEntries(VERDICT_KINDS.map((k) => [k, 0])) as VerdictCounts;
  for (const c of cells) n[c.verdict]++;
  return n;
}

/** The verdict as a short word and its qualifier, as the matrix and stories show it. */
export function verdictLabel(c: Pick<SummaryCell, 'verdict' | 'bound'>): string {
  return c.verdict === 'verified-bounded' ? `verified ≤${c.bound ?? '?'}` : c.verdict;
}

export interface MutantKill {
  readonly arch: string;
  readonly scenario: string;
  readonly check: CheckId;
  readonly trace?: string;
}

/**
 * - `killed`: a declared check fired on a cell whose clean version passes;
 * - `not-killed`: it ran and no declared check fired where it counts (kills
 *   by other checks, or on cells whose clean version fails, are listed);
 * - `passes` / `wrongly-fails`: an alternative correct design (`expect: pass`);
 * - `not-run`: no applicable cell in this run (other configs chosen, or none
 *   of its configs can show its check): not a verdict on the mutant;
 * - `error`: every cell it needed could not run.
 */
export type MutantVerdict = 'killed' | 'not-killed' | 'passes' | 'wrongly-fails' | 'not-run';

export interface MutantAccount {
  readonly id: string;
  readonly layer: 'mm' | 'arch';
  readonly expect: 'caught' | 'pass';
  readonly checks: readonly CheckId[];
  readonly verdict: MutantVerdict;
  /** As expected: killed, passes or not run. */
  readonly ok: boolean;
  /** Kills that count: a declared check, on a cell whose clean version passes. */
  readonly kills: readonly MutantKill[];
  /** Failures that do not count as kills, each with why. */
  readonly otherFailures: readonly (MutantKill & { readonly why: string })[];
  /** Cells that ran (not n/a). */
  readonly cells: number;
  /** A correct variant's cells by verdict kind: how deep its pass was searched. */
  readonly verdicts?: VerdictCounts;
  /** Configs of the run where it does not apply, with the reason. */
  readonly notApplicable: readonly { readonly config: string; readonly reason: string }[];
  /** Cells that could not run: they prove nothing either way. */
  readonly errors: readonly {
    readonly arch: string;
    readonly scenario: string;
    readonly message: string;
  }[];
}

/**
 * Account for one mutant from its cells and the clean cells of the same run.
 * `configs` are the configs the run chose.
 */
export function accountMutant(
  m: Mutant,
  configs: readonly ArchConfig[],
  mutantCells: readonly SummaryCell[],
  cleanCells: readonly SummaryCell[],
): MutantAccount {
  const clean = new Map(cleanCells.map((c) => [cellKey(c.arch, c.scenario), c]));
  const notApplicable = configs.flatMap((config) => {
    const reason = mutantNotApplicable(m, config);
    return reason ? [{ config: config.id, reason }] : [];
  });
  const ran = mutantCells.filter((c) => c.verdict !== 'n/a');
  const kills: MutantKill[] = [];
  const otherFailures: (MutantKill & { why: string })[] = [];
  for (const c of ran) {
    if (c.result !== 'fail' || !c.finding) continue;
    const k: MutantKill = {
      arch: c.arch,
      scenario: c.scenario,
      check: c.finding.check,
      ...(c.tracePath ? { trace: c.tracePath } : {}),
    };
    const base = clean.get(cellKey(c.arch, c.scenario));
    if (m.checks.length > 0 && !m.checks.includes(c.finding.check))
      otherFailures.push({
        ...k,
        why: `${c.finding.check} is not its check (${m.checks.join(', ')})`,
      });
    else if (base && base.result !== 'pass')
      otherFailures.push({ ...k, why: `the clean cell does not pass (${base.verdict})` });
    else if (!base && m.expect === 'caught')
      otherFailures.push({ ...k, why: 'its clean cell was not run' });
    else kills.push(k);
  }
  const errors = ran
    .filter((c) => c.error)
    .map((c) => ({ arch: c.arch, scenario: c.scenario, message: c.error?.message ?? '' }));
  const applicable = configs.length - notApplicable.length;
  let verdict: MutantVerdict;
  if (applicable === 0 || ran.length === 0) verdict = 'not-run';
  else if (m.expect === 'caught') verdict = kills.length > 0 ? 'killed' : 'not-killed';
  else verdict = kills.length + otherFailures.length > 0 ? 'wrongly-fails' : 'passes';
  const ok =
    verdict === 'killed' || verdict === 'not-run' || (verdict === 'passes' && errors.length === 0);
  return {
    id: m.id,
    layer: m.layer,
    expect: m.expect,
    checks: m.checks,
    verdict,
    ok,
    kills,
    otherFailures,
    cells: ran.length,
    ...(m.expect === 'pass' && ran.length ? { verdicts: countVerdicts(ran) } : {}),
    notApplicable,
    errors,
  };
}

export interface RunSummary {
  /** Clean cells by verdict kind. */
  readonly counts: VerdictCounts;
  /** Clean cells that fail or could not run. */
  readonly failing: readonly SummaryCell[];
  readonly mutants: readonly MutantAccount[];
  /** Mutants by verdict. */
  readonly mutantCounts: Readonly<Record<MutantVerdict, number>>;
  /** Conformant: no clean cell fails or errs and every mutant is as expected. */
  readonly ok: boolean;
}

export function summariseRun(
  configs: readonly ArchConfig[],
  cleanCells: readonly SummaryCell[],
  mutants: readonly Mutant[],
  mutantCells: readonly SummaryCell[],
): RunSummary {
  const counts = countVerdicts(cleanCells);
  const failing = cleanCells.filter((c) => c.verdict === 'fail' || c.verdict === 'error');
  const accounts = mutants.map((m) =>
    accountMutant(
      m,
      configs,
      mutantCells.filter((c) => c.mutant === m.id),
      cleanCells,
    ),
  );
  const mutantCounts: Record<MutantVerdict, number> = {
    killed: 0,
    'not-killed': 0,
    passes: 0,
    'wrongly-fails': 0,
    'not-run': 0,
  };
  for (const a of accounts) mutantCounts[a.verdict]++;
  return {
    counts,
    failing,
    mutants: accounts,
    mutantCounts,
    ok: failing.length === 0 && accounts.every((a) => a.ok),
  };
}

/** One line saying what became of a mutant (the CLI, JUnit and the vitest binding all print it). */
export function mutantVerdictText(m: MutantAccount): string {
  const na = m.notApplicable.length ? `; n/a on ${m.notApplicable.length} config(s)` : '';
  const o = m.otherFailures[0];
  const other = o
    ? `; ${m.otherFailures.length} failure(s) that do not count, first ${o.arch} x ${o.scenario}: ${o.why}`
    : '';
  switch (m.verdict) {
    case 'killed': {
      const k = m.kills[0];
      return `killed by ${k?.check} (${m.kills.length}/${m.cells} cells), first ${k?.arch} x ${k?.scenario}${other}${na}`;
    }
    case 'not-killed': {
      const e = m.errors[0];
      return `NOT KILLED by ${m.checks.join(' or ') || 'any check'} (${m.cells} cells ran${e ? `; ${m.errors.length} could not run: ${e.message}` : ''}${other})${na}`;
    }
    case 'passes': {
      const v = m.verdicts;
      const how = v
        ? ` (${[
            [v.verified, 'verified'],
            [v['verified-bounded'], 'verified within a bound'],
            [v.sampled, 'sampled'],
          ]
            .filter(([n]) => n)
            .map(([n, w]) => `${n} ${w}`)
            .join(', ')})`
        : '';
      return `passes all ${m.cells} cells${how}, as it should${na}`;
    }
    case 'wrongly-fails': {
      const k = m.kills[0] ?? o;
      return `WRONGLY FAILS in ${m.kills.length + m.otherFailures.length} cells, first ${k?.arch} x ${k?.scenario} (${k?.check})`;
    }
    case 'not-run': {
      const n = m.notApplicable[0];
      return `not run: ${n ? `n/a on every chosen config (${n.config}: ${n.reason})` : 'no cell ran'}`;
    }
  }
}
