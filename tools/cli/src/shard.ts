/**
 * `--shard i/N` (the Playwright / vitest convention: 1-based, `--shard 2/4`
 * is the second of four): a deterministic part of a plan's units, balanced by
 * their expected cost. Costs come from a committed table measured on a full
 * run (shard-costs.ts, written by `pnpm --filter @ptlab/bench costs`), with an
 * estimate for units it does not list. Every shard of a plan is computed the
 * same way on every machine, so N jobs with the same code and options split
 * the plan into N disjoint parts that cover it.
 */
import { notApplicable } from '@ptlab/conformance';
import { UsageError } from '@ptlab/core';
import type { PlannedUnit } from './plan.js';
import { SHARD_COSTS } from './shard-costs.js';
import { unitKey } from './unit-key.js';

export interface ShardSpec {
  /** 1-based. */
  readonly index: number;
  readonly total: number;
}

export const shardName = (s: ShardSpec): string => `${s.index}/${s.total}`;

/** Parse `i/N` (1 <= i <= N). */
export function parseShard(v: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(total) || total < 1)
    throw new UsageError(`--shard must be i/N with 1 <= i <= N (e.g. 2/4), not "${v}"`);
  if (index < 1 || index > total)
    throw new UsageError(`--shard ${v}: the shard index must be between 1 and ${total}`);
  return { index, total };
}

/** Expected costs by unit key, in one unit (see SHARD_COSTS.unit). */
export interface CostTable {
  /** What was measured, on what, when. */
  readonly measured: string;
  /** How a unit's cost is computed from its cells' counts. */
  readonly unit: string;
  readonly costs: Readonly<Record<string, number>>;
  /**
   * The scenario that killed each mutant unit of the measured run, by unit
   * key (`["mutant","retract-frees-immediately","x86-64"]`): the mutant order
   * tries it first (mutantKillers()).
   */
  readonly kills?: Readonly<Record<string, string>>;
}

/** The median of `xs` (undefined when empty). */
export const median = (xs: readonly number[]): number | undefined => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** What an applicable clean cell costs when nothing is known (the table is empty). */
const DEFAULT_COST = 1;

/**
 * A clean cell's expected cost: its steps in the measured default run (the
 * cost table), else the median of the scenario's measured cells on other
 * configs, else of every measured clean cell. Cells measured at 0 (not
 * applicable there) are no evidence of what the scenario costs where it
 * applies, so the medians leave them out. A committed table, not this run's
 * results: the mutant order (plan.ts) and the shards get the same estimate in
 * every shard and resumed run.
 */
export function cleanCellCost(
  table: CostTable = SHARD_COSTS,
): (configId: string, scenarioId: string) => number {
  const byScenario = new Map<string, number[]>();
  const all: number[] = [];
  for (const [key, cost] of Object.entries(table.costs)) {
    const [kind, , scenarioId] = JSON.parse(key) as [string, string, string];
    if (kind !== 'clean' || cost === 0) continue;
    all.push(cost);
    byScenario.set(scenarioId, [...(byScenario.get(scenarioId) ?? []), cost]);
  }
  const anyCell = median(all) ?? DEFAULT_COST;
  const scenarioMedian = new Map([...byScenario].map(([s, xs]) => [s, median(xs) ?? anyCell]));
  return (configId, scenarioId) =>
    table.costs[unitKey('clean', configId, scenarioId)] ??
    scenarioMedian.get(scenarioId) ??
    anyCell;
}

/**
 * The scenarios to try first for a mutant on a config: the one that killed it
 * there in the measured run, then those that killed it on other configs, the
 * most configs first (ties by id). A config the table does not know (an arch
 * module's) still gets the mutant's usual killers. Like the costs, a committed
 * table, so every shard and resumed run plans the same cells.
 */
export function mutantKillers(
  table: CostTable = SHARD_COSTS,
): (mutantId: string, configId: string) => string[] {
  const byMutant = new Map<string, Map<string, number>>();
  for (const [key, scenarioId] of Object.entries(table.kills ?? {})) {
    const [, mutantId] = JSON.parse(key) as [string, string, string];
    const counts = byMutant.get(mutantId) ?? new Map<string, number>();
    counts.set(scenarioId, (counts.get(scenarioId) ?? 0) + 1);
    byMutant.set(mutantId, counts);
  }
  return (mutantId, configId) => {
    const here = table.kills?.[unitKey('mutant', mutantId, configId)];
    const elsewhere = [...(byMutant.get(mutantId) ?? [])]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([id]) => id);
    return here ? [here, ...elsewhere.filter((id) => id !== here)] : elsewhere;
  };
}

/**
 * Each unit's expected cost: the table's, or else an estimate from units like
 * it (a clean cell: cleanCellCost(); a mutant unit: the median of the same
 * mutant's units, then of all mutant units). A clean cell that is not
 * applicable costs nothing.
 */
export function unitCosts(
  units: readonly PlannedUnit[],
  table: CostTable = SHARD_COSTS,
): Map<number, { cost: number; from: 'table' | 'estimate' }> {
  const known = (u: PlannedUnit) => table.costs[u.key];
  const byKind = (kind: PlannedUnit['kind'], same: (u: PlannedUnit) => boolean) =>
    units.filter((u) => u.kind === kind && same(u)).flatMap((u) => known(u) ?? []);
  const allMutant = median(byKind('mutant', () => true));
  const clean = cleanCellCost(table);
  const out = new Map<number, { cost: number; from: 'table' | 'estimate' }>();
  for (const u of units) {
    const k = known(u);
    if (k !== undefined) {
      out.set(u.index, { cost: k, from: 'table' });
      continue;
    }
    let cost: number;
    const cell = u.cells[0];
    if (u.kind === 'mutant') {
      cost =
        median(byKind('mutant', (v) => v.mutant?.id === u.mutant?.id)) ??
        allMutant ??
        clean(u.config.id, '') * u.cells.length;
    } else if (cell && notApplicable(cell.scenario, u.config)) cost = 0;
    else cost = clean(u.config.id, cell?.scenario.id ?? '');
    out.set(u.index, { cost, from: 'estimate' });
  }
  return out;
}

/**
 * The units of shard `s`, in plan order. Greedy longest-processing-time
 * first: units by expected cost (largest first, ties in plan order), each to
 * the shard with the least expected cost so far (ties: the lowest index).
 */
export function shardUnits(
  units: readonly PlannedUnit[],
  s: ShardSpec,
  table: CostTable = SHARD_COSTS,
): PlannedUnit[] {
  return assignShards(units, s.total, table)[s.index - 1] ?? [];
}

/** Every shard's units (index 0 is shard 1/N), in plan order. */
export function assignShards(
  units: readonly PlannedUnit[],
  total: number,
  table: CostTable = SHARD_COSTS,
): PlannedUnit[][] {
  const costs = unitCosts(units, table);
  const cost = (u: PlannedUnit) => costs.get(u.index)?.cost ?? 0;
  const order = [...units].sort((a, b) => cost(b) - cost(a) || a.index - b.index);
  const load = Array.from({ length: total }, () => 0);
  const out: PlannedUnit[][] = Array.from({ length: total }, () => []);
  for (const u of order) {
    let best = 0;
    for (let i = 1; i < total; i++) if ((load[i] as number) < (load[best] as number)) best = i;
    load[best] = (load[best] as number) + cost(u);
    out[best]?.push(u);
  }
  for (const part of out) part.sort((a, b) => a.index - b.index);
  return out;
}
