import { readFileSync } from 'node:fs';
import { guardedCreate, scenarioProgram, type ValidScenario } from '@ptlab/conformance';
import { TraceError, UsageError } from '@ptlab/core';
import { parseTrace, renderStory, replaySchedule } from '@ptlab/explore';
import { findConfig, type LoadedPort, resolvePorts } from '../registry.js';
import { findMutant, findScenario } from './check.js';

/** `ptlab replay`: re-execute a trace exactly and report the same finding (exit 1), or why it cannot (exit 2). */
export async function runReplay(
  file: string,
  builtins: readonly LoadedPort[],
  scenarios: readonly ValidScenario[],
  out: (s: string) => void,
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const trace = parseTrace(text, file);
  const ports = trace.archModule ? await resolvePorts([trace.archModule]) : builtins;
  const { port, config } = findConfig(ports, trace.arch);
  const scenario = findScenario(scenarios, trace.scenario);
  const mutant = trace.mutant ? findMutant(ports, trace.mutant) : null;
  const program = scenarioProgram(scenario, {
    arch: guardedCreate(port.port, config, mutant?.layer === 'arch' ? mutant.id : undefined),
    variants: mutant?.layer === 'mm' ? [mutant.id] : [],
  });
  const ex = replaySchedule(program, trace.schedule);
  const f = ex.finding;
  if (!f)
    throw new TraceError(
      'E_TRACE_MISMATCH',
      `replay of ${file} ran all ${trace.schedule.length} steps but no check fired (the trace says ${trace.finding.check} at step ${trace.finding.step})`,
    );
  if (
    f.check !== trace.finding.check ||
    f.step !== trace.finding.step ||
    f.message !== trace.finding.message
  ) {
    throw new TraceError(
      'E_TRACE_MISMATCH',
      `replay of ${file} found ${f.check} at step ${f.step} ("${f.message}"), but the trace says ${trace.finding.check} at step ${trace.finding.step} ("${trace.finding.message}")`,
    );
  }
  out(
    renderStory(ex.records, f, {
      title: `replay of ${file}: ${scenario.id} on ${config.id}${mutant ? ` with mutant ${mutant.id}` : ''}: same finding reproduced`,
      seedRef: mutant?.seed ?? scenario.seed,
    }),
  );
  return 1;
}
