/**
 * validatePort(): each rule on an ArchConfig fires on a config that breaks it
 * and stays silent on a valid one; every built-in port (and the riscv example
 * outside the workspace's arch packages) passes.
 */
import {
  type ArchConfig,
  ArchModuleError,
  type ArchPort,
  LIMITS,
  simulatedMemoryEstimate,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import riscv from '../../examples/arch-riscv/src/index.js';
// The built-in ports, from source (the arch packages depend on conformance, not the other way round).
import arm from '../../packages/arch-arm/src/index.js';
import mips from '../../packages/arch-mips/src/index.js';
import powerpc from '../../packages/arch-powerpc/src/index.js';
import s390 from '../../packages/arch-s390/src/index.js';
import sparc from '../../packages/arch-sparc/src/index.js';
import x86 from '../../packages/arch-x86/src/index.js';
import { configProblem, validatePort } from '../src/index.js';
import { GENERIC_64, generic } from './generic-port.js';

const withConfig = (c: Record<string, unknown>): ArchPort => ({
  ...generic,
  configs: [c as unknown as ArchConfig],
});

function refusal(port: unknown): string {
  try {
    validatePort(port, 'test-module');
  } catch (e) {
    if (e instanceof ArchModuleError) return e.message;
    throw e;
  }
  throw new Error('validatePort accepted it');
}

describe('every built-in config passes', () => {
  for (const port of [x86, arm, mips, powerpc, s390, sparc, riscv, generic]) {
    it(port.arch, () => {
      expect(validatePort(port, port.arch)).toBe(port);
      for (const c of port.configs) expect(configProblem(c), c.id).toBeNull();
    });
  }
});

/** [rule, edit of a valid config, what the refusal says]. */
const RULES: [string, Record<string, unknown>, RegExp][] = [
  ['PAGE_SIZE a power of two', { PAGE_SIZE: 12288 }, /PAGE_SIZE must be a power of two, got 12288/],
  [
    'PTRS_PER_PTE a power of two',
    { PTRS_PER_PTE: 500 },
    /PTRS_PER_PTE must be a power of two, got 500/,
  ],
  ['PTRS_PER_PMD a power of two', { PTRS_PER_PMD: 1000 }, /PTRS_PER_PMD must be a power of two/],
  ['tablesPerPage a power of two', { tablesPerPage: 3 }, /tablesPerPage must be a power of two/],
  ['a positive integer', { PTRS_PER_PTE: 0 }, /PTRS_PER_PTE must be a positive integer, got 0/],
  ['an integer', { PAGE_SIZE: 4096.5 }, /PAGE_SIZE must be a positive integer/],
  ['a number', { levels: '4' }, /levels must be a positive integer, got 4/],
  ['a safe integer', { PTRS_PER_PTE: 2 ** 60 }, /PTRS_PER_PTE must be a positive integer/],
  ['pteSize 4 or 8', { pteSize: 3 }, /pteSize must be 4 or 8 \(sizeof\(pte_t\)\), got 3/],
  ['pteSize 4 or 8 (16)', { pteSize: 16, PTRS_PER_PTE: 128 }, /pteSize must be 4 or 8/],
  ['levels at least 2', { levels: 1 }, /levels \(CONFIG_PGTABLE_LEVELS\) must be 2\.\.5, got 1/],
  ['levels at most 5', { levels: 6 }, /must be 2\.\.5, got 6/],
  [
    'PAGE_SIZE at least 4K',
    { PAGE_SIZE: 2048, PTRS_PER_PTE: 256 },
    /PAGE_SIZE must be 4096\.\.262144/,
  ],
  [
    'PAGE_SIZE at most 256K',
    { PAGE_SIZE: 2 ** 33 },
    /PAGE_SIZE must be 4096\.\.262144 .*got 8589934592/,
  ],
  ['PTRS_PER_PTE at least 16', { PTRS_PER_PTE: 8 }, /PTRS_PER_PTE must be at least 16/],
  ['PTRS_PER_PMD at least 16', { PTRS_PER_PMD: 8 }, /PTRS_PER_PMD must be 16\.\.65536/],
  ['PTRS_PER_PMD at most 65536', { PTRS_PER_PMD: 2 ** 20 }, /PTRS_PER_PMD must be 16\.\.65536/],
  [
    'the tables fit the page',
    { PTRS_PER_PTE: 1024 },
    /1 table\(s\) of 1024 x 8-byte entries do not fit a 4096-byte page/,
  ],
  [
    'the tables fit the page (packed)',
    { tablesPerPage: 2 },
    /2 table\(s\) of 512 x 8-byte entries do not fit/,
  ],
  [
    'the memory estimate',
    { PAGE_SIZE: 256 << 10, pteSize: 4 },
    /memory estimate 5128 page frames x 262144-byte pages \(65536 4-byte words at 9 bytes each\) = 2884\.5 MiB, more than the 2048 MiB cap \(LIMITS\.simulatedMemoryBytes\)/,
  ],
  [
    "the issue's 24 GB config",
    { PTRS_PER_PTE: 1e9, PAGE_SIZE: 2 ** 33 },
    /PTRS_PER_PTE must be a power of two/,
  ],
  ['booleans', { thp: 'yes' }, /thp must be true or false, got a string/],
  ['booleans present', { ptReclaim: undefined }, /ptReclaim must be true or false, got nothing/],
  [
    'optional boolean',
    { pageTableCheck: 1 },
    /pageTableCheck must be true, false or absent, got a number/,
  ],
  ['gupFast', { gupFast: 'no' }, /gupFast must be true, false or absent, got a string/],
  ['strings', { description: 7 }, /description must be a non-empty string/],
  ['kernel string', { kernel: '' }, /kernel must be a non-empty string/],
  ['pfnBase', { pfnBase: -1 }, /pfnBase must be a non-negative integer or absent, got -1/],
  ['pfnStride', { pfnStride: 0.5 }, /pfnStride must be a positive integer or absent/],
  ['physical addresses stay exact', { pfnStride: 2 ** 40 }, /go past 2\^53/],
  [
    'config id well-formed',
    { id: 'X86 64' },
    /config id "X86 64" must be lower-case letters and digits joined by -/,
  ],
  ['config id without invisible characters', { id: 'x86\u200B' }, /config id "x86\\u200B"/],
  ['config id not too long', { id: 'a'.repeat(65) }, /at most 64/],
  [
    "config arch is the port's",
    { arch: 'x86' },
    /config generic-64 says arch "x86", but the port is "generic"/,
  ],
];

describe('each config rule fires, and stays silent on the valid config', () => {
  it('the valid config passes every rule', () => {
    expect(configProblem(GENERIC_64)).toBeNull();
    expect(validatePort(withConfig({ ...GENERIC_64 }), 'ok').configs[0]).toEqual(GENERIC_64);
  });
  for (const [rule, edit, msg] of RULES) {
    it(rule, () => {
      const m = refusal(withConfig({ ...GENERIC_64, ...edit }));
      expect(m).toMatch(/^\[test-module\] /);
      expect(m).toMatch(msg);
    });
  }

  it('the memory estimate is checked before anything is allocated, and passes at the edges', () => {
    // 256K pages of 8-byte entries: within the cap.
    const big = { ...GENERIC_64, PAGE_SIZE: 256 << 10, pteSize: 8 as const };
    expect(simulatedMemoryEstimate(big)).toBeLessThanOrEqual(LIMITS.simulatedMemoryBytes);
    expect(configProblem(big)).toBeNull();
    // create() is never called for a refused config.
    let created = 0;
    const port: ArchPort = {
      ...generic,
      configs: [{ ...GENERIC_64, PAGE_SIZE: 256 << 10, pteSize: 4 }],
      create: (c, v) => {
        created++;
        return generic.create(c, v);
      },
    };
    expect(() => validatePort(port, 'm')).toThrow(/memory estimate/);
    expect(created).toBe(0);
  });
});

describe('port-level rules', () => {
  it('config ids unique', () => {
    expect(refusal({ ...generic, configs: [GENERIC_64, GENERIC_64] })).toMatch(
      /config id generic-64 appears twice/,
    );
  });

  it('variants: ids, expect, and configs that exist', () => {
    const v = { id: 'v1', description: 'd', seed: 's', configs: ['generic-64'], expect: 'caught' };
    expect(validatePort({ ...generic, variants: [v] }, 'ok').variants).toEqual([v]);
    expect(refusal({ ...generic, variants: [v, v] })).toMatch(/variant id v1 appears twice/);
    expect(refusal({ ...generic, variants: [{ ...v, expect: 'maybe' }] })).toMatch(
      /variant v1: expect must be "caught" or "pass"/,
    );
    expect(refusal({ ...generic, variants: [{ ...v, configs: ['x86-64'] }] })).toMatch(
      /variant v1: configs names "x86-64", which is not one of this port's configs \(generic-64\)/,
    );
    expect(refusal({ ...generic, variants: [{ ...v, configs: [] }] })).toMatch(/non-empty array/);
    expect(refusal({ ...generic, variants: [{ ...v, seed: 3 }] })).toMatch(/must be strings/);
    expect(refusal({ ...generic, variants: [null] })).toMatch(/variants\[0\] has no string id/);
  });

  it('variants: the checks they declare exist, and a pass variant declares none', () => {
    const v = { id: 'v1', description: 'd', seed: 's', configs: ['generic-64'], expect: 'caught' };
    const ok = { ...v, checks: ['use-after-free', 'rcu-head-reused'] };
    expect(validatePort({ ...generic, variants: [ok] }, 'ok').variants).toEqual([ok]);
    expect(
      validatePort({ ...generic, variants: [{ ...v, expect: 'pass', checks: [] }] }, 'ok'),
    ).toBeTruthy();
    expect(refusal({ ...generic, variants: [{ ...v, checks: ['use-after-fre'] }] })).toMatch(
      /variant v1: checks names "use-after-fre", which is no check; the checks are use-after-free, /,
    );
    expect(refusal({ ...generic, variants: [{ ...v, checks: 'use-after-free' }] })).toMatch(
      /variant v1: checks must be an array of check ids, got a string/,
    );
    expect(refusal({ ...generic, variants: [{ ...v, checks: [7] }] })).toMatch(
      /checks names 7, which is no check/,
    );
    expect(
      refusal({ ...generic, variants: [{ ...v, expect: 'pass', checks: ['use-after-free'] }] }),
    ).toMatch(/variant v1: expect "pass" with checks use-after-free/);
  });
});
