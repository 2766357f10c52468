/**
 * The plan of a conformance run: which units of work it has, in report order.
 * A unit is one clean cell, one mutant on one config (its scenarios in order
 * until the first kill), or one known kernel finding on one config. The plan
 * is a pure function of the ports, the scenarios and the options, so shards,
 * journals and merges can name units by index and key and check they agree.
 */
import { createHash } from 'node:crypto';
import {
  KERNEL_FINDINGS,
  type KernelFinding,
  knownFixes,
  type Mutant,
  mutantApplies,
  mutantCatalogue,
  mutantOrder,
  type ValidScenario,
} from '@ptlab/conformance';
import type { ArchConfig } from '@ptlab/core';
import { BUILTIN_DOMAIN, moduleDomain } from './child/process.js';
import { unknownId } from './output.js';
import type { Unit } from './pool.js';
import { type LoadedPort, portOrigin } from './registry.js';
import { cleanCellCost, mutantKillers } from './shard.js';
import { type UnitKind, unitKey } from './unit-key.js';

export { cleanCellCost } from './shard.js';
export { type UnitKind, unitKey } from './unit-key.js';

export interface PlanOptions {
  /** Only these config ids (empty: every config of every port). */
  readonly archs: readonly string[];
  readonly seed: number;
  readonly mutants: boolean;
  /** Run every cell of every mutant, not only until its first kill per config. */
  readonly allMutantCells: boolean;
  /**
   * --html: failing cells also draw their trace for the viewer, where they
   * ran. Not part of the plan's identity (it changes no verdict).
   */
  readonly html?: string | boolean | undefined;
  /**
   * Split a clean cell of ptlab's own ports whose expected cost (its steps in
   * the cost table) is at least this many steps across worker threads
   * (SPLIT_CELL_STEPS by default; 0: never). Its verdict is the same split or
   * not; its execution count is the split search's.
   */
  readonly splitAbove?: number | undefined;
  /**
   * Worker threads a split cell uses; 0 runs its subtree tasks in the cell's
   * own thread (the same result). Not part of the plan's identity: any count
   * gives the same result.
   */
  readonly splitThreads?: number | undefined;
}

/**
 * --split-above's default: 10 M steps, about a minute of one core. Only
 * x86-32-pae retract-vs-lockless-walkers (24.3 M) is above it in the default
 * run; the next largest cell is 0.94 M.
 */
export const SPLIT_CELL_STEPS = 10_000_000;

export interface PlannedUnit extends Unit {
  /** Position in the plan: the order of the report, whatever order units finish in. */
  readonly index: number;
  /** Names the unit in journals, shard reports and cost tables: `["clean","x86-64","retract-vs-fault"]`. */
  readonly key: string;
  readonly kind: UnitKind;
  readonly config: ArchConfig;
  /** clean units: the scenario. */
  readonly scenario?: ValidScenario;
  readonly mutant?: Mutant;
  readonly finding?: KernelFinding;
}

export interface ConformancePlan {
  readonly options: PlanOptions;
  /** The chosen configs, in report order, with the port each comes from. */
  readonly configs: readonly { readonly p: LoadedPort; readonly config: ArchConfig }[];
  readonly scenarios: readonly ValidScenario[];
  /** The mutants the run accounts for (empty with --no-mutants). */
  readonly catalogue: readonly Mutant[];
  readonly units: readonly PlannedUnit[];
  /** sha256 over everything that decides the units and their cells (not the code: see journal.ts). */
  readonly digest: string;
}

