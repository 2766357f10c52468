/**
 * What a run says about mutants on a config that cannot show them, and the
 * mutant cells it does not search again (mutant reach): verdicts are the same
 * whether or not a cell took the shortcut, whatever the worker count.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  knownFixes,
  loadScenarios,
  mutantCatalogue,
  mutantNotApplicable,
  runCell,
  scenarioById,
} from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import type { CellOutcome } from '../src/jobs.js';
import { withMutantReach } from '../src/mutant-reach.js';
import { planConformance } from '../src/plan.js';
import { builtinPorts } from '../src/registry.js';
import { type ConformanceReport, untimed } from '../src/report.js';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-reach-'));
const readReport = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as ConformanceReport;

describe('a correct config without THP, run alone', () => {
  it('is CONFORMANT: the mm mutants that need a vanishing table are not applicable there', async () => {
    const r = await cli(
      'conformance',
      '--arch',
      'sparc32',
      '--workers',
      '0',
      '--no-progress',
      '--traces',
      join(tmp, 'sparc32'),
    );
    expect(r.code, r.text).toBe(0);
    expect(r.out).toMatch(/0 not killed/);
    expect(r.out).toMatch(
      /pte-offset-map-without-rcu +caught +not run: n\/a on every chosen config \(sparc32: no PTE table goes while mmap_lock is held for read/,
    );
    expect(r.out).toMatch(/retract-frees-immediately +caught +not run: .*sparc32: no THP/);
    expect(r.out).toMatch(/\nCONFORMANT/);
  }, 120_000);
});

describe('a walker without rcu_read_lock() on powerpc 64K', () => {
  const ports = builtinPorts();
  const ppc = ports.find((p) => p.port.arch === 'powerpc')?.port;
  const m = mutantCatalogue(ports.map((p) => p.port)).find(
    (x) => x.id === 'pte-offset-map-without-rcu',
  );
  const scenario = scenarioById(loadScenarios(), 'retract-whole-table-page');
  const config = (id: string) => {
    const c = ppc?.configs.find((x) => x.id === id);
    if (!ppc || !c || !m) throw new Error(`${id}: setup missing`);
    return { port: ppc, config: c, mutant: m };
  };

  it('is killed on ppc64-hash-64k when all 16 tables of a page go under it, which the mainline survives', () => {
    const { port, config: c, mutant } = config('ppc64-hash-64k');
    const r = runCell({ port, config: c, scenario, mutant, patches: knownFixes(c.id) });
    expect(r.result).toBe('fail');
    expect(r.finding?.check).toBe('use-after-free');
    expect(runCell({ port, config: c, scenario, patches: knownFixes(c.id) }).verdict).toBe(
      'verified',
    );
  }, 120_000);

  it('is not applicable on ppc64-radix-64k (256 tables per page), saying it is a limit of the suite', () => {
    const { config: c, mutant } = config('ppc64-radix-64k');
    expect(mutantNotApplicable(mutant, c)).toMatch(
      /more than 16 PTE tables per page: no scenario frees/,
    );
    expect(mutantNotApplicable(mutant, config('ppc64-hash-64k').config)).toBeNull();
  });
});

describe('the configs where the ptl is the pmd lock (NR_CPUS < 4), each run alone', () => {
  const catalogue = mutantCatalogue(builtinPorts().map((p) => p.port));
  const cfg = (id: string) => {
    const c = builtinPorts()
      .flatMap((p) => p.port.configs)
      .find((x) => x.id === id);
    if (!c) throw new Error(`${id} missing`);
    return c;
  };
  const mutant = (id: string) => {
    const m = catalogue.find((x) => x.id === id);
    if (!m) throw new Error(`${id} missing`);
    return m;
  };

  // Their bugs need a pmd lock apart from the ptl: the v2 trylock of pml under the ptl, and
  // PT_RECLAIM's fast path (spin_trylock(pml) under the ptl, which always fails with one lock).
  it.each([
    ['collapse-uffd-fix-v2-trylock', 'x86-64-nr2', 'x86-64'],
    ['zap-reclaim-after-retry', 'x86-64-pt-reclaim-nr2', 'x86-64-pt-reclaim'],
  ])('%s is not applicable on %s (it is on %s)', (id, oneLock, split) => {
    expect(mutantNotApplicable(mutant(id), cfg(oneLock))).toMatch(/no split PTE ptlocks/);
    expect(mutantNotApplicable(mutant(id), cfg(split))).toBeNull();
  });
});

describe('mutant reach', () => {
  const args = (json: string, workers: string) => [
    'conformance',
    '--arch',
    'x86-64',
    ...[
      'retract-vs-fault',
      'gen-fault-truncate',
      'retract-vs-uffd-copy',
      'gen-gup-munmap-smmu',
    ].flatMap((s) => ['--scenario', s]),
    '--workers',
    workers,
    '--no-progress',
    '--json',
    json,
    '--traces',
    join(tmp, 'traces'),
  ];

  it('skips the mutant cells a verified clean search never reached, and says how many', async () => {
    const a = await cli(...args(join(tmp, 'w0.json'), '0'));
    const b = await cli(...args(join(tmp, 'w2.json'), '2'));
    // Four scenarios kill only some mutants: the exit code is the same either way.
    expect(b.code, b.text).toBe(a.code);
    const line = /mutant reach: (\d+) mutant cells not searched/;
    const n = line.exec(a.err)?.[1];
    expect(Number(n)).toBeGreaterThan(0);
    // The mutant units wait for their config's clean cells: the same cells are skipped with two workers.
    expect(line.exec(b.err)?.[1]).toBe(n);
    const ra = readReport(join(tmp, 'w0.json'));
    const rb = readReport(join(tmp, 'w2.json'));
    expect(JSON.stringify(untimed(rb))).toBe(JSON.stringify(untimed(ra)));
    expect(ra.mutantCounts.killed).toBeGreaterThan(3);
  }, 120_000);

  it('gives every mutant the verdict a search of all its cells gives', async () => {
    const c = await cli(...args(join(tmp, 'all.json'), '0'), '--all-mutant-cells');
    expect(c.err).toMatch(/mutant reach: \d+ mutant cells not searched/);
    const rc = readReport(join(tmp, 'all.json'));
    const ra = readReport(join(tmp, 'w0.json'));
    expect(rc.mutants.map((m) => [m.id, m.verdict])).toEqual(
      ra.mutants.map((m) => [m.id, m.verdict]),
    );
  }, 120_000);
});

/** The default plan on ppc64-hash-64k, and a verified clean pass there that asked about nothing. */
const plan = planConformance(builtinPorts(), loadScenarios().scenarios, {
  archs: ['ppc64-hash-64k'],
  seed: 1,
  mutants: true,
  allMutantCells: false,
});
const passOn = (scenario: string): CellOutcome => ({
  arch: 'ppc64-hash-64k',
  scenario,
  mutant: null,
  result: 'pass',
  verdict: 'verified',
  schedules: 4,
  steps: 40,
  elapsedMs: 1,
  variantsAsked: [],
});

