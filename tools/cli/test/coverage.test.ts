/**
 * --coverage: which files count (scope.ts), the allow-list (allow.ts), and an
 * end-to-end run of one cell in a child process whose coverage maps back to
 * the TypeScript sources (report.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAllowList, entryFor, loadAllowList } from '../src/coverage/allow.js';
import { targetFigures } from '../src/coverage/index.js';
import type { UnreachedBranch } from '../src/coverage/report.js';
import { packageOf } from '../src/coverage/scope.js';
import { runCli } from '../src/main.js';

describe('coverage scope', () => {
  it('counts mm, arch-* and core kernel files, not engine plumbing or tests', () => {
    expect(packageOf('/r/packages/mm/src/fault.ts')).toBe('@ptlab/mm');
    expect(packageOf('/r/packages/arch-s390/src/s390-pgalloc.ts')).toBe('@ptlab/arch-s390');
    expect(packageOf('/r/packages/core/src/rcu.ts')).toBe('@ptlab/core');
    expect(packageOf('/r/node_modules/@ptlab/core/src/pgtable.ts')).toBe('@ptlab/core');
    expect(packageOf('/r/packages/core/src/step.ts')).toBeNull();
    expect(packageOf('/r/packages/core/src/kernel.ts')).toBeNull();
    expect(packageOf('/r/packages/explore/src/dpor.ts')).toBeNull();
    expect(packageOf('/r/packages/mm/test/x.test.ts')).toBeNull();
  });

  it("counts an arch module's own files, not its node_modules", () => {
    const m = [{ label: 'arch module ./riscv', dir: '/w/riscv' }];
    expect(packageOf('/w/riscv/src/port.ts', m)).toBe('arch module ./riscv');
    expect(packageOf('/w/riscv/node_modules/x/y.ts', m)).toBeNull();
  });
});

const b = (over: Partial<UnreachedBranch> = {}): UnreachedBranch => ({
  file: 'packages/mm/src/fault.ts',
  line: 10,
  type: 'if',
  arm: 0,
  code: 'if (!file) return x;',
  fn: 'f',
  ...over,
});

describe('coverage allow-list', () => {
  it('a listed branch is allowed wherever its line moved; an unlisted one is a gap', () => {
    const allow = [
      { ...entryFor(b({ line: 3 })), reason: 'dead: no scenario has a file-less vma' },
    ];
    const r = checkAllowList([b(), b({ arm: 1 })], allow);
    expect(r.allowed).toBe(1);
    expect(r.gaps).toEqual([b({ arm: 1 })]);
    expect(r.stale).toEqual([]);
  });

  it('an entry that matches nothing is stale; the same line twice needs two entries', () => {
    const e = { ...entryFor(b()), reason: 'a reason long enough' };
    const r = checkAllowList([b(), b({ line: 20 })], [e, { ...e, code: 'changed' }]);
    expect(r.allowed).toBe(1);
    expect(r.gaps).toHaveLength(1);
    expect(r.stale).toHaveLength(1);
  });

  it('refuses a malformed list, naming the field; a missing one is empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptlab-allow-'));
    const p = join(dir, 'a.json');
    const e = {
      file: 'x',
      code: '',
      type: 'if',
      arm: 0,
      kind: 'unmodelled',
      reason: 'long enough reason',
    };
    writeFileSync(p, JSON.stringify({ branches: [{ ...e, reason: 'short' }] }));
    expect(() => loadAllowList(p)).toThrow(/branches\.0\.reason/);
    writeFileSync(p, JSON.stringify({ branches: [e, { ...e, kind: 'debug-only' }] }));
    expect(() => loadAllowList(p)).toThrow(/branches\.1\.kind/);
    const { kind: _, ...noKind } = e;
    writeFileSync(p, JSON.stringify({ branches: [noKind] }));
    expect(() => loadAllowList(p)).toThrow(/branches\.0\.kind/);
    writeFileSync(p, JSON.stringify({ branches: [e] }));
    expect(loadAllowList(p)).toHaveLength(1);
    expect(loadAllowList(join(dir, 'none.json'))).toEqual([]);
  });

  it('counts against the target only the unmodelled arms: the others no correct run can take', () => {
    const mk = (
      arm: number,
      kind: 'unmodelled' | 'broken-code' | 'foreign-input' | 'model-artefact',
    ) => ({
      ...entryFor(b({ arm })),
      kind,
      reason: 'a reason long enough',
    });
    const allow = [
      mk(0, 'unmodelled'),
      mk(1, 'broken-code'),
      mk(2, 'foreign-input'),
      mk(3, 'model-artefact'),
      mk(9, 'broken-code'),
    ];
    // Arm 9 is reached (not in `unreached`): a stale entry, which excludes nothing.
    const check = checkAllowList(
      [0, 1, 2, 3, 4].map((arm) => b({ arm })),
      allow,
    );
    expect(check.byKind).toEqual({
      unmodelled: 1,
      'broken-code': 1,
      'foreign-input': 1,
      'model-artefact': 1,
    });
    expect(check.stale).toHaveLength(1);
    const t = targetFigures(20, 15, check);
    expect(t.branches).toEqual({ found: 20, hit: 15 });
    // 5 unreached: 3 excluded, the unmodelled one and the gap (arm 4) count.
    expect(t.correctCode).toEqual({ found: 17, hit: 15 });
    expect(t.gaps).toBe(1);
    // A placeholder entry for a gap counts against the target until someone says otherwise.
    expect(entryFor(b()).kind).toBe('unmodelled');
  });
});

describe('ptlab conformance --coverage', () => {
  it('maps one cell of a child process back to the TypeScript branches it reached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptlab-cov-'));
    const out: string[] = [];
    const code = await runCli(
      [
        'conformance',
        '--arch',
        'x86-64',
        '--scenario',
        'gen-retract-cptm',
        '--no-mutants',
        '--no-progress',
        '--workers',
        '0',
        '--traces',
        join(dir, 'traces'),
        '--json',
        join(dir, 'r.json'),
        '--coverage',
        join(dir, 'cov'),
      ],
      { out: (s) => out.push(s), err: () => {} },
    );
    expect(code).toBe(0); // a filtered run reports coverage, it does not fail on it
    const lcov = readFileSync(join(dir, 'cov', 'lcov.info'), 'utf8');
    expect(lcov).toMatch(/^SF:.*packages\/mm\/src\/khugepaged\.ts$/m);
    expect(lcov).toMatch(/^BRF:\d+$/m);
    const sum = JSON.parse(readFileSync(join(dir, 'cov', 'coverage-summary.json'), 'utf8'));
    const mm = sum.perPackage['@ptlab/mm'];
    expect(mm.branches.hit).toBeGreaterThan(0);
    expect(mm.branches.hit).toBeLessThan(mm.branches.found);
    // The target figures: the correct-code denominator leaves out the allowed arms no correct run takes.
    expect(sum.target.branches.found).toBeGreaterThan(sum.target.correctCode.found);
    expect(sum.target.correctCode.hit).toBe(sum.target.branches.hit);
    // Block counts, not call counts: of `if (!c.thp) return 'SCAN_VMA_CHECK';` in collapse(), the
    // early return is not taken (arm 0) and the implicit else is (arm 1). With only the
    // function's call count (what V8 keeps once the debugger is enabled) both arms read wrong.
    const src = readFileSync(join(__dirname, '../../../packages/mm/src/collapse.ts'), 'utf8');
    const line =
      src.split('\n').findIndex((l) => l.includes("if (!c.thp) return 'SCAN_VMA_CHECK';")) + 1;
    expect(line).toBeGreaterThan(0);
    const section =
      lcov.split('end_of_record').find((x) => /SF:.*packages\/mm\/src\/collapse\.ts/.test(x)) ?? '';
    const arms = [...section.matchAll(new RegExp(`^BRDA:${line},\\d+,(\\d+),(\\d+|-)$`, 'gm'))].map(
      (m) => [Number(m[1]), m[2] === '-' ? 0 : Number(m[2])],
    );
    expect(arms).toHaveLength(2);
    expect(arms[0]).toEqual([0, 0]);
    expect(arms[1]?.[1]).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(report.coverage).toEqual(sum);
    expect(out.join('\n')).toMatch(/@ptlab\/mm: unreached branches/);
    expect(out.join('\n')).toMatch(/not enforced/);
  }, 120_000);
});
