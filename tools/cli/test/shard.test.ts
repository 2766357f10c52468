import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarios, notApplicable } from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { cleanCellCost, planConformance } from '../src/plan.js';
import { builtinPorts } from '../src/registry.js';
import { type ConformanceReport, untimed } from '../src/report.js';
import {
  assignShards,
  type CostTable,
  mutantKillers,
  parseShard,
  unitCosts,
} from '../src/shard.js';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-shard-'));
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describe('parseShard', () => {
  it('takes i/N with 1 <= i <= N', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, total: 4 });
    expect(parseShard('1/1')).toEqual({ index: 1, total: 1 });
  });
  it('refuses anything else, saying what is wrong', () => {
    expect(() => parseShard('0/3')).toThrow(/between 1 and 3/);
    expect(() => parseShard('4/3')).toThrow(/between 1 and 3/);
    expect(() => parseShard('1/0')).toThrow(/i\/N/);
    expect(() => parseShard('2')).toThrow(/i\/N/);
    expect(() => parseShard('a/b')).toThrow(/i\/N/);
  });
});

describe('assignShards', () => {
  const plan = planConformance(builtinPorts(), loadScenarios().scenarios, {
    archs: [],
    seed: 1,
    mutants: true,
    allMutantCells: false,
  });

  it('splits the plan into N disjoint parts that cover it, each in plan order, the same every time', () => {
    for (const n of [1, 2, 3, 7]) {
      const parts = assignShards(plan.units, n);
      expect(parts).toHaveLength(n);
      const all = parts.flat().map((u) => u.index);
      expect(all.length).toBe(plan.units.length);
      expect(new Set(all).size).toBe(plan.units.length);
      for (const p of parts)
        expect(p.map((u) => u.index)).toEqual([...p.map((u) => u.index)].sort((a, b) => a - b));
      expect(assignShards(plan.units, n).map((p) => p.map((u) => u.key))).toEqual(
        parts.map((p) => p.map((u) => u.key)),
      );
    }
  });

  it('balances by the table: no shard exceeds another by more than the largest unit', () => {
    // A skewed table: one config's clean cells cost 100x the rest.
    const costs: Record<string, number> = {};
    for (const u of plan.units) costs[u.key] = u.config.id === 'x86-64' ? 100 : 1 + (u.index % 5);
    const table: CostTable = { measured: 'test', unit: 'test', costs };
    const parts = assignShards(plan.units, 4, table);
    const load = parts.map((p) => p.reduce((a, u) => a + (costs[u.key] ?? 0), 0));
    const biggest = Math.max(...Object.values(costs));
    expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(biggest);
    // Round robin in plan order would not be: x86-64's units are contiguous.
    const naive = [0, 1, 2, 3].map((i) =>
      plan.units.filter((u) => u.index % 4 === i).reduce((a, u) => a + (costs[u.key] ?? 0), 0),
    );
    expect(Math.max(...load)).toBeLessThanOrEqual(Math.max(...naive));
  });

  it('estimates units the table lacks from units like them; a not-applicable clean cell costs nothing', () => {
    const some = plan.units.find(
      (u) => u.kind === 'clean' && u.scenario?.id === 'retract-vs-exit' && u.config.thp,
    );
    const like = plan.units.find(
      (u) =>
        u.kind === 'clean' && u.scenario?.id === 'retract-vs-exit' && u.config.thp && u !== some,
    );
    const na = plan.units.find(
      (u) => u.kind === 'clean' && u.scenario && notApplicable(u.scenario, u.config),
    );
    expect(some && like && na).toBeTruthy();
    if (!some || !like || !na) return;
    const c = unitCosts(plan.units, { measured: 't', unit: 't', costs: { [like.key]: 42 } });
    expect(c.get(like.index)).toEqual({ cost: 42, from: 'table' });
    expect(c.get(some.index)).toEqual({ cost: 42, from: 'estimate' });
    expect(c.get(na.index)).toEqual({ cost: 0, from: 'estimate' });
  });
});

// A small plan with mutants: two configs where the scenario applies, one scenario.
const SUBSET = [
  'conformance',
  '--arch',
  'x86-32-pae',
  '--arch',
  'x86-64',
  '--scenario',
  'retract-vs-exit',
  '--workers',
  '0',
  '--no-progress',
  '--traces',
  join(tmp, 'traces'),
];
const untimedText = (s: string) => s.replace(/ cells in [\d.]+ s/, ' cells in - s');
const untimedXml = (s: string) => s.replace(/ time="[\d.]+"/g, '');

