/**
 * bench/baseline.json: the figures the bench compares itself with, each
 * measurement with the commit it was measured on and how. The engine's are
 * from the engine as issue 12 was filed (4cb38e0); the suite's from the
 * code the work on it started from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './section.js';
import { REPO } from './suite.js';

export const BASELINE_FILE = join(REPO, 'bench/baseline.json');

export interface BaselineMeasurement {
  readonly commit: string;
  readonly date: string;
  readonly how: string;
  readonly machine: string;
  readonly figures: Readonly<Record<string, Figure>>;
}

export interface Baseline {
  readonly about: string;
  readonly measurements: readonly BaselineMeasurement[];
}

export function readBaseline(file = BASELINE_FILE): Baseline | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Baseline;
}

export interface Change {
  readonly now: number;
  readonly was: number;
  /** now / then for a "higher is better" figure, then / now for "lower": above 1 is better. */
  readonly factor: number;
  readonly commit: string;
}

/** Each current figure against the baseline's (the last measurement that has it). */
export function changes(
  now: Readonly<Record<string, Figure>>,
  base: Baseline | null,
): Record<string, Change> {
  const out: Record<string, Change> = {};
  if (!base) return out;
  for (const [k, f] of Object.entries(now)) {
    const m = [...base.measurements].reverse().find((x) => x.figures[k]);
    const was = m?.figures[k]?.value;
    if (!m || !was || !f.value) continue;
    const factor = f.better === 'higher' ? f.value / was : was / f.value;
    out[k] = { now: f.value, was, factor, commit: m.commit };
  }
  return out;
}
