/**
 * `--resume FILE`: the journal a conformance run writes as its units finish,
 * so a run killed by SIGKILL (or a lost CI machine) loses only the units that
 * were running. JSON lines: a header naming the run (identity.ts), then one
 * UnitRecord per finished unit, in the order they finished. A resumed run
 * reads it, refuses one made by other code or options, skips the units it
 * holds and appends the rest. A torn last line (killed mid-write) is dropped
 * and named; its unit runs again.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { VERDICT_KINDS } from '@ptlab/conformance';
import { UsageError } from '@ptlab/core';
import { STRATEGIES } from '@ptlab/explore';
import { z } from 'zod';
import { type RunIdentity, requireSameRun } from './identity.js';
import type { PlannedUnit } from './plan.js';
import type { CellRecord, UnitRecord } from './report.js';

export const JOURNAL_FORMAT = 'ptlab-journal';
export const JOURNAL_VERSION = 1;

const nat = z.number().int().min(0);
const verdict = z.enum(VERDICT_KINDS as [string, ...string[]]);

/** A CellRecord as read back from a file (a journal, a shard report). */
export const cellRecordSchema = z.object({
  arch: z.string(),
  scenario: z.string(),
  mutant: z.string().nullable(),
  result: z.enum(['pass', 'fail', 'n/a']),
  verdict,
  bound: nat.optional(),
  reason: z.string().optional(),
  finding: z.object({ check: z.string(), message: z.string() }).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  schedules: nat,
  steps: nat,
  truncated: nat.optional(),
  phases: z
    .array(
      z.object({
        strategy: z.enum(STRATEGIES as [string, ...string[]]),
        preemptionBound: nat.optional(),
        executions: nat,
        complete: z.boolean(),
        split: z.object({ rounds: nat, tasks: nat }).optional(),
      }),
    )
    .optional(),
  elapsedMs: z.number().min(0),
  trace: z.string().optional(),
  story: z.string().optional(),
});

export const unitRecordSchema = z.object({
  unit: nat,
  key: z.string(),
  cells: z.array(cellRecordSchema),
});

/** A failing cell's trace file, kept in the journal so a resumed run can write it again. */
export interface JournalTrace {
  readonly path: string;
  readonly trace: unknown;
}

const journalLineSchema = unitRecordSchema.extend({
  traces: z.array(z.object({ path: z.string(), trace: z.unknown() })).optional(),
});

const optionsSchema = z.object({
  seed: nat,
  archs: z.array(z.string()),
  scenarios: z.array(z.string()),
  scenarioDirs: z.array(z.string()),
  archModules: z.array(z.object({ spec: z.string(), sha256: z.string() })),
  mutants: z.boolean(),
  allMutantCells: z.boolean(),
  splitAbove: nat,
  tracesDir: z.string(),
  cellTimeoutMs: nat,
  cellMemoryMb: nat,
  shard: z.string().nullable(),
});

export const runIdentitySchema = z.object({
  code: z.object({ cli: z.string(), sha256: z.string(), files: nat }),
  options: optionsSchema,
  plan: z.string(),
  units: nat,
});

const headerSchema = z.object({
  format: z.literal(JOURNAL_FORMAT),
  version: z.literal(JOURNAL_VERSION),
  run: runIdentitySchema,
});

