import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArchModuleError, type ArchPort } from '@ptlab/core';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object'
    ? `an object with keys ${Object.keys(v as object).join(', ') || '(none)'}`
    : `a ${typeof v}`;
}

/** Check that a value is an ArchPort; say precisely what is missing when it is not. */
export function validatePort(v: unknown, where: string): ArchPort {
  if (typeof v !== 'object' || v === null)
    throw new ArchModuleError(where, `expected an ArchPort, got ${describe(v)}`);
  const p = v as Partial<ArchPort>;
  if (typeof p.arch !== 'string' || !p.arch)
    throw new ArchModuleError(where, 'ArchPort.arch must be a non-empty string');
  if (!Array.isArray(p.configs) || p.configs.length === 0)
    throw new ArchModuleError(where, `ArchPort ${p.arch}: configs must be a non-empty array`);
  if (typeof p.create !== 'function')
    throw new ArchModuleError(
      where,
      `ArchPort ${p.arch}: create(config, variant?) must be a function`,
    );
  if (!Array.isArray(p.variants))
    throw new ArchModuleError(
      where,
      `ArchPort ${p.arch}: variants must be an array (empty if none)`,
    );
  const ids = new Set<string>();
  for (const [i, c] of p.configs.entries()) {
    if (typeof c !== 'object' || c === null || typeof c.id !== 'string')
      throw new ArchModuleError(where, `ArchPort ${p.arch}: configs[${i}] has no string id`);
    if (ids.has(c.id))
      throw new ArchModuleError(where, `ArchPort ${p.arch}: config id ${c.id} appears twice`);
    ids.add(c.id);
    for (const k of [
      'PAGE_SIZE',
      'PTRS_PER_PTE',
      'PTRS_PER_PMD',
      'pteSize',
      'tablesPerPage',
      'levels',
    ] as const) {
      const n = c[k];
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
        throw new ArchModuleError(
          where,
          `config ${c.id}: ${k} must be a positive integer, got ${String(n)}`,
        );
    }
    if (c.PTRS_PER_PTE * c.pteSize * c.tablesPerPage > c.PAGE_SIZE) {
      throw new ArchModuleError(
        where,
        `config ${c.id}: ${c.tablesPerPage} table(s) of ${c.PTRS_PER_PTE} x ${c.pteSize}-byte entries do not fit a ${c.PAGE_SIZE}-byte page`,
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
