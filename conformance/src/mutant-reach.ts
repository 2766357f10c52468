/**
 * Mutant reach: a mutant cell that cannot differ from its clean cell is not
 * searched again. An mm mutant changes the model only where kernel code asks
 * `ctx.k.has(id)`. If the clean cell's search was complete with no bound
 * (`verified`) and no execution of it asked about the mutant, then no
 * execution of that scenario on that config reaches the mutant's code (DPOR
 * explores every Mazurkiewicz trace, and equivalent executions run the same
 * code on every CPU), so with the mutant on every execution is one the clean
 * search already passed. The mutant cell passes, proved by that search: the
 * same verdict it would get by being run, for none of its cost. An arch
 * variant is chosen when its port creates the config's implementation, so it
 * may differ anywhere: it takes the shortcut only when its port records every
 * point where it can differ (ArchVariant.reachRecorded, `ctx.k.reach(id)`),
 * and the CLI does not take that word from an arch module.
 */
import type { Mutant } from './mutants.js';
import { type CellOptions, type CellResult, CLEAN_BUDGET, runCell } from './runner.js';

/** Can the mutant change anything in the cell whose clean result this is? */
export function mutantCanChange(clean: CellResult, mutant: Mutant): boolean {
  if (mutant.layer !== 'mm' && mutant.reachRecorded !== true) return true;
  if (clean.mutant !== null || clean.result !== 'pass' || clean.verdict !== 'verified') return true;
  return !clean.variantsAsked || clean.variantsAsked.includes(mutant.id);
}

/** The mutant cell's result when mutantCanChange() says no: a pass, proved by the clean search. */
export function unreachedResult(clean: CellResult, mutant: Mutant): CellResult {
  return {
    arch: clean.arch,
    scenario: clean.scenario,
    mutant: mutant.id,
    result: 'pass',
    verdict: 'verified',
    reason: `not searched: the verified clean search (${clean.schedules} executions) never reached ${mutant.id}'s code`,
    schedules: 0,
    steps: 0,
    elapsedMs: 0,
    unreached: true,
  };
}

/** reachCrossCheck()'s answer for one cell. */
export interface ReachCrossCheck {
  readonly clean: CellResult;
  /** Mutant reach would not search the mutant's cell after this clean result. */
  readonly skipped: boolean;
  /** When skipped: the mutant's cell searched anyway, under the same budget. */
  readonly searched: CellResult | null;
  /** When skipped: the two searches are one search (executions, steps, verdict); else true. */
  readonly same: boolean;
}

/**
 * For a port's tests, the evidence behind ArchVariant.reachRecorded (and
 * behind an mm mutant's has() calls): run the clean cell and, where mutant
 * reach would skip the mutant's cell, search it anyway. Until the mutant's
 * code is reached its model is the clean one, so both searches must run the
 * same executions and steps to the same verdict; a point where it differs
 * but records nothing shows up as a difference.
 */
export function reachCrossCheck(o: CellOptions & { readonly mutant: Mutant }): ReachCrossCheck {
  const clean = runCell({ ...o, mutant: null });
  if (mutantCanChange(clean, o.mutant))
    return { clean, skipped: false, searched: null, same: true };
  const searched = runCell({ ...o, budget: o.budget ?? CLEAN_BUDGET });
  const same =
    searched.result === clean.result &&
    searched.verdict === clean.verdict &&
    searched.schedules === clean.schedules &&
    searched.steps === clean.steps;
  return { clean, skipped: true, searched, same };
}
