import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type ArchConfig,
  ArchModuleError,
  type ArchPort,
  type ArchVariant,
  CHECKS,
  LIMITS,
  simulatedMemoryEstimate,
  visible,
} from '@ptlab/core';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object'
    ? `an object with keys ${Object.keys(v as object).join(', ') || '(none)'}`
    : `a ${typeof v}`;
}

/** How a config id is spelled (`x86-64`, `s390-2k`): it names matrix rows, trace files and --arch. */
const CONFIG_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** The ArchConfig members that must be booleans (arch-port.ts). */
const BOOLEAN_FIELDS = [
  'splitPtePtlocks',
  'splitPmdPtlocks',
  'thp',
  'hugetlbPteLevel',
  'rcuTableFree',
  'tlbFlushIpi',
  'pmdLowHigh',
  'ptReclaim',
] as const;
const isPow2 = (n: number) =>
  Number.isSafeInteger(n) && n > 0 && (BigInt(n) & (BigInt(n) - 1n)) === 0n;
const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MiB`;

/**
 * The rules one ArchConfig must meet, before anything is allocated for it:
 * the first one it breaks, or null. Numbers first (their messages are the
 * most common), then the memory estimate, then the other members' types.
 */
export function configProblem(c: ArchConfig): string | null {
  for (const k of [
    'PAGE_SIZE',
    'PTRS_PER_PTE',
    'PTRS_PER_PMD',
    'pteSize',
    'tablesPerPage',
    'levels',
  ] as const) {
    const n = c[k] as unknown;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
      return `${k} must be a positive integer, got ${String(n)}`;
  }
  for (const k of ['PAGE_SIZE', 'PTRS_PER_PTE', 'PTRS_PER_PMD', 'tablesPerPage'] as const)
    if (!isPow2(c[k])) return `${k} must be a power of two, got ${c[k]}`;
  if (c.pteSize !== 4 && c.pteSize !== 8)
    return `pteSize must be 4 or 8 (sizeof(pte_t)), got ${c.pteSize}`;
  if (c.levels < LIMITS.levelsMin || c.levels > LIMITS.levelsMax)
    return `levels (CONFIG_PGTABLE_LEVELS) must be ${LIMITS.levelsMin}..${LIMITS.levelsMax}, got ${c.levels}`;
  if (c.PAGE_SIZE < LIMITS.pageSizeMin || c.PAGE_SIZE > LIMITS.pageSizeMax)
    return `PAGE_SIZE must be ${LIMITS.pageSizeMin}..${LIMITS.pageSizeMax} (LIMITS.pageSizeMin/Max), got ${c.PAGE_SIZE}`;
  if (c.PTRS_PER_PTE < LIMITS.ptrsPerPteMin)
    return `PTRS_PER_PTE must be at least ${LIMITS.ptrsPerPteMin} so every scenario address fits (LIMITS.ptrsPerPteMin), got ${c.PTRS_PER_PTE}`;
  if (c.PTRS_PER_PMD < LIMITS.ptrsPerPmdMin || c.PTRS_PER_PMD > LIMITS.ptrsPerPmdMax)
    return `PTRS_PER_PMD must be ${LIMITS.ptrsPerPmdMin}..${LIMITS.ptrsPerPmdMax} (LIMITS.ptrsPerPmdMin/Max), got ${c.PTRS_PER_PMD}`;
  if (c.PTRS_PER_PTE * c.pteSize * c.tablesPerPage > c.PAGE_SIZE)
    return `${c.tablesPerPage} table(s) of ${c.PTRS_PER_PTE} x ${c.pteSize}-byte entries do not fit a ${c.PAGE_SIZE}-byte page`;
  const bytes = simulatedMemoryEstimate(c);
  if (bytes > LIMITS.simulatedMemoryBytes)
    return `memory estimate ${LIMITS.pageFrames} page frames x ${c.PAGE_SIZE}-byte pages (${c.PAGE_SIZE / c.pteSize} ${c.pteSize}-byte words at ${LIMITS.bytesPerSimulatedWord} bytes each) = ${mib(bytes)}, more than the ${mib(LIMITS.simulatedMemoryBytes)} cap (LIMITS.simulatedMemoryBytes)`;
  for (const k of BOOLEAN_FIELDS) {
    const b = c[k] as unknown;
    if (typeof b !== 'boolean') return `${k} must be true or false, got ${describe(b)}`;
  }
  if (c.pageTableCheck !== undefined && typeof c.pageTableCheck !== 'boolean')
    return `pageTableCheck must be true, false or absent, got ${describe(c.pageTableCheck)}`;
  if (c.hugetlbPmdLevel !== undefined && typeof c.hugetlbPmdLevel !== 'boolean')
    return `hugetlbPmdLevel must be true, false or absent, got ${describe(c.hugetlbPmdLevel)}`;
  if (c.gupFast !== undefined && typeof c.gupFast !== 'boolean')
    return `gupFast must be true, false or absent, got ${describe(c.gupFast)}`;
  for (const k of ['arch', 'description', 'kernel'] as const)
    if (typeof c[k] !== 'string' || (c[k] as string).length === 0)
      return `${k} must be a non-empty string, got ${describe(c[k])}`;
  const base = c.pfnBase ?? 0;
  const stride = c.pfnStride ?? 1;
  if (!Number.isSafeInteger(base) || base < 0)
    return `pfnBase must be a non-negative integer or absent, got ${String(c.pfnBase)}`;
  if (!Number.isSafeInteger(stride) || stride <= 0)
    return `pfnStride must be a positive integer or absent, got ${String(c.pfnStride)}`;
  if ((base + LIMITS.pageFrames * stride) * c.PAGE_SIZE > Number.MAX_SAFE_INTEGER)
    return `pfnBase ${base} + ${LIMITS.pageFrames} frames x pfnStride ${stride} pages of ${c.PAGE_SIZE} bytes go past 2^53, where physical addresses stop being exact`;
  return null;
}

/** Check that a value is an ArchPort; say precisely what is missing when it is not. */
export function validatePort(v: unknown, where: string): ArchPort {
  if (typeof v !== 'object' || v === null)
    throw new ArchModuleError(where, `expected an ArchPort, got ${describe(v)}`);
  const p = v as Partial<ArchPort>;
  if (typeof p.arch !== 'string' || !p.arch)
    throw new ArchModuleError(where, 'ArchPort.arch must be a non-empty string');
  const fail = (msg: string) => new ArchModuleError(where, visible(`ArchPort ${p.arch}: ${msg}`));
  if (!Array.isArray(p.configs) || p.configs.length === 0)
    throw fail('configs must be a non-empty array');
  if (typeof p.create !== 'function') throw fail('create(config, variant?) must be a function');
  if (!Array.isArray(p.variants)) throw fail('variants must be an array (empty if none)');
  const ids = new Set<string>();
  for (const [i, c] of (p.configs as unknown[]).entries()) {
    if (typeof c !== 'object' || c === null || typeof (c as ArchConfig).id !== 'string')
      throw fail(`configs[${i}] has no string id`);
    const config = c as ArchConfig;
    if (!CONFIG_ID.test(config.id) || config.id.length > LIMITS.nameLength)
      throw fail(
        `configs[${i}]: config id "${config.id}" must be lower-case letters and digits joined by - (at most ${LIMITS.nameLength})`,
      );
    if (ids.has(config.id)) throw fail(`config id ${config.id} appears twice`);
    ids.add(config.id);
    const problem = configProblem(config);
    if (problem) throw new ArchModuleError(where, visible(`config ${config.id}: ${problem}`));
    if (config.arch !== p.arch)
      throw fail(`config ${config.id} says arch "${config.arch}", but the port is "${p.arch}"`);
  }
  const variantIds = new Set<string>();
  for (const [i, x] of (p.variants as unknown[]).entries()) {
    const va = x as Partial<ArchVariant> | null;
    if (typeof va !== 'object' || va === null || typeof va.id !== 'string' || !va.id)
      throw fail(`variants[${i}] has no string id`);
    if (variantIds.has(va.id)) throw fail(`variant id ${va.id} appears twice`);
    variantIds.add(va.id);
    if (typeof va.description !== 'string' || typeof va.seed !== 'string')
      throw fail(`variant ${va.id}: description and seed must be strings`);
    if (va.expect !== 'caught' && va.expect !== 'pass')
      throw fail(`variant ${va.id}: expect must be "caught" or "pass", got ${describe(va.expect)}`);
    if (!Array.isArray(va.configs) || va.configs.length === 0)
      throw fail(`variant ${va.id}: configs must be a non-empty array of config ids`);
    const unknown = (va.configs as unknown[]).find((id) => typeof id !== 'string' || !ids.has(id));
    if (unknown !== undefined)
      throw fail(
        `variant ${va.id}: configs names ${JSON.stringify(unknown)}, which is not one of this port's configs (${[...ids].join(', ')})`,
      );
    if (va.reachRecorded !== undefined && typeof va.reachRecorded !== 'boolean')
      throw fail(
        `variant ${va.id}: reachRecorded must be a boolean, got ${describe(va.reachRecorded)}`,
      );
    // The checks that are the variant's bug: a misspelt one could never be matched, so the
    // variant would never count as killed, for a reason no message would give.
    if (va.checks !== undefined) {
      if (!Array.isArray(va.checks))
        throw fail(
          `variant ${va.id}: checks must be an array of check ids, got ${describe(va.checks)}`,
        );
      const bad = (va.checks as unknown[]).find(
        (c) => typeof c !== 'string' || !Object.hasOwn(CHECKS, c),
      );
      if (bad !== undefined) {
        throw fail(
          `variant ${va.id}: checks names ${JSON.stringify(bad)}, which is no check; the checks are ${Object.keys(CHECKS).join(', ')}`,
        );
      }
      if (va.expect === 'pass' && va.checks.length)
        throw fail(
          `variant ${va.id}: expect "pass" with checks ${va.checks.join(', ')}: a design that must pass has no bug to declare`,
        );
    }
  }
  return p as ArchPort;
}

/**
 * Load an arch package by path or package name: its default export, an export
 * named `port`, or its only export that looks like an ArchPort.
 */
export async function loadArchModule(specifier: string, cwd = process.cwd()): Promise<ArchPort> {
  const looksLikePath = specifier.startsWith('.') || isAbsolute(specifier);
  const target = looksLikePath ? pathToFileURL(resolve(cwd, specifier)).href : specifier;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (e) {
    throw new ArchModuleError(specifier, `cannot import the arch module: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const candidates = [mod.default, mod.port, ...Object.values(mod)].filter(
    (v) => typeof v === 'object' && v !== null && 'create' in v && 'configs' in v,
  );
  if (candidates.length === 0) {
    throw new ArchModuleError(
      specifier,
      `exports no ArchPort (looked at default, port, and ${Object.keys(mod).join(', ') || 'no other exports'})`,
    );
  }
  return validatePort(candidates[0], specifier);
}
