/**
 * A counterexample as the trace viewer draws it: the trace's schedule (and
 * the one the search found, if the trace keeps it) replayed with recording,
 * every step with its kernel-source link, CPU context, footprint and
 * page-table events, every page table under its one name. Runs wherever the
 * port runs (a child for arch modules); returns plain data.
 */
import { CHECKS, type CheckId } from '@ptlab/core';
import {
  type Choice,
  citations,
  citationText,
  kernelSourceUrl,
  type Program,
  StableNames,
  type StepRecord,
  stepFunction,
  type Trace,
  type World,
} from '@ptlab/explore';
import { replayOutcome, verdictLine } from '../replay-outcome.js';
import type { TraceView, ViewRun, ViewStep, ViewTable } from './view-schema.js';

export interface ViewInput {
  readonly trace: Trace;
  /** The trace file as named to the command, or the cell's name. */
  readonly file: string;
  readonly title: string;
  readonly kernel: string;
  readonly origin: string;
  readonly seed: string | undefined;
  /** A fresh program of the trace's arch, scenario and mutant (it boots anew for every run). */
  readonly program: Program;
}

type EventRef = { step: number; cpu: string; fn: string; what: string };

/** The tables of `world` whose page, at `step`, is `pfn`. */
function tablesAt(world: World, pfn: number, step: number): string[] {
  const life = world.pages.find(
    (l) => l.pfn === pfn && l.from <= step && (l.to === undefined || step < l.to),
  );
  return life ? [...life.tables] : [];
}

function viewStep(r: StepRecord, world: World, names: StableNames, kernel: string): ViewStep {
  const fn = stepFunction(r);
  const o = r.observed;
  return {
    n: r.n,
    task: r.task,
    cpu: r.cpu,
    stack: r.stack.map((f) => ({ fn: f, src: kernelSourceUrl(f, kernel) })),
    fn,
    src: fn ? kernelSourceUrl(fn, kernel) : null,
    what: names.text(r.what, r.n),
    notes: r.notes.map((n) => names.text(n, r.n)),
    ...(r.preempts ? { preempts: r.preempts } : {}),
    touches: (o?.touches ?? []).map((t) => {
      const tables =
        t.pfn === undefined ? [] : tablesAt(world, t.pfn, r.n).map((x) => names.table(x));
      return { obj: names.text(t.obj, r.n), write: t.write, ...(tables.length ? { tables } : {}) };
    }),
    cpus: { ...(o?.cpus ?? {}) } as ViewStep['cpus'],
    events: (o?.events ?? []).map((e) => ({
      table: names.table(e.table),
      kind: e.kind,
      detail: names.text(e.detail, r.n),
    })),
  };
}

/** The event that set the bug up: the finding's own cause, else the last write by another CPU to what the failing step touched. */
function firstRacer(
  steps: readonly ViewStep[],
  failing: ViewStep,
  related: readonly EventRef[],
): EventRef | null {
  const named = related[related.length - 1];
  if (named) return named;
  const objs = new Set(failing.touches.map((t) => t.obj));
  for (let i = steps.length - 2; i >= 0; i--) {
    const s = steps[i] as ViewStep;
    if (s.cpu === failing.cpu) continue;
    if (
      s.touches.some(
        (t) =>
          objs.has(t.obj) && (t.write || failing.touches.some((f) => f.obj === t.obj && f.write)),
      )
    )
      return { step: s.n, cpu: s.cpu, fn: s.fn ?? s.task, what: s.what };
  }
  return null;
}

function viewRun(label: ViewRun['label'], i: ViewInput, schedule: readonly Choice[]): ViewRun {
  const { outcome, execution: ex } = replayOutcome(i.program, schedule, i.trace.finding, false);
  const world = ex.world as World;
  const names = new StableNames(world);
  const steps = ex.records.map((r) => viewStep(r, world, names, i.kernel));
  const last = steps.length ? (steps[steps.length - 1] as ViewStep).n : -1;
  const tables: ViewTable[] = world.tables.map((t) => {
    const life = world.pages.find((l) => l.tables.includes(t.label));
    return {
      name: names.table(t.label),
      label: t.label,
      kind: t.kind,
      pfn: t.pfn,
      offset: t.offset,
      entries: t.entries,
      mm: t.mm,
      from: t.from,
      pageFrom: life?.from ?? t.from,
      ...(life?.to !== undefined ? { pageTo: life.to } : {}),
    };
  });
  const f = ex.finding;
  const related: EventRef[] = (f?.related ?? []).map((e) => ({
    ...e,
    what: names.text(e.what, e.step),
  }));
  const failing = f ? steps.find((s) => s.n === f.step) : undefined;
  return {
    label,
    outcome: verdictLine(outcome, i.trace, `replay of ${i.file}`),
    reproduced: outcome.kind === 'still-failing' && outcome.exact,
    cpus: world.cpus.map((c) => ({ ...c })),
    initial: { ...world.initial } as ViewRun['initial'],
    setup: world.setup.map((e) => ({
      table: names.table(e.table),
      kind: e.kind,
      detail: names.text(e.detail, -1),
    })),
    steps,
    tables,
    slots: world.slots.map((s) => ({
      pfn: s.pfn,
      name: names.pageTable(s.pfn, last) ?? `pfn ${s.pfn}`,
      allocated: s.allocated,
      owner: names.text(s.owner, last),
      flags: [...s.flags],
      refcount: s.refcount,
      lru: {
        holder: s.lru.holder,
        ...(s.lru.at
          ? { at: { step: s.lru.at.step, what: names.text(s.lru.at.what, s.lru.at.step) } }
          : {}),
      },
      index: {
        holder: s.index.holder,
        ...(s.index.at
          ? { at: { step: s.index.at.step, what: names.text(s.index.at.what, s.index.at.step) } }
          : {}),
      },
      ptl: s.ptl === null ? null : names.text(s.ptl, last),
      words: s.words.map((w) => ({ table: names.table(w.table), tags: [...w.tags] })),
    })),
    finding: f
      ? {
          check: f.check,
          message: names.text(f.message, f.step),
          step: f.step,
          cpu: f.cpu,
          fn: f.fn,
          related,
        }
      : null,
    racing:
      f && failing
        ? {
            first: firstRacer(steps, failing, related),
            second: {
              step: failing.n,
              cpu: failing.cpu,
              fn: failing.fn ?? failing.task,
              what: failing.what,
            },
          }
        : null,
  };
}

export function buildTraceView(i: ViewInput): TraceView {
  const runs = [viewRun('minimised', i, i.trace.schedule)];
  if (i.trace.found) runs.push(viewRun('found', i, i.trace.found));
  const check = i.trace.finding.check as CheckId;
  return {
    format: 'ptlab-view',
    version: 1,
    title: i.title,
    arch: i.trace.arch,
    kernel: i.kernel,
    scenario: i.trace.scenario,
    mutant: i.trace.mutant,
    origin: i.origin,
    trace: i.file,
    check: { id: check, description: CHECKS[check]?.description ?? '' },
    seed: { text: i.seed ? citationText(i.seed) : '', links: i.seed ? citations(i.seed) : [] },
    runs,
  };
}