describe('withMutantReach', () => {
  const reach = withMutantReach(plan.units);
  const sid = 'deferred-fragment-freed-at-exit';
  const clean = plan.units.find((u) => u.kind === 'clean' && u.scenario?.id === sid);
  const finding = plan.units.find((u) => u.kind === 'finding' && u.finding?.scenario === sid);
  const unit = reach.units.find(
    (u) => u.kind === 'mutant' && u.mutant?.id === 'zap-map-cannot-fail',
  );
  const cell = unit?.cells.find((c) => c.scenario.id === sid);
  const pass = passOn(sid);

  it("a mutant's unit waits for its config's clean units, and only a clean unit's verdict proves its cells", () => {
    if (!clean || !finding || !unit || !cell)
      throw new Error('plan without the units the test needs');
    expect(unit.dependsOn).toContain(clean);
    expect(unit.dependsOn).not.toContain(finding);
    expect(unit.shortcut?.(cell)).toBeNull(); // nothing known yet
    reach.record(clean, [pass]);
    expect(unit.shortcut?.(cell)).toMatchObject({ result: 'pass', unreached: true });
    // The known finding runs the scenario without the clean cells' fixes: its failure changes nothing.
    reach.record(finding, [{ ...pass, result: 'fail', verdict: 'fail' }]);
    expect(unit.shortcut?.(cell)).toMatchObject({ result: 'pass', unreached: true });
    reach.record(clean, [{ ...pass, variantsAsked: ['zap-map-cannot-fail'] }]);
    expect(unit.shortcut?.(cell)).toBeNull();
  });
});

describe('withMutantReach on arch variants', () => {
  const sid = 'anon-vma-unmap';
  const pass = passOn(sid);
  const variantUnit = (units: readonly (typeof plan.units)[number][]) =>
    units.find((u) => u.kind === 'mutant' && u.mutant?.id === 'powerpc-v2-redefer');

  it("a variant of ptlab's own port that records where it differs takes the shortcut", () => {
    const reach = withMutantReach(plan.units);
    const unit = variantUnit(reach.units);
    const clean = plan.units.find((u) => u.kind === 'clean' && u.scenario?.id === sid);
    const cell = unit?.cells.find((c) => c.scenario.id === sid);
    if (!unit || !clean || !cell) throw new Error('plan without the units the test needs');
    expect(unit.mutant?.reachRecorded).toBe(true);
    expect(unit.dependsOn).toContain(clean);
    reach.record(clean, [pass]);
    expect(unit.shortcut?.(cell)).toMatchObject({ result: 'pass', unreached: true });
    reach.record(clean, [{ ...pass, variantsAsked: ['powerpc-v2-redefer'] }]);
    expect(unit.shortcut?.(cell)).toBeNull();
  });

  it("an arch module's word is not taken, nor a variant's that does not say it", () => {
    const asModule = plan.units.map((u) => ({
      ...u,
      cells: u.cells.map((c) => ({ ...c, archModule: '/elsewhere/arch-ppc.mjs' })),
    }));
    const fromModule = variantUnit(withMutantReach(asModule).units);
    expect(fromModule?.mutant?.reachRecorded).toBe(true);
    expect(fromModule?.shortcut).toBeUndefined();
    const unsaid = plan.units.map((u) =>
      u.mutant?.layer === 'arch' ? { ...u, mutant: { ...u.mutant, reachRecorded: false } } : u,
    );
    expect(variantUnit(withMutantReach(unsaid).units)?.shortcut).toBeUndefined();
  });
});
