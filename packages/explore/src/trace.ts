import { createHash } from 'node:crypto';
import { CHECKS, type CheckId, TraceError } from '@ptlab/core';
import { z } from 'zod';
import type { Choice } from './execution.js';

export const TRACE_FORMAT = 'ptlab-trace';
/** Bump when the meaning of a recorded schedule changes. */
export const TRACE_VERSION = 1;

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
  readonly strategy: string;
  readonly seed: number;
  readonly schedule: readonly Choice[];
  readonly finding: { readonly check: CheckId; readonly message: string; readonly step: number };
  readonly digest: string;
}

const checkIds = Object.keys(CHECKS) as [CheckId, ...CheckId[]];

const traceSchema = z.strictObject({
  format: z.literal(TRACE_FORMAT),
  version: z.number().int(),
  arch: z.string().min(1),
  archModule: z.string().optional(),
  scenario: z.string().min(1),
  mutant: z.string().nullable(),
  strategy: z.string(),
  seed: z.number().int(),
  schedule: z.array(z.strictObject({ task: z.string().min(1), at: z.string() })),
  finding: z.strictObject({
    check: z.enum(checkIds),
    message: z.string(),
    step: z.number().int().nonnegative(),
  }),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});

function digestOf(t: Omit<Trace, 'digest'>): string {
  const body = JSON.stringify({ ...t, digest: undefined });
  return createHash('sha256').update(body).digest('hex');
}

export function makeTrace(t: Omit<Trace, 'digest' | 'format' | 'version'>): Trace {
  const base = { format: TRACE_FORMAT, version: TRACE_VERSION, ...t } as const;
  return { ...base, digest: digestOf(base) };
}

/** Parse and validate a trace file's text; every refusal names what is wrong. */
export function parseTrace(text: string, source: string): Trace {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TraceError('E_TRACE_INVALID', `${source} is not JSON: ${(e as Error).message}`);
  }
  if (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { format?: unknown }).format !== TRACE_FORMAT
  ) {
    throw new TraceError(
      'E_TRACE_INVALID',
      `${source} is not a ptlab trace (format is ${JSON.stringify((raw as { format?: unknown }).format)}, expected "${TRACE_FORMAT}")`,
    );
  }
  const r = traceSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(top level)';
    throw new TraceError(
      'E_TRACE_INVALID',
      `${source}: field ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const t = r.data as Trace;
  if (t.version !== TRACE_VERSION) {
    throw new TraceError(
      'E_TRACE_INVALID',
      `${source}: trace version ${t.version}, this ptlab reads version ${TRACE_VERSION}`,
    );
  }
  // Digest the object as written (its key order), not zod's output, which lists keys in schema order.
  const { digest, ...rest } = raw as Trace;
  if (digestOf(rest) !== digest) {
    throw new TraceError(
      'E_TRACE_INVALID',
      `${source}: digest does not match the content: the file was edited after ptlab wrote it`,
    );
  }
  return t;
}
