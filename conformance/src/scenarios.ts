import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS, ScenarioError, UsageError, visible } from '@ptlab/core';
import { parseScenario, type ValidScenario } from './scenario-schema.js';

/** Where the suite's own scenario files live (next to src/ and dist/ alike). */
export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');
/** The generated ones (tools/gen-scenarios, `pnpm gen:scenarios`), part of the suite too. */
export const GENERATED_SCENARIO_DIR = join(SCENARIO_DIR, 'generated');
/** Every directory of the suite's own scenarios: the hand-written ones, then the generated. */
export const SUITE_SCENARIO_DIRS: readonly string[] = [SCENARIO_DIR, GENERATED_SCENARIO_DIR];

function refusal(where: string, message: string, cause?: unknown): ScenarioError {
  return new ScenarioError(visible(where), visible(message), cause === undefined ? {} : { cause });
}

/** The file's text: at most LIMITS.scenarioFileBytes of UTF-8; a leading byte order mark is dropped. */
function readScenarioText(path: string): string {
  let bytes: Buffer;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw refusal(path, 'not a regular file');
    if (st.size > LIMITS.scenarioFileBytes)
      throw refusal(
        path,
        `${st.size} bytes, more than a scenario file may have (${LIMITS.scenarioFileBytes}, LIMITS.scenarioFileBytes)`,
      );
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw refusal(path, `cannot read scenario file: ${(e as Error).message}`, e);
  }
  try {
    // TextDecoder drops one leading BOM (U+FEFF); `fatal` refuses bytes that are not UTF-8.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw refusal(path, 'not UTF-8 text (save it as UTF-8)', e);
  }
}

/** One file: the scenario, or why not, and its id where one could be read. */
function loadOne(path: string): { scenario?: ValidScenario; error?: ScenarioError; id?: string } {
  let raw: unknown;
  try {
    const text = readScenarioText(path);
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw refusal(path, `not JSON: ${(e as Error).message}`, e);
    }
    return { scenario: parseScenario(raw, path) };
  } catch (e) {
    const error =
      e instanceof ScenarioError
        ? e
        : refusal(path, `cannot be loaded: ${e instanceof Error ? e.message : String(e)}`, e);
    const id = (raw as { id?: unknown } | null)?.id;
    return { error, ...(typeof id === 'string' ? { id } : {}) };
  }
}

/** Load and validate one scenario file. */
export function loadScenarioFile(path: string): ValidScenario {
  const r = loadOne(path);
  if (!r.scenario) throw r.error;
  return r.scenario;
}

/** What loadScenarios() found: the scenarios that loaded and, for every file that did not, why. */
export interface ScenarioLoad {
  /** In directory order, then file-name order. */
  readonly scenarios: ValidScenario[];
  /** One per file (or directory) that did not load, naming it and the field; the rest still load. */
  readonly errors: ScenarioError[];
  /** The ids of files that did not load, where the id could be read: "unknown scenario" can say why. */
  readonly refusedIds: ReadonlyMap<string, readonly ScenarioError[]>;
}

/**
 * Every scenario in `dirs` (`*.json`, in file-name order; one directory or
 * several, as --scenario-dir gives them). A bad file is reported and the
 * others still load. Scenario ids are unique across all the directories:
 * files that share one are all refused, each naming the others.
 */
export function loadScenarios(
  dirs: string | readonly string[] = SUITE_SCENARIO_DIRS,
): ScenarioLoad {
  const errors: ScenarioError[] = [];
  const refusedIds = new Map<string, ScenarioError[]>();
  const refuse = (e: ScenarioError, id?: string) => {
    errors.push(e);
    if (id !== undefined) refusedIds.set(id, [...(refusedIds.get(id) ?? []), e]);
  };
  const loaded: { path: string; scenario: ValidScenario }[] = [];
  const seenDirs = new Set<string>();
  for (const dir of typeof dirs === 'string' ? [dirs] : dirs) {
    const abs = resolve(dir);
    if (seenDirs.has(abs)) continue;
    seenDirs.add(abs);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      refuse(refusal(dir, `cannot read scenario directory: ${(e as Error).message}`, e));
      continue;
    }
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      const path = join(dir, n);
      const r = loadOne(path);
      if (r.scenario) loaded.push({ path, scenario: r.scenario });
      else if (r.error) refuse(r.error, r.id);
    }
  }
  const byId = new Map<string, string[]>();
  for (const l of loaded) byId.set(l.scenario.id, [...(byId.get(l.scenario.id) ?? []), l.path]);
  const scenarios: ValidScenario[] = [];
  for (const l of loaded) {
    const paths = byId.get(l.scenario.id) ?? [];
    if (paths.length === 1) {
      scenarios.push(l.scenario);
      continue;
    }
    refuse(
      refusal(
        l.path,
        `id: scenario id "${l.scenario.id}" is used by ${paths.length} files (${paths.join(', ')}); ids must be unique, so none of them is loaded`,
      ),
      l.scenario.id,
    );
  }
  return { scenarios, errors, refusedIds };
}

/**
 * Scenario `id` of a load; otherwise a refusal that says why: the file with
 * that id did not load (its errors), or no file has it (the known ids, and
 * the files that did not load).
 */
export function scenarioById(load: ScenarioLoad, id: string): ValidScenario {
  const s = load.scenarios.find((x) => x.id === id);
  if (s) return s;
  const refused = load.refusedIds.get(id);
  if (refused)
    throw new ScenarioError(
      'scenarios',
      visible(`scenario "${id}" did not load: ${refused.map((e) => e.message).join('; ')}`),
    );
  const known = load.scenarios.map((x) => x.id).join(', ') || 'none';
  const failed = load.errors.length
    ? `; ${load.errors.length} scenario file(s) did not load: ${load.errors.map((e) => e.message).join('; ')}`
    : '';
  throw new UsageError(visible(`unknown scenario "${id}" (known: ${known})${failed}`));
}
