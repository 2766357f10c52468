/**
 * Mutant reach: a mutant cell that cannot differ from its clean cell is not
 * searched again. An mm mutant changes the model only where kernel code asks
 * `ctx.k.has(id)`. If the clean cell's search was complete with no bound
 * (`verified`) and no execution of it asked about the mutant, then no
 * execution of that scenario on that config reaches the mutant's code (DPOR
 * explores every Mazurkiewicz trace, and equivalent executions run the same
 * code on every CPU), so with the mutant on every execution is one the clean
 * search already passed. The mutant cell passes, proved by that search: the
 * same verdict it would get by being run, for none of its cost. Arch variants
 * replace a port's code wholesale and are always run.
 */
import type { Mutant } from './mutants.js';
import type { CellResult } from './runner.js';

/** Can the mutant change anything in the cell whose clean result this is? */
export function mutantCanChange(clean: CellResult, mutant: Mutant): boolean {
  if (mutant.layer !== 'mm') return true;
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
