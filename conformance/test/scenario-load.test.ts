/**
 * Loading scenario files: every documented rule refuses, naming the file and
 * the field, and stays silent on the suite's own scenarios; a bad file never
 * stops the others from loading; load errors are carried to whoever looks a
 * scenario up.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS, type Limits, ScenarioError, UsageError } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  GENERATED_SCENARIO_DIR,
  isReservedTaskName,
  loadScenarioFile,
  loadScenarios,
  parseScenario,
  SCENARIO_DIR,
  scenarioById,
} from '../src/index.js';
import { capViolation, scenarioSchema } from '../src/scenario-schema.js';
import {
  brokenRule,
  edited,
  INVALID_EDITS,
  type Raw,
  setOwn,
  suiteScenarios,
} from './hostile-scenarios.js';

const SUITE = suiteScenarios();
const base = () =>
  structuredClone(SUITE.find((s) => s.file === 'retract-vs-lockless-walkers.json')?.raw as Raw);

function refusal(raw: unknown, source = 'bad.json'): ScenarioError {
  try {
    parseScenario(raw, source);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('parseScenario accepted it');
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ptlab-scen-'));

describe('the suite loads and breaks no rule', () => {
  it('every file in conformance/scenarios (and generated/)', () => {
    const r = loadScenarios();
    expect(r.errors).toEqual([]);
    expect(r.scenarios.length).toBe(
      SUITE.length + readdirSync(GENERATED_SCENARIO_DIR).filter((f) => f.endsWith('.json')).length,
    );
    for (const s of r.scenarios) expect(brokenRule(s), s.id).toBeNull();
  });

  it('at the caps: exactly LIMITS.threads threads and LIMITS.mms mms load', () => {
    const s = base();
    for (let i = s.threads.length; i < LIMITS.threads; i++)
      s.threads.push({ name: `walker${i}`, path: 'gup_fast', mm: 'A', addr: { pmd: 1, pte: 0 } });
    for (let i = s.mms.length; i < LIMITS.mms; i++) s.mms.push({ id: `M${i}`, vmas: [] });
    const v = parseScenario(s, 'caps.json');
    expect(v.threads.length).toBe(LIMITS.threads);
    expect(v.mms.length).toBe(LIMITS.mms);
  });
});

describe('every known-invalid edit is refused, naming the file and the field', () => {
  for (const e of INVALID_EDITS) {
    it(e.name, () => {
      let applied = 0;
      for (const { file, raw } of SUITE) {
        const s = structuredClone(raw);
        if (!e.edit(s)) continue;
        applied++;
        const err = refusal(edited(s), file);
        expect(err.code).toBe('E_SCENARIO_INVALID');
        expect(err.message.startsWith(`[${file}] `), err.message).toBe(true);
        expect(err.message, `${file}: ${err.message}`).toMatch(e.expect);
      }
      expect(applied, 'the edit applies to some suite scenario').toBeGreaterThan(0);
    });
  }
});

describe('prototype-named keys are unknown names', () => {
  it('a thread path "toString" does not crash the loader', () => {
    const s = base();
    s.threads[1].path = 'toString';
    expect(refusal(s).message).toMatch(/threads\.1\.path: unknown path "toString" \(known: /);
  });

  it('a "__proto__" key is refused, not dropped', () => {
    const s = base();
    setOwn(s.threads[1], '__proto__', { mm: 'B' });
    expect(refusal(s).message).toContain('threads.1.__proto__: a "__proto__" key is not allowed');
    const text = JSON.stringify(base()).replace('{"id"', '{"__proto__":{"x":1},"id"');
    expect(refusal(JSON.parse(text)).message).toContain('__proto__: a "__proto__" key');
  });

  it('reserved task names', () => {
    for (const n of ['rcu', 'kworker', 'teardown', 'boot', 'cpu0', 'cpu31'])
      expect(isReservedTaskName(n)).toBe(true);
    for (const n of ['rcu2', 'cpu', 'cpux', 'gup_fast', 'Rcu'])
      expect(isReservedTaskName(n)).toBe(false);
  });
});

describe('sizes derived from several fields against LIMITS', () => {
  const s = () => scenarioSchema.parse(base());
  const small = (over: Partial<Limits>): Limits => ({ ...LIMITS, ...over });

  it('stay silent at the real caps', () => {
    expect(capViolation(s())).toBeNull();
  });

  it('fire when a cap is smaller than the scenario', () => {
    expect(capViolation(s(), small({ pmdSlots: 2 }))).toMatch(
      /mms\.1\.vmas\.0: ends at pmd slot 3, beyond the 2 .*LIMITS\.pmdSlots/,
    );
    expect(capViolation(s(), small({ pteTablesPerMm: 0 }))).toMatch(
      /mms\.0: its vmas cover 1 pmd slots.*LIMITS\.pteTablesPerMm/,
    );
    expect(capViolation(s(), small({ fileExtents: 0 }))).toMatch(
      /pgoffPmds: .*LIMITS\.fileExtents/,
    );
    const withPtes = scenarioSchema.parse({
      ...base(),
      mms: [{ id: 'A', vmas: [{ file: 'shm', pmd: 1, shared: true, ptes: [1, 2] }] }],
      threads: [{ name: 'f', path: 'fault', mm: 'A', addr: { pmd: 1, pte: 1 } }],
    });
    expect(capViolation(withPtes, small({ ptesPerVma: 1 }))).toMatch(/2 ptes, at most 1/);
  });
});

describe('errors make invisible characters visible', () => {
  it('in a field', () => {
    const s = base();
    s.mms[0].vmas[0].file = 'shm\u200B';
    expect(refusal(s).message).toContain('mms.0.vmas.0.file: "shm\\u200B" contains invisible');
  });

  it('in JSON syntax errors, and in the file name', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'two-boms.json'), `\uFEFF\uFEFF${JSON.stringify(base())}`);
    writeFileSync(join(dir, 'nbsp\u00A0name.json'), '{');
    const r = loadScenarios(dir);
    expect(r.scenarios).toEqual([]);
    const [a, b] = r.errors.map((e) => e.message).sort();
    expect(a).toMatch(/nbsp\\u00A0name\.json\] not JSON/);
    expect(b).toMatch(/two-boms\.json\] not JSON: .*\\uFEFF/);
    for (const m of [a, b]) expect(m).not.toMatch(/[\uFEFF\u00A0]/);
  });

  it('shows a long string around its invisible character', () => {
    const s = base();
    s.description = `${'a'.repeat(500)}\u200B${'b'.repeat(500)}`;
    expect(refusal(s).message).toBe(
      `[bad.json] description: "…${'a'.repeat(30)}\\u200B${'b'.repeat(29)}…" contains invisible characters (shown as \\u escapes)`,
    );
  });
});

describe('files', () => {
  it('a leading UTF-8 byte order mark is dropped', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bom.json'), `\uFEFF${JSON.stringify(base(), null, 2)}`);
    expect(loadScenarioFile(join(dir, 'bom.json')).id).toBe('retract-vs-lockless-walkers');
  });

  it('refuses bytes that are not UTF-8, a file past the size cap, and a directory', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'latin1.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    writeFileSync(join(dir, 'huge.json'), ' '.repeat(LIMITS.scenarioFileBytes + 1));
    mkdirSync(join(dir, 'dir.json'));
    const msgs = loadScenarios(dir).errors.map((e) => e.message);
    expect(msgs).toEqual([
      expect.stringMatching(/dir\.json\] not a regular file/),
      expect.stringMatching(
        /huge\.json\] \d+ bytes, more than a scenario file may have .*LIMITS\.scenarioFileBytes/,
      ),
      expect.stringMatching(/latin1\.json\] not UTF-8 text/),
    ]);
  });

  it('a check that throws on unforeseen input is still a ScenarioError naming the source', () => {
    const raw = base();
    Object.defineProperty(raw, 'title', {
      enumerable: true,
      get() {
        throw new RangeError('boom');
      },
    });
    const e = refusal(raw, 'api-object');
    expect(e.message).toBe('[api-object] cannot be checked: boom');
  });
});

describe('loadScenarios', () => {
  it('reports each bad file and loads the rest', () => {
    const dir = tmp();
    const good = base();
    writeFileSync(join(dir, 'a-good.json'), JSON.stringify(good));
    writeFileSync(
      join(dir, 'b-proto.json'),
      JSON.stringify({ ...good, id: 'b', threads: [{ name: 'x', path: 'toString' }] }),
    );
    writeFileSync(join(dir, 'c-broken.json'), '{ "id": ');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const r = loadScenarios(dir);
    expect(r.scenarios.map((s) => s.id)).toEqual(['retract-vs-lockless-walkers']);
    expect(r.errors.map((e) => e.where)).toEqual([
      join(dir, 'b-proto.json'),
      join(dir, 'c-broken.json'),
    ]);
    expect(r.refusedIds.get('b')?.[0]?.message).toMatch(/unknown path "toString"/);
  });

  it('a directory that cannot be read is an error, not a throw', () => {
    const r = loadScenarios([join(tmp(), 'missing'), SCENARIO_DIR]);
    expect(r.errors.length).toBe(1);
    expect(r.errors[0]?.message).toMatch(/missing\] cannot read scenario directory/);
    expect(r.scenarios.length).toBe(SUITE.length);
  });

  it('refuses every file sharing a scenario id, within and across directories, naming all of them', () => {
    const d1 = tmp();
    const d2 = tmp();
    const s = base();
    writeFileSync(join(d1, 'one.json'), JSON.stringify(s));
    writeFileSync(join(d1, 'two.json'), JSON.stringify(s));
    writeFileSync(join(d2, 'three.json'), JSON.stringify(s));
    writeFileSync(join(d2, 'other.json'), JSON.stringify({ ...s, id: 'other' }));
    const r = loadScenarios([d1, d2]);
    expect(r.scenarios.map((x) => x.id)).toEqual(['other']);
    expect(r.errors.length).toBe(3);
    for (const e of r.errors) {
      expect(e.message).toMatch(/id: scenario id "retract-vs-lockless-walkers" is used by 3 files/);
      for (const f of [join(d1, 'one.json'), join(d1, 'two.json'), join(d2, 'three.json')])
        expect(e.message).toContain(f);
    }
    // One directory given twice is read once: its files do not clash with themselves.
    expect(loadScenarios([d2, d2]).errors.length).toBe(0);
    // The suite and a copy of one of its files.
    expect(loadScenarios([SCENARIO_DIR, d2]).errors.length).toBe(2);
  });
});

describe('scenarioById carries load errors to check and replay', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'ok.json'), JSON.stringify({ ...base(), id: 'ok' }));
  const bad = base();
  bad.id = 'broken-one';
  bad.mms.push({ id: 'A', vmas: [] });
  writeFileSync(join(dir, 'broken.json'), JSON.stringify(bad));
  const load = loadScenarios(dir);

  it('finds a scenario that loaded', () => {
    expect(scenarioById(load, 'ok').id).toBe('ok');
  });

  it('a scenario whose file was refused: says why', () => {
    let err: unknown;
    try {
      scenarioById(load, 'broken-one');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as Error).message).toMatch(
      /scenario "broken-one" did not load: .*broken\.json\] mms\.2\.id: mm id "A" is also mms\.0/,
    );
  });

  it('an unknown id: lists the known ones and the files that did not load', () => {
    for (const id of ['nope', 'toString', '__proto__']) {
      let err: unknown;
      try {
        scenarioById(load, id);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `unknown scenario "${id}" \\(known: ok\\); 1 scenario file\\(s\\) did not load: .*broken\\.json`,
        ),
      );
    }
  });
});

describe('the rule oracle of the fuzz test fires on rule-breaking data', () => {
  it('silent on a valid scenario, loud on one edited after loading', () => {
    const v = parseScenario(base(), 'x');
    expect(brokenRule(v)).toBeNull();
    expect(brokenRule({ ...v, mms: [...v.mms, v.mms[0] as (typeof v.mms)[number]] })).toBe(
      'duplicate mm id',
    );
    expect(
      brokenRule({
        ...v,
        threads: v.threads.map((t) => (t.path === 'gup_fast' ? { ...t, name: 'rcu' } : t)),
      }),
    ).toBe('reserved thread name');
  });
});
