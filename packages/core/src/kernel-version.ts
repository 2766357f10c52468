import type { ArchConfig } from './arch-port.js';
import { ModelError } from './errors.js';

/** `vMAJOR.MINOR` (e.g. `v6.14`) as a comparable pair. */
function parseRelease(where: string, v: string): readonly [number, number] {
  const m = /^v(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new ModelError(where, `kernel release "${v}" is not of the form vMAJOR.MINOR`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * Whether `config` models kernel release `version` or later (ArchConfig
 * `kernel`), for paths whose code changed between releases (e.g. v6.14's
 * check_pmd_state() recheck in retract_page_tables()).
 */
export function kernelAtLeast(config: ArchConfig, version: string): boolean {
  const [a, b] = parseRelease(`config ${config.id}`, config.kernel);
  const [x, y] = parseRelease('kernelAtLeast()', version);
  return a > x || (a === x && b >= y);
}