/** Canonical JSON (sorted keys), so a digest does not depend on key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export function planConformance(
  ports: readonly LoadedPort[],
  scenarios: readonly ValidScenario[],
  options: PlanOptions,
): ConformancePlan {
  const splitAbove = options.splitAbove ?? SPLIT_CELL_STEPS;
  // Only the fields that decide the plan (callers may pass a wider options object).
  const o: PlanOptions = {
    archs: [...options.archs],
    seed: options.seed,
    mutants: options.mutants,
    allMutantCells: options.allMutantCells,
    splitAbove,
  };
  const threads = options.splitThreads ?? 1;
  // Only ptlab's own ports: a worker thread rebuilds the program from the config id.
  const splitOf = (p: LoadedPort, configId: string, scenarioId: string) =>
    !('module' in p.ref) && splitAbove > 0 && costOf(configId, scenarioId) >= splitAbove
      ? { split: threads }
      : {};
  const all = ports.flatMap((p) => p.port.configs.map((config) => ({ p, config })));
  const known = all.map((x) => x.config.id);
  for (const a of o.archs) if (!known.includes(a)) throw unknownId('arch config', a, known);
  const configs = o.archs.length ? all.filter((x) => o.archs.includes(x.config.id)) : all;
  const catalogue = o.mutants ? mutantCatalogue(ports.map((p) => p.port)) : [];
  const costOf = cleanCellCost();
  const killersOf = mutantKillers();

  const domainOf = (p: LoadedPort) =>
    'module' in p.ref ? moduleDomain(p.ref.module) : BUILTIN_DOMAIN;
  const archModuleOf = (p: LoadedPort) =>
    'module' in p.ref ? { archModule: p.ref.module.entry } : {};
  // Every cell is judged with the known kernel findings' fixes applied, so a
  // known finding does not hide what else the cell would find.
  const viewOf = (p: LoadedPort) => (options.html ? { view: { origin: portOrigin(p.ref) } } : {});
  const patchesOf = (configId: string) => {
    const p = knownFixes(configId);
    return p.length ? { patches: p } : {};
  };
  const units: PlannedUnit[] = [];
  const add = (u: Omit<PlannedUnit, 'index'>) => units.push({ ...u, index: units.length });
  for (const { p, config } of configs)
    for (const scenario of scenarios)
      add({
        key: unitKey('clean', config.id, scenario.id),
        kind: 'clean',
        config,
        scenario,
        domain: domainOf(p),
        cells: [
          {
            configId: config.id,
            scenario,
            mutant: null,
            seed: o.seed,
            ...archModuleOf(p),
            ...patchesOf(config.id),
            ...viewOf(p),
            ...splitOf(p, config.id, scenario.id),
          },
        ],
      });
  for (const m of catalogue)
    for (const { p, config } of configs) {
      if (!mutantApplies(m, config)) continue;
      add({
        key: unitKey('mutant', m.id, config.id),
        kind: 'mutant',
        config,
        mutant: m,
        domain: domainOf(p),
        cells: mutantOrder(
          scenarios,
          m,
          (s) => costOf(config.id, s.id),
          killersOf(m.id, config.id),
        ).map((scenario) => ({
          configId: config.id,
          scenario,
          mutant: m,
          seed: o.seed,
          ...archModuleOf(p),
          ...patchesOf(config.id),
          ...viewOf(p),
        })),
        // Scenarios in order until the first kill by its own check, unless --all-mutant-cells.
        stopAfter: (r) =>
          !o.allMutantCells &&
          m.expect === 'caught' &&
          r.result === 'fail' &&
          !!r.finding &&
          (m.checks.length === 0 || m.checks.includes(r.finding.check)),
      });
    }
  // Known kernel findings: their scenario on the mainline model, no fix applied.
  for (const f of KERNEL_FINDINGS) {
    const scenario = scenarios.find((s) => s.id === f.scenario);
    if (!scenario) continue;
    for (const { p, config } of configs) {
      if (!f.configs.includes(config.id)) continue;
      add({
        key: unitKey('finding', f.id, config.id),
        kind: 'finding',
        config,
        finding: f,
        domain: domainOf(p),
        cells: [
          {
            configId: config.id,
            scenario,
            mutant: null,
            seed: o.seed,
            ...archModuleOf(p),
            ...viewOf(p),
          },
        ],
      });
    }
  }
  const digest = sha256(
    canonical({
      options: o,
      configs: configs.map((x) => x.config),
      modules: configs.map((x) => ('module' in x.p.ref ? x.p.ref.module.sha256 : null)),
      scenarios,
      mutants: catalogue,
      units: units.map((u) => [u.key, u.cells.map((c) => c.patches ?? [])]),
    }),
  );
  return { options: o, configs, scenarios, catalogue, units, digest };
}
