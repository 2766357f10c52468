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
    writeFileSync(
      p,
      JSON.stringify({ branches: [{ file: 'x', code: '', type: 'if', arm: 0, reason: 'short' }] }),
    );
    expect(() => loadAllowList(p)).toThrow(/branches\.0\.reason/);
    expect(loadAllowList(join(dir, 'none.json'))).toEqual([]);
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