describe("a mutant unit's cells", () => {
  const { scenarios } = loadScenarios();
  const ids = scenarios.map((s) => s.id);
  const [a, b, c] = ids as [string, string, string];
  const table: CostTable = {
    measured: 'test',
    unit: 'test',
    costs: {
      [JSON.stringify(['clean', 'x86-64', a])]: 900,
      [JSON.stringify(['clean', 'x86-64', b])]: 5,
      [JSON.stringify(['clean', 'arm64-4k', c])]: 40,
      [JSON.stringify(['clean', 'sparc64', c])]: 60,
      // Not applicable there: measured at 0, which says nothing of the cell where it applies.
      [JSON.stringify(['clean', 'sparc32', c])]: 0,
      [JSON.stringify(['mutant', 'retract-without-recheck', 'x86-64'])]: 1,
    },
  };

  it('costs a clean cell by the table, else by the median of its scenario, else of every clean cell', () => {
    const cost = cleanCellCost(table);
    expect(cost('x86-64', a)).toBe(900);
    expect(cost('x86-64', b)).toBe(5);
    expect(cost('x86-64', c)).toBe(50);
    expect(cost('sparc32', c)).toBe(0);
    // No cell of this scenario measured: the median of the four applicable clean cells (mutant
    // units and cells measured at 0 do not count).
    expect(cost('x86-64', 'not-measured')).toBe(50);
  });

  it("try the table's killers first: this config's, then those of most other configs", () => {
    const m = (id: string, cfg: string) => JSON.stringify(['mutant', id, cfg]);
    const killers = mutantKillers({
      ...table,
      kills: {
        [m('retract-without-recheck', 'x86-64')]: c,
        [m('retract-without-recheck', 'arm64-4k')]: a,
        [m('retract-without-recheck', 'sparc64')]: b,
        [m('retract-without-recheck', 's390-4k')]: b,
        [m('fault-pte-lockptr', 'x86-64')]: a,
      },
    });
    expect(killers('retract-without-recheck', 'x86-64')).toEqual([c, b, a]);
    expect(killers('retract-without-recheck', 'sparc64')).toEqual([b, a, c]);
    // A config the table does not know (an arch module's): the mutant's usual killers.
    expect(killers('retract-without-recheck', 'riscv64')).toEqual([b, a, c]);
    expect(killers('never-killed', 'x86-64')).toEqual([]);
    expect(mutantKillers(table)('retract-without-recheck', 'x86-64')).toEqual([]);
  });

  it('come killers first, then cheapest first within those that declare its checks, then within the rest', () => {
    const plan = planConformance(builtinPorts(), scenarios, {
      archs: ['x86-64'],
      seed: 1,
      mutants: true,
      allMutantCells: false,
    });
    const cost = cleanCellCost();
    const killersOf = mutantKillers();
    let led = 0;
    for (const u of plan.units.filter((x) => x.kind === 'mutant')) {
      const m = u.mutant as NonNullable<typeof u.mutant>;
      const all = u.cells.map((x) => x.scenario);
      // Every scenario once.
      expect(new Set(all.map((s) => s.id)).size).toBe(scenarios.length);
      const killers = killersOf(m.id, 'x86-64');
      expect(all.slice(0, killers.length).map((s) => s.id)).toEqual(killers);
      if (killers.length) led++;
      // After them, those that declare one of its checks come first.
      const order = all.slice(killers.length);
      const aims = order.map((s) => m.checks.some((k) => s.checks.includes(k)));
      expect(aims.indexOf(false) < 0 || !aims.slice(aims.indexOf(false)).includes(true)).toBe(true);
      for (let i = 1; i < order.length; i++) {
        if (aims[i] !== aims[i - 1]) continue;
        const [p, q] = [order[i - 1], order[i]] as [(typeof order)[0], (typeof order)[0]];
        const d = cost('x86-64', q.id) - cost('x86-64', p.id);
        expect(d >= 0, `${m.id}: ${p.id} before ${q.id}`).toBe(true);
        // Equal costs keep suite order.
        if (d === 0) expect(ids.indexOf(q.id)).toBeGreaterThan(ids.indexOf(p.id));
      }
    }
    // The committed table knows where x86-64's mutants die.
    expect(led).toBeGreaterThan(10);
  });
});

