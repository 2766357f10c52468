/**
 * The CLI side of mutant reach (conformance mutant-reach.ts): an mm mutant's
 * unit on a config (or an arch variant's, where ptlab's own port records
 * where the variant differs) waits for that config's clean cells in this run,
 * and a mutant cell whose verified clean search never reached the mutant's
 * code is not run again. Outcomes are the same either way (a pass), so
 * reports do not depend on it; only the time does.
 */
import { cellKey, mutantCanChange, unreachedResult } from '@ptlab/conformance';
import type { CellOutcome } from './jobs.js';
import type { PlannedUnit } from './plan.js';

export interface MutantReach {
  /** The units to run: mm mutants' units depend on their config's clean units and take shortcuts. */
  readonly units: readonly PlannedUnit[];
  /** Feed a finished unit's outcomes (a clean unit's are kept). */
  record(u: PlannedUnit, rs: readonly CellOutcome[]): void;
  /** Mutant cells not run so far because their clean search proved them unreachable. */
  readonly skipped: number;
}

export function withMutantReach(units: readonly PlannedUnit[]): MutantReach {
  const clean = new Map<string, CellOutcome>();
  const cleanUnits = new Map<string, PlannedUnit[]>();
  for (const u of units)
    if (u.kind === 'clean') {
      const l = cleanUnits.get(u.config.id) ?? [];
      l.push(u);
      cleanUnits.set(u.config.id, l);
    }
  let skipped = 0;
  const out = units.map((u): PlannedUnit => {
    const m = u.mutant;
    if (u.kind !== 'mutant' || !m) return u;
    // An arch module's word that its variant records where it differs is not taken: the shortcut
    // would turn its variant cells into passes no search made.
    if (m.layer === 'arch' && (!m.reachRecorded || u.cells.some((c) => c.archModule))) return u;
    return {
      ...u,
      dependsOn: cleanUnits.get(u.config.id) ?? [],
      shortcut: (t) => {
        const c = clean.get(cellKey(t.configId, t.scenario.id));
        if (!c || mutantCanChange(c, m)) return null;
        skipped++;
        return unreachedResult(c, m);
      },
    };
  });
  return {
    units: out,
    record(u, rs) {
      // Only clean units: a known finding's unit runs the same scenario without the fixes
      // the clean cells (and mutant cells) have, so its result proves nothing about them.
      if (u.kind !== 'clean') return;
      for (const r of rs) if (r.mutant === null) clean.set(cellKey(r.arch, r.scenario), r);
    },
    get skipped() {
      return skipped;
    },
  };
}
