import { readFileSync } from 'node:fs';
import { KERNEL_FINDINGS, type ScenarioLoad } from '@ptlab/conformance';
import { ArchModuleError, PtlabError, TraceError, UsageError } from '@ptlab/core';
import { parseTrace, type Trace } from '@ptlab/explore';
import type { Child } from '../child/process.js';
import { type ReplayJob, type ReplayRun, runReplayJob } from '../jobs.js';
import { BUILTIN_PORTS, findConfig, type LoadedPort, portOrigin } from '../registry.js';
import { ReplayRunSchema, reclassify, replayExitCode, verdictLine } from '../replay-outcome.js';
import { resolveArchModule } from '../resolve-module.js';
import { findMutant, findScenario } from './check.js';

/** The module a trace asks for, if it resolves here (resolving reads files, it runs nothing). */
function traceModuleEntry(spec: string): string | null {
  try {
    return resolveArchModule(spec).entry;
  } catch {
    return null;
  }
}

export interface ReplayOptions {
  /** A diverged replay goes on with the default scheduler. */
  readonly continue: boolean;
  /** Replay on this mutant instead of the trace's (`none`: no mutant). */
  readonly mutant?: string | undefined;
}

/** A replay done: what the trace said, what the code did, and where it ran. */
export interface ReplayDone {
  readonly trace: Trace;
  readonly run: ReplayRun;
  /** `replay of FILE on CONFIG from ORIGIN`, and what replaced the trace's mutant. */
  readonly where: string;
}

/**
 * Parse a trace and run its schedule on the code as it is now: ptlab's own
 * ports in this process, a module (only the one the user names, never one
 * the trace names by itself) in a child process. `view`: also draw it for
 * the trace viewer. Throws (exit 2) for anything that is not a valid trace.
 */
export async function executeReplay(
  file: string,
  builtins: readonly LoadedPort[],
  scenarios: ScenarioLoad,
  open: (spec: string) => Promise<{ port: LoadedPort; child: Child }>,
  archModules: readonly string[],
  o: ReplayOptions & { readonly view?: boolean },
): Promise<ReplayDone> {
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
    const origin = portOrigin(port.ref);
    const scenario = findScenario(scenarios, trace.scenario);
    // --mutant replays the same schedule on other code: another mutant, or none (the fixed model).
    const wanted = o.mutant === undefined ? trace.mutant : o.mutant === 'none' ? null : o.mutant;
    const mutant = wanted ? findMutant(ports, wanted) : null;
    const mutantNote =
      wanted === trace.mutant
        ? ''
        : ` (${mutant ? `mutant ${mutant.id}` : 'no mutant'} instead of the trace's ${trace.mutant ? `mutant ${trace.mutant}` : 'mainline model'})`;
    const fixes = KERNEL_FINDINGS.map((f) => f.fix.variant);
    for (const p of trace.patches ?? [])
      if (!fixes.includes(p))
        throw new TraceError(
          'E_TRACE_MISMATCH',
          `${file} was recorded with kernel patch "${p}", which is no known finding's fix here (known: ${fixes.join(', ') || 'none'})`,
        );
    const job: ReplayJob = {
      configId: config.id,
      scenario,
      mutant,
      schedule: trace.schedule,
      finding: trace.finding,
      ...(trace.patches ? { patches: trace.patches } : {}),
      title: `replay of ${file}: ${scenario.id} on ${config.id} from ${origin}${mutant ? ` with mutant ${mutant.id}` : ''}${mutantNote}`,
      continue: o.continue,
      ...(o.view ? { view: { trace, file, origin } } : {}),
    };
    let ex: ReplayRun;
    if (child) {
      const r = await child.run<ReplayRun>({ kind: 'replay', job }, `replay of ${file}`);
      if (!r.ok) throw new ArchModuleError('ptlab', r.failure.message);
      if (!ReplayRunSchema.safeParse(r.value).success)
        throw new ArchModuleError(
          'ptlab',
          `${child.domain.label} sent a replay result that is not one`,
        );
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
    // The verdict is believed on the finding the run returned, compared here with the trace.
    return {
      trace,
      run: { ...ex, outcome: reclassify(ex.outcome, trace) },
      where: `replay of ${file} on ${config.id} from ${origin}${mutantNote}`,
    };
  } finally {
    child?.kill();
  }
}

/**
 * `ptlab replay`: re-execute a trace on the code as it is now and say what
 * the recorded schedule does: the same finding (exit 1), another check
 * (exit 1), no finding (exit 0: the fix works), or a different path from
 * some step on (exit 3; with --continue, 1 if a check then fires). A file
 * that is not a valid trace is refused by name (exit 2). A trace recorded on
 * an arch module is replayed only on the module the user names with
 * --arch-module, and only in a child process; a trace never picks the code
 * that runs.
 */
export async function runReplay(
  file: string,
  builtins: readonly LoadedPort[],
  scenarios: ScenarioLoad,
  out: (s: string) => void,
  open: (spec: string) => Promise<{ port: LoadedPort; child: Child }>,
  archModules: readonly string[],
  o: ReplayOptions = { continue: false },
): Promise<number> {
  const d = await executeReplay(file, builtins, scenarios, open, archModules, o);
  out(verdictLine(d.run.outcome, d.trace, d.where));
  out('');
  out(d.run.story);
  return replayExitCode(d.run.outcome);
}