describe('ptlab merge', () => {
  it('gives exactly the report of the unsharded run, and refuses shards that do not fit together', async () => {
    const whole = await cli(
      ...SUBSET,
      '--json',
      join(tmp, 'whole.json'),
      '--junit',
      join(tmp, 'whole.xml'),
    );
    const shards: string[] = [];
    for (const i of [1, 2, 3]) {
      const f = join(tmp, `s${i}.json`);
      const r = await cli(...SUBSET, '--shard', `${i}/3`, '--json', f);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`shard ${i}/3: \\d+ of the plan's`));
      shards.push(f);
    }
    const ws = readJson(join(tmp, 'whole.json')) as ConformanceReport;
    // Every shard ran a part; together all of them (no unit twice).
    const parts = shards.map((f) => readJson(f).shard.units as number[]);
    expect(parts.every((p) => p.length > 0)).toBe(true);
    expect(new Set(parts.flat()).size).toBe(parts.flat().length);

    // In any order.
    const m = await cli(
      'merge',
      shards[2] as string,
      shards[0] as string,
      shards[1] as string,
      '--json',
      join(tmp, 'merged.json'),
      '--junit',
      join(tmp, 'merged.xml'),
    );
    expect(m.code).toBe(whole.code);
    expect(ws.mutants.some((x) => x.verdict === 'killed')).toBe(true);
    const merged = readJson(join(tmp, 'merged.json')) as ConformanceReport;
    expect(JSON.stringify(untimed(merged))).toBe(JSON.stringify(untimed(ws)));
    expect(untimedXml(readFileSync(join(tmp, 'merged.xml'), 'utf8'))).toBe(
      untimedXml(readFileSync(join(tmp, 'whole.xml'), 'utf8')),
    );
    expect(untimedText(m.out)).toBe(untimedText(whole.out));
    // A shard alone does not judge mutants (one may be killed in another shard).
    expect(readJson(shards[0] as string).shard.records.length).toBeGreaterThan(0);

    // Refused, by name: a missing shard, a duplicate, a whole report, other options, other code, an interrupted shard.
    const miss = await cli('merge', shards[0] as string, shards[2] as string);
    expect(miss.code).toBe(2);
    expect(miss.err).toMatch(/shard 2\/3 is missing/);
    const dup = await cli('merge', shards[0] as string, shards[0] as string, shards[1] as string);
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/both shard 1\/3/);
    const notShard = await cli('merge', join(tmp, 'whole.json'));
    expect(notShard.code).toBe(2);
    expect(notShard.err).toMatch(/whole\.json is not a shard report/);
    // biome-ignore lint/suspicious/noExplicitAny: edits a parsed report in place
    const edit = (name: string, f: (j: any) => void) => {
      const j = readJson(shards[1] as string);
      f(j);
      const p = join(tmp, name);
      writeFileSync(p, JSON.stringify(j));
      return p;
    };
    const seed = edit('seed.json', (j) => {
      j.shard.run.options.seed = 2;
    });
    const s = await cli('merge', shards[0] as string, seed, shards[2] as string);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/seed\.json comes from a different run: --seed: 2 in .*seed\.json, 1 in/);
    const code = edit('code.json', (j) => {
      j.shard.run.code.sha256 = '0'.repeat(64);
    });
    const c = await cli('merge', shards[0] as string, code, shards[2] as string);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/other code/);
    const cut = edit('cut.json', (j) => {
      j.interrupted = 'SIGTERM';
      j.shard.records.pop();
    });
    const i = await cli('merge', shards[0] as string, cut, shards[2] as string);
    expect(i.code).toBe(2);
    expect(i.err).toMatch(/cut\.json is an interrupted run \(SIGTERM/);
    const lost = edit('lost.json', (j) => {
      j.shard.records.pop();
    });
    const l = await cli('merge', shards[0] as string, lost, shards[2] as string);
    expect(l.code).toBe(2);
    expect(l.err).toMatch(/has no record of 1 of its units/);
  }, 600_000);
});
