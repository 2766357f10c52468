import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScenarioError } from '@ptlab/core';
import { parseScenario, type ValidScenario } from './scenario-schema.js';

/** Where the suite's own scenario files live (next to src/ and dist/ alike). */
export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

/** Load and validate one scenario file. */
export function loadScenarioFile(path: string): ValidScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError(path, `cannot read scenario file: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(path, `not JSON: ${(e as Error).message}`);
  }
  return parseScenario(raw, path);
}

/** Every scenario in `dir`, in file-name order; a bad file is reported, the others still load. */
export function loadScenarios(dir = SCENARIO_DIR): {
  scenarios: ValidScenario[];
  errors: ScenarioError[];
} {
  const scenarios: ValidScenario[] = [];
  const errors: ScenarioError[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    try {
      scenarios.push(loadScenarioFile(join(dir, f)));
    } catch (e) {
      if (e instanceof ScenarioError) errors.push(e);
      else throw e;
    }
  }
  return { scenarios, errors };
}
