import { readFileSync } from 'node:fs';
import { KERNEL_FINDINGS, type ScenarioLoad } from '@ptlab/conformance';
import { ArchModuleError, PtlabError, TraceError, UsageError } from '@ptlab/core';
import { parseTrace } from '@ptlab/explore';
import type { Child } from '../child/process.js';
import { type ReplayRun, runReplayJob } from '../jobs.js';
import { BUILTIN_PORTS, findConfig, type LoadedPort } from '../registry.js';
import { moduleOrigin, resolveArchModule } from '../resolve-module.js';
import { findMutant, findScenario } from './check.js';

/** The module a trace asks for, if it resolves here (resolving reads files, it runs nothing). */
function traceModuleEntry(spec: string): string | null {
  try {
    return resolveArchModule(spec).entry;
  } catch {
    return null;
  }
}

/**
 * `ptlab replay`: re-execute a trace exactly and report the same finding
 * (exit 1), or why it cannot (exit 2). A trace recorded on an arch module is
 * replayed only on the module the user names with --arch-module, and only in
 * a child process; a trace never picks the code that runs.
 */
export async function runReplay(
  file: string,
  builtins: readonly LoadedPort[],
  scenarios: ScenarioLoad,
  out: (s: string) => void,
  open: (spec: string) => Promise<{ port: LoadedPort; child: Child }>,
  archModules: readonly string[],
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const trace = parseTrace(text, file);
  let ports: readonly LoadedPort[] = builtins;
  let child: Child | null = null;
  if (trace.archModule !== undefined) {
    const wanted = traceModuleEntry(trace.archModule);
    const given = archModules.map((s) => ({ s, entry: resolveArchModule(s).entry }));
    const match = given.find((g) => g.entry === wanted || g.s === trace.archModule);
    if (!match)
      throw new UsageError(
        `${file} was recorded on arch module ${trace.archModule}; replay runs no code you did not name: pass --arch-module ${trace.archModule} (the same module) to replay it${given.length ? ` (you gave ${given.map((g) => g.entry).join(', ')})` : ''}`,
      );
    const m = await open(match.s);
    ports = [m.port];
    child = m.child;
  } else if (archModules.length) {
    throw new UsageError(
      `${file} was recorded on ptlab's built-in ports, not on an arch module; replay it without --arch-module`,
    );
  }
  try {
    const { port, config } = findConfig(ports, trace.arch);
    const origin =
      'module' in port.ref
        ? moduleOrigin(port.ref.module)
        : `built-in @ptlab/arch-${port.ref.builtin}`;
    const scenario = findScenario(scenarios, trace.scenario);
    const mutant = trace.mutant ? findMutant(ports, trace.mutant) : null;
    const fixes = KERNEL_FINDINGS.map((f) => f.fix.variant);
    for (const p of trace.patches ?? [])
      if (!fixes.includes(p))
        throw new TraceError(
          'E_TRACE_MISMATCH',
          `${file} was recorded with kernel patch "${p}", which is no known finding's fix here (known: ${fixes.join(', ') || 'none'})`,
        );
    const job = {
      configId: config.id,
      scenario,
      mutant,
      trace,
      source: file,
      ...(trace.patches ? { patches: trace.patches } : {}),
      title: `replay of ${file}: ${scenario.id} on ${config.id} from ${origin}${mutant ? ` with mutant ${mutant.id}` : ''}: same finding reproduced`,
    };
    let ex: ReplayRun;
    if (child) {
      const r = await child.run<ReplayRun>({ kind: 'replay', job }, `replay of ${file}`);
      if (!r.ok) throw new ArchModuleError('ptlab', r.failure.message);
      ex = r.value;
    } else {
      try {
        ex = runReplayJob(BUILTIN_PORTS, job);
      } catch (e) {
        if (!(e instanceof PtlabError)) throw e;
        throw new TraceError(
          e.code === 'E_TRACE_INVALID' ? 'E_TRACE_INVALID' : 'E_TRACE_MISMATCH',
          `replay of ${file} on ${config.id} from ${origin}: ${e.message.replace(/^\[[^\]]*\] /, '')}`,
        );
      }
    }
    if (ex.mismatch !== null)
      throw new TraceError(
        'E_TRACE_MISMATCH',
        `replay of ${file} on ${config.id} from ${origin}: ${String(ex.mismatch).replace(/^\[[^\]]*\] /, '')}`,
      );
    // A reproduction is believed on the data the run returned, compared here with the trace.
    const f = ex.finding;
    const want = trace.finding;
    if (!f || f.check !== want.check || f.step !== want.step || f.message !== want.message)
      throw new TraceError(
        'E_TRACE_MISMATCH',
        `replay of ${file} on ${config.id} from ${origin} was reported reproduced, but the run ended with ${f ? `${f.check} at step ${f.step} ("${f.message}")` : 'no finding'}; the trace says ${want.check} at step ${want.step} ("${want.message}")`,
      );
    out(String(ex.story));
    return 1;
  } finally {
    child?.kill();
  }
}
