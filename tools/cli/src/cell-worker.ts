import { type Mutant, runCell, type ValidScenario } from '@ptlab/conformance';
import { PtlabError } from '@ptlab/core';
import { type PortRef, portFromRef } from './registry.js';

/** One cell of the matrix, as sent to a worker thread (plain data only). */
export interface CellTask {
  readonly ref: PortRef;
  readonly configId: string;
  readonly scenario: ValidScenario;
  readonly mutant: Mutant | null;
  readonly seed: number;
}

export type CellOutcome = Awaited<ReturnType<typeof runCell>> & {
  readonly error?: { code: string; message: string };
};

/** Run one cell; an arch that throws or returns nonsense becomes a failed cell that says so. */
export async function runCellTask(t: CellTask): Promise<CellOutcome> {
  try {
    const port = await portFromRef(t.ref);
    const config = port.configs.find((c) => c.id === t.configId);
    if (!config) throw new Error(`config ${t.configId} vanished from ${port.arch}`);
    return runCell({
      port,
      config,
      scenario: t.scenario,
      mutant: t.mutant,
      seed: t.seed,
      ...('module' in t.ref ? { archModule: t.ref.module } : {}),
    });
  } catch (e) {
    const code = e instanceof PtlabError ? e.code : 'E_INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    return {
      arch: t.configId,
      scenario: t.scenario.id,
      mutant: t.mutant?.id ?? null,
      result: 'fail',
      reason: `error: ${message}`,
      schedules: 0,
      steps: 0,
      elapsedMs: 0,
      error: { code, message },
    };
  }
}

/** A mutant on one config: scenarios in order, stopping at the first that kills it unless `all`. */
export interface MutantGroupTask {
  readonly ref: PortRef;
  readonly configId: string;
  readonly scenarios: readonly ValidScenario[];
  readonly mutant: Mutant;
  readonly seed: number;
  readonly all: boolean;
}

export async function runMutantGroup(g: MutantGroupTask): Promise<CellOutcome[]> {
  const out: CellOutcome[] = [];
  for (const scenario of g.scenarios) {
    const r = await runCellTask({
      ref: g.ref,
      configId: g.configId,
      scenario,
      mutant: g.mutant,
      seed: g.seed,
    });
    out.push(r);
    if (r.error) break;
    if (!g.all && g.mutant.expect === 'caught' && r.result === 'fail') break;
  }
  return out;
}

export default runCellTask;
