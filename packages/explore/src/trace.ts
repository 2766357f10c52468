import { createHash } from 'node:crypto';
import { CHECKS, type CheckId, hasInvisible, LIMITS, TraceError, visible } from '@ptlab/core';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import type { Choice } from './execution.js';
import { STRATEGIES, type StrategyName } from './explore.js';

export const TRACE_FORMAT = 'ptlab-trace';
/**
 * Bump when the meaning of a recorded schedule changes. 2: the digest is over
 * canonical JSON (RFC 8785), strategy and seed are checked, and the schedule
 * ends with its finding.
 */
export const TRACE_VERSION = 2;

/** Largest seed: the explorer's seeds are unsigned 32-bit (prng.ts). */
export const MAX_SEED = 0xffff_ffff;

/**
 * A counterexample on disk: which arch config, scenario and mutant; the
 * schedule as labelled decisions ("cpu1 gup_fast: read pmd"), so replay can
 * tell a model that changed from a schedule that still applies; the finding;
 * and a digest over all of it, so an edited file is refused by name.
 */
export interface Trace {
  readonly format: typeof TRACE_FORMAT;
  readonly version: number;
  readonly arch: string;
  /** Module the arch came from, when not one of ptlab's own packages. */
  readonly archModule?: string | undefined;
  readonly scenario: string;
  readonly mutant: string | null;
  /** Kernel patches switched on besides the mutant (known findings' fixes), if any. */
  readonly patches?: readonly string[] | undefined;
  readonly strategy: StrategyName;
  readonly seed: number;
  readonly schedule: readonly Choice[];
  /** The schedule as the search found it, before minimisation (the trace viewer shows both). */
  readonly found?: readonly Choice[] | undefined;
  readonly finding: { readonly check: CheckId; readonly message: string; readonly step: number };
  readonly digest: string;
}

const checkIds = Object.keys(CHECKS) as [CheckId, ...CheckId[]];
const strategies = STRATEGIES as readonly StrategyName[] as [StrategyName, ...StrategyName[]];

/** A name that shows in stories and commands: no invisible characters. */
const name = z
  .string()
  .min(1)
  .max(LIMITS.nameLength)
  .refine((s) => !hasInvisible(s), 'contains invisible characters');
const id = name.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'ids are lower-case words joined by -');

/** The trace file format (what parseTrace() accepts before its digest and schedule checks). */
export const traceSchema = z.strictObject({
  format: z.literal(TRACE_FORMAT),
  version: z.number().int(),
  arch: id,
  archModule: z.string().min(1).optional(),
  scenario: id,
  mutant: name.nullable(),
  patches: z
    .array(name)
    .max(LIMITS.patches, `at most ${LIMITS.patches} patches (LIMITS.patches)`)
    .optional(),
  strategy: z.enum(strategies),
  seed: z.number().int().min(0).max(MAX_SEED),
  schedule: z
    .array(z.strictObject({ task: name, at: z.string() }))
    .max(LIMITS.traceSteps, `at most ${LIMITS.traceSteps} steps (LIMITS.traceSteps)`),
  found: z
    .array(z.strictObject({ task: name, at: z.string() }))
    .max(LIMITS.traceSteps, `at most ${LIMITS.traceSteps} steps (LIMITS.traceSteps)`)
    .optional(),
  finding: z.strictObject({
    check: z.enum(checkIds),
    message: z.string(),
    step: z.number().int().nonnegative(),
  }),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});

/** SHA-256 of the trace's canonical JSON (RFC 8785 JCS), without its digest: key order and layout do not count. */
function digestOf(t: object): string {
  const { digest: _d, ...rest } = t as { digest?: unknown };
  const body = canonicalize(rest);
  if (body === undefined) throw new Error('a trace is an object');
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

export function makeTrace(t: Omit<Trace, 'digest' | 'format' | 'version'>): Trace {
  const base = { format: TRACE_FORMAT, version: TRACE_VERSION, ...t } as const;
  return { ...base, digest: digestOf(base) };
}

function invalid(message: string): TraceError {
  return new TraceError('E_TRACE_INVALID', visible(message));
}

/**
 * A schedule and its finding agree: the check fires during the last recorded
 * step (finding.step is that step's index), or once every step has run (a
 * deadlock, a leak at teardown: finding.step is the number of steps).
 */
function checkEnds(t: Trace, source: string): void {
  const n = t.schedule.length;
  const m = t.finding.step;
  if (n > m + 1)
    throw new TraceError(
      'E_TRACE_INVALID',
      visible(`${source}: trace has ${n - m - 1} steps after its finding at step ${m}`),
    );
  if (n < m)
    throw new TraceError(
      'E_TRACE_INVALID',
      visible(`${source}: the schedule ends after ${n} steps, before its finding at step ${m}`),
    );
}

/** Parse and validate a trace file's text; every refusal names what is wrong. */
export function parseTrace(text: string, source: string): Trace {
  if (text.length > LIMITS.traceChars)
    throw invalid(
      `${source}: ${text.length} characters, more than a trace may have (${LIMITS.traceChars}, LIMITS.traceChars)`,
    );
  let raw: unknown;
  try {
    // A leading byte order mark is not part of the JSON.
    raw = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (e) {
    throw invalid(`${source} is not JSON: ${(e as Error).message}`);
  }
  if (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { format?: unknown }).format !== TRACE_FORMAT
  ) {
    throw invalid(
      `${source} is not a ptlab trace (format is ${JSON.stringify((raw as { format?: unknown }).format)}, expected "${TRACE_FORMAT}")`,
    );
  }
  const r = traceSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(top level)';
    throw invalid(`${source}: field ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const t = r.data as Trace;
  if (t.version !== TRACE_VERSION) {
    throw invalid(
      `${source}: trace version ${t.version}, this ptlab reads version ${TRACE_VERSION}`,
    );
  }
  // Digest what was written (all its keys), canonicalised: zod's output is not what was signed.
  let digest: string;
  try {
    digest = digestOf(raw as object);
  } catch (e) {
    throw invalid(`${source}: cannot be put in canonical JSON: ${(e as Error).message}`);
  }
  if (digest !== t.digest) {
    throw invalid(
      `${source}: digest does not match the content: the file was edited after ptlab wrote it`,
    );
  }
  checkEnds(t, source);
  return t;
}