/** zod's first issue as "at cells.0.verdict: ..." */
export function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.length ? `at ${i.path.join('.')}: ` : ''}${i.message}` : e.message;
}

/** A record whose cells are typed as the report builder reads them (the schema checked the shapes). */
export const asUnitRecord = (r: z.infer<typeof unitRecordSchema>): UnitRecord =>
  r as unknown as UnitRecord & { cells: CellRecord[] };

export interface OpenJournal {
  readonly file: string;
  /** Units read back from the journal, by plan index (those with an error cell are left out: they run again). */
  readonly done: ReadonlyMap<number, UnitRecord>;
  /** Units the journal held that had an error cell, and so run again. */
  readonly retried: number;
  /** The trace files of the units in `done`. */
  readonly traces: readonly JournalTrace[];
  /** What was wrong but tolerated, e.g. a torn last line. */
  readonly notes: readonly string[];
  /** Append one finished unit (one write and a sync, so a kill leaves whole lines). */
  append(r: UnitRecord, traces: readonly JournalTrace[]): void;
  close(): void;
}

const torn = (file: string, bytes: number, why: string) =>
  `journal ${file}: its last line is torn (${bytes} bytes, ${why}; the run was killed while writing it?); it is dropped and its unit runs again`;

/**
 * Open (or start) the journal of the run `identity`, whose units are `units`
 * (the plan's or the shard's, by plan index). Refuses (UsageError, exit 2) a
 * file that is not a journal, one made by another run, and one whose lines
 * other than the last are not valid records of this plan.
 */
export function openJournal(
  file: string,
  identity: RunIdentity,
  units: readonly PlannedUnit[],
): OpenJournal {
  const where = `journal ${file}`;
  const notes: string[] = [];
  const done = new Map<number, UnitRecord>();
  const errored = new Set<number>();
  const tracesOf = new Map<number, JournalTrace[]>();
  const io = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new UsageError(`cannot ${what} it: ${(e as Error).message}`, where);
    }
  };
  const text = existsSync(file) ? io('read', () => readFileSync(file, 'utf8')) : '';
  const header = `${JSON.stringify({ format: JOURNAL_FORMAT, version: JOURNAL_VERSION, run: identity })}\n`;
  /** Bytes of the file that are kept (whole, valid lines); the rest is cut before appending. */
  let keep = 0;
  let fresh = text.length === 0;
  if (!fresh) {
    const nl = text.indexOf('\n');
    const first = nl < 0 ? text : text.slice(0, nl);
    const start = `{"format":"${JOURNAL_FORMAT}"`;
    if (nl < 0 && (start.startsWith(first) || first.startsWith(start))) {
      // Killed while writing the header: nothing was journaled yet.
      notes.push(`journal ${file}: its header is torn (killed while starting?); it starts again`);
      fresh = true;
    } else {
      let h: unknown;
      try {
        h = JSON.parse(first);
      } catch {
        throw new UsageError(
          'it is not a ptlab journal (its first line is not JSON); not touching it',
          where,
        );
      }
      const hp = headerSchema.safeParse(h);
      if (!hp.success)
        throw new UsageError(
          `it is not a ${JOURNAL_FORMAT} v${JOURNAL_VERSION} (header ${firstIssue(hp.error)}); not touching it`,
          where,
        );
      requireSameRun(`journal ${file}`, hp.data.run as RunIdentity, identity, {
        there: 'in the journal',
        here: 'in this run',
      });
      keep = nl + 1;
      const byIndex = new Map(units.map((u) => [u.index, u]));
      const lines = text.slice(keep).split('\n');
      // split() leaves '' after a final newline; anything else last has no newline: torn.
      const last = lines.pop() as string;
      for (const [i, line] of lines.entries()) {
        const lineNo = i + 2;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          throw new UsageError(`line ${lineNo} is not JSON; the journal is damaged`, where);
        }
        const p = journalLineSchema.safeParse(v);
        if (!p.success)
          throw new UsageError(
            `line ${lineNo} is not a unit record (${firstIssue(p.error)}); the journal is damaged`,
            where,
          );
        const { traces, ...rest } = p.data;
        const r = asUnitRecord(rest);
        const u = byIndex.get(r.unit);
        if (!u || u.key !== r.key)
          throw new UsageError(
            `line ${lineNo} records unit ${r.unit} ${r.key}, which is not a unit of this run`,
            where,
          );
        if (done.has(r.unit))
          throw new UsageError(`line ${lineNo} records unit ${r.key} a second time`, where);
        // A unit that could not run (a child died, a module ran away) runs again;
        // its later record replaces it.
        if (r.cells.some((c) => c.error)) errored.add(r.unit);
        else {
          errored.delete(r.unit);
          done.set(r.unit, r);
          tracesOf.set(
            r.unit,
            (traces ?? []).map((t) => ({ path: t.path, trace: t.trace })),
          );
        }
        keep += Buffer.byteLength(line, 'utf8') + 1;
      }
      if (last !== '') {
        let why = 'no newline at its end';
        try {
          JSON.parse(last);
        } catch {
          why = 'not complete JSON';
        }
        notes.push(torn(file, Buffer.byteLength(last, 'utf8'), why));
      }
    }
  }
  const fd = io('write', () => openSync(file, fresh ? 'w' : 'r+'));
  io('write', () => {
    if (fresh) {
      writeSync(fd, header);
      fdatasyncSync(fd);
    } else ftruncateSync(fd, keep);
  });
  let pos = fresh ? Buffer.byteLength(header, 'utf8') : keep;
  return {
    file,
    done,
    retried: errored.size,
    traces: [...tracesOf.values()].flat(),
    notes,
    append(r, traces) {
      const line = traces.length ? { ...r, traces } : r;
      const b = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
      writeSync(fd, b, 0, b.length, pos);
      pos += b.length;
      fdatasyncSync(fd);
    },
    close() {
      closeSync(fd);
    },
  };
}
