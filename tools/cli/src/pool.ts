/**
 * Runs the matrix's cells: one child process per worker slot, each loading
 * one domain (ptlab's own ports, or one arch module). Results come back in
 * unit order whatever the worker count, so reports are deterministic.
 */
import { availableParallelism } from 'node:os';
import {
  BUILTIN_DOMAIN,
  Child,
  type Domain,
  type Failure,
  handleSignals,
  type Limits,
} from './child/process.js';
import {
  type CellOutcome,
  type CellProgress,
  type CellTask,
  errorOutcome,
  runCellJob,
} from './jobs.js';
import { BUILTIN_PORTS } from './registry.js';

export interface PoolOptions extends Limits {
  /** Child processes; 0 runs ptlab's own cells in this process (arch modules still get a child). */
  readonly workers: number;
  /** A line for stderr: a slow built-in cell, a module that ran away. */
  readonly notice: (s: string) => void;
  /** Children that already loaded a module (to describe it): used before starting new ones. */
  readonly warm?: readonly Child[];
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** A unit of work: one cell, or one mutant on one config (its scenarios in order, one cell at a time). */
export interface Unit {
  readonly domain: Domain;
  readonly cells: readonly CellTask[];
  /** Stop the unit after this cell (e.g. the mutant is killed). */
  readonly stopAfter?: (o: CellOutcome) => boolean;
  /** Units of this run that must finish before this one starts (what `shortcut` reads). */
  readonly dependsOn?: readonly Unit[];
  /** A cell's outcome known without running it (a mutant its clean search proved unreachable), or null. */
  readonly shortcut?: (t: CellTask) => CellOutcome | null;
}

export interface UnitsRun {
  /** Per unit, the cells it finished (all of them unless interrupted). */
  readonly results: CellOutcome[][];
  readonly finished: readonly boolean[];
  readonly interrupted: NodeJS.Signals | null;
}

export const cellName = (t: CellTask): string =>
  `cell ${t.configId} x ${t.scenario.id}${t.mutant ? ` with mutant ${t.mutant.id}` : ''}`;

const slowLine = (what: string, ms: number, p: CellProgress | null): string =>
  `slow: ${what} still running after ${(ms / 1000).toFixed(0)} s${p ? ` (${p.executions} executions, ${p.steps} steps, ${p.phase})` : ''}; the time limit stops arch modules only, so it goes on`;

/** A verdict from a child is only taken for the cell it was asked about. */
function checkOutcome(t: CellTask, v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'a verdict that is not an object';
  const o = v as Record<string, unknown>;
  if (o.arch !== t.configId || o.scenario !== t.scenario.id || o.mutant !== (t.mutant?.id ?? null))
    return `a verdict for ${String(o.arch)} x ${String(o.scenario)}, not for ${cellName(t)}`;
  if (typeof o.result !== 'string') return 'a verdict without a result';
  return null;
}

const failed = (t: CellTask, f: Failure): CellOutcome => errorOutcome(t, f.code, f.message);

export async function runUnits(
  units: readonly Unit[],
  o: PoolOptions,
  onDone: (r: readonly CellOutcome[], i: number) => void,
): Promise<UnitsRun> {
  const results: CellOutcome[][] = units.map(() => []);
  const finished = units.map(() => false);
  let interrupted: NodeJS.Signals | null = null;
  const children = new Set<Child>();
  /** Modules that ran away (all their remaining cells are cancelled) or cannot load. */
  const stopped = new Map<string, { code: string; message: string }>();
  const taken = units.map(() => false);
  const warm = [...(o.warm ?? [])];

  const onSignal = (sig: NodeJS.Signals) => {
    interrupted ??= sig;
    for (const c of children) c.interrupt();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const release = handleSignals();

  const index = new Map(units.map((u, i) => [u, i]));
  /** Units that ended without finishing (interrupted): nothing waits on them forever. */
  const stoppedEarly = units.map(() => false);
  // A dependency outside this run (done before a resume, or in another shard) does not hold it up.
  const ready = (u: Unit): boolean =>
    (u.dependsOn ?? []).every((d) => {
      const j = index.get(d);
      return j === undefined || finished[j] || stoppedEarly[j];
    });
  let wake: (() => void) | null = null;
  const unitEnded = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  /** Next unit to run: -1 when none is left, -2 when the rest wait on running units. */
  const pick = (current: Domain | null): number => {
    let first = -1;
    let waiting = false;
    for (const [i, u] of units.entries()) {
      if (taken[i]) continue;
      if (!ready(u)) {
        waiting = true;
        continue;
      }
      if (current && u.domain.key === current.key) return i;
      if (first < 0) first = i;
    }
    return first < 0 && waiting ? -2 : first;
  };

  interface Slot {
    child: Child | null;
  }
  const inProcess = (d: Domain) => o.workers === 0 && d.trusted;

  const runCell = async (slot: Slot, u: Unit, t: CellTask): Promise<CellOutcome | null> => {
    const what = cellName(t);
    const stop = stopped.get(u.domain.key);
    if (stop) return errorOutcome(t, stop.code, `not run: ${stop.message}`);
    if (inProcess(u.domain)) {
      // Let signals in between cells: an in-process cell holds this thread until it ends.
      await new Promise((r) => setImmediate(r));
      if (interrupted) return null;
      const t0 = performance.now();
      let next = o.cellTimeoutMs;
      return runCellJob(BUILTIN_PORTS, t, (p) => {
        const ms = performance.now() - t0;
        if (ms >= next) {
          next += o.cellTimeoutMs;
          o.notice(slowLine(what, ms, p));
        }
      });
    }
    if (!slot.child?.alive || slot.child.domain.key !== u.domain.key) {
      await slot.child?.finish();
      slot.child = null;
      const w = warm.findIndex((c) => c.alive && c.domain.key === u.domain.key);
      const started =
        w >= 0
          ? { ok: true as const, value: warm.splice(w, 1)[0] as Child }
          : await Child.start(u.domain, o);
      if (interrupted) return null;
      if (!started.ok) {
        if (started.failure.kind === 'interrupted') return null;
        if (!u.domain.trusted)
          stopped.set(u.domain.key, {
            code: started.failure.code,
            message: `it could not be loaded: ${started.failure.message}`,
          });
        return failed(t, started.failure);
      }
      slot.child = started.value;
      children.add(slot.child);
    }
    const child = slot.child;
    const r = await child.run<CellOutcome>({ kind: 'cell', task: t }, what, {
      onSlow: (ms, p) => o.notice(slowLine(what, ms, p)),
    });
    if (!r.ok) {
      children.delete(child);
      slot.child = null;
      if (r.failure.kind === 'interrupted') return null;
      if (r.failure.kind === 'timeout') {
        const m = `${u.domain.label} ran away in ${what} (no answer within ${o.cellTimeoutMs} ms)`;
        stopped.set(u.domain.key, { code: 'E_ARCH_TIMEOUT', message: m });
        o.notice(`${m}: its process was killed and its other cells are not run`);
      }
      return failed(t, r.failure);
    }
    const bad = checkOutcome(t, r.value);
    if (bad) {
      child.kill();
      children.delete(child);
      slot.child = null;
      return errorOutcome(
        t,
        'E_ARCH_MODULE',
        `${u.domain.label} sent ${bad}; its process was killed`,
      );
    }
    const v = r.value;
    // A module's own errors name the module.
    if (!u.domain.trusted && v.error)
      return {
        ...v,
        reason: `error: ${u.domain.label}: ${v.error.message}`,
        error: { ...v.error, message: `${u.domain.label}: ${v.error.message}` },
      };
    return v;
  };

  const runUnit = async (slot: Slot, i: number): Promise<void> => {
    const u = units[i] as Unit;
    try {
      for (const t of u.cells) {
        if (interrupted) return;
        const r = u.shortcut?.(t) ?? (await runCell(slot, u, t));
        if (!r) return;
        (results[i] as CellOutcome[]).push(r);
        if (r.error || u.stopAfter?.(r)) break;
      }
      if (interrupted) return;
      finished[i] = true;
      onDone(results[i] as CellOutcome[], i);
    } finally {
      if (!finished[i]) stoppedEarly[i] = true;
      unitEnded();
    }
  };

  const slotLoop = async (): Promise<void> => {
    const slot: Slot = { child: null };
    try {
      for (;;) {
        if (interrupted) return;
        const i = pick(slot.child?.domain ?? (o.workers === 0 ? BUILTIN_DOMAIN : null));
        if (i === -2) {
          // Everything left waits on units other slots are running: wait for one to end.
          await new Promise<void>((r) => {
            const prev = wake;
            wake = () => {
              prev?.();
              r();
            };
          });
          continue;
        }
        if (i < 0) return;
        taken[i] = true;
        await runUnit(slot, i);
        // Let signals and child messages in between cells run in this process.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await slot.child?.finish();
      if (slot.child) children.delete(slot.child);
    }
  };

  try {
    const n = Math.max(1, Math.min(o.workers, units.length));
    await Promise.all(Array.from({ length: n }, slotLoop));
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    release();
    await Promise.all([...children, ...warm].map((c) => (interrupted ? c.kill() : c.finish())));
  }
  return { results, finished, interrupted };
}
