/**
 * The shapes of what the CLI writes for other tools to read: the conformance
 * report (`--json FILE`), `list --json` and `check --json`. The zod schemas
 * are the definition: the CLI builds its outputs as these types and checks
 * them before writing, and `pnpm --filter @ptlab/cli schemas` turns them into
 * the JSON Schema files shipped in `schemas/` (a test keeps those in step).
 */
import { CHECKS, type CheckId } from '@ptlab/core';
import { traceSchema } from '@ptlab/explore';
import { z } from 'zod';

const checkIds = Object.keys(CHECKS) as [CheckId, ...CheckId[]];
const int = z.number().int().nonnegative();
const check = z.enum(checkIds).describe('a check id (ptlab list)');

/** Cell verdict kinds (docs/model.md, "Verdicts"). */
export const VerdictSchema = z
  .enum(['verified', 'verified-bounded', 'sampled', 'fail', 'error', 'n/a'])
  .describe(
    'verified: every interleaving up to equivalence; verified-bounded: within `bound` preemptions; sampled: no proof; fail: a check fired; error: the cell could not run; n/a: the scenario does not apply',
  );

const strategy = z.enum(['random', 'pct', 'exhaustive']);

export const CellSchema = z.strictObject({
  arch: z.string().describe('arch config id'),
  scenario: z.string(),
  result: z.enum(['pass', 'fail', 'n/a']),
  verdict: VerdictSchema,
  bound: int.optional().describe('for verified-bounded: the preemption bound'),
  reason: z.string().optional().describe('why n/a, or the finding in one line'),
  check: check.optional().describe('the check that fired'),
  trace: z.string().optional().describe('path of the trace file written for a failing cell'),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  schedules: int.describe('executions over every phase'),
  steps: int,
  truncatedSchedules: int.optional().describe('schedules cut off by the step budget'),
  phases: z
    .array(
      z.strictObject({
        strategy,
        preemptionBound: int.optional(),
        executions: int,
        complete: z.boolean(),
        split: z
          .strictObject({ rounds: int, tasks: int })
          .optional()
          .describe('the search was split across worker threads (--split-above)'),
      }),
    )
    .optional(),
  elapsedMs: int,
});

const kill = z.strictObject({
  arch: z.string(),
  scenario: z.string(),
  check,
  trace: z.string().optional(),
});

const counts = <T extends string>(keys: readonly T[]) =>
  z.strictObject(Object.fromEntries(keys.map((k) => [k, int])) as Record<T, typeof int>);

/** MutantAccount of @ptlab/conformance (summary.ts). */
export const MutantSchema = z.strictObject({
  id: z.string(),
  layer: z.enum(['mm', 'arch']),
  expect: z.enum(['caught', 'pass']),
  checks: z.array(check).describe('the checks that are its bug'),
  verdict: z.enum(['killed', 'not-killed', 'passes', 'wrongly-fails', 'not-run']),
  ok: z.boolean().describe('as expected: killed, passes, or not run'),
  kills: z
    .array(kill)
    .describe('kills that count: a declared check on a cell whose clean run passes'),
  otherFailures: z.array(kill.extend({ why: z.string() })),
  cells: int.describe('cells that ran (not n/a)'),
  verdicts: counts(VerdictSchema.options)
    .optional()
    .describe("a correct variant's cells by verdict kind (how deep its pass was searched)"),
  notApplicable: z.array(z.strictObject({ config: z.string(), reason: z.string() })),
  errors: z.array(z.strictObject({ arch: z.string(), scenario: z.string(), message: z.string() })),
});

export const KnownFindingSchema = z.strictObject({
  id: z.string(),
  title: z.string(),
  config: z.string(),
  scenario: z.string(),
  status: z
    .enum(['reproduces', 'gone', 'error'])
    .describe(
      'reproduces: still fires; gone: no longer (the catalogue is stale); error: could not run',
    ),
  detail: z.string(),
  fix: z.string().describe('the arch variant that fixes it'),
  upstream: z.string(),
  trace: z.string().optional(),
});

/**
 * A coverage summary, if the run measured one (another part of the CLI
 * writes it); the HTML report shows it when present. Extra fields are kept.
 */
export const CoverageSchema = z.looseObject({
  reached: int.optional().describe('branches of the kernel model reached'),
  total: int.optional().describe('branches of the kernel model'),
  cells: z
    .array(z.looseObject({ arch: z.string(), scenario: z.string(), reached: int, total: int }))
    .optional(),
  gaps: z.array(z.looseObject({ id: z.string(), reason: z.string() })).optional(),
  perPackage: z
    .record(z.string(), z.looseObject({ branches: z.looseObject({ found: int, hit: int }) }))
    .optional()
    .describe('branches per package (coverage-summary.json)'),
  target: z
    .looseObject({
      branches: z.looseObject({ found: int, hit: int }),
      correctCode: z.looseObject({ found: int, hit: int }),
      unreachedByKind: z.record(z.string(), int),
    })
    .optional()
    .describe('mm + arch-*: all branches, and those correct code can take (docs/coverage.md)'),
});

/** What the CLI builds: the schema's type, read-only all the way down (the runner's data is). */
type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export const ReportSchema = z
  .strictObject({
    ptlab: z.literal(2).describe('report format version'),
    seed: int,
    elapsedMs: int,
    interrupted: z
      .enum(['SIGINT', 'SIGTERM'])
      .nullable()
      .describe(
        'the signal that stopped the run early; the report then covers the finished units only',
      ),
    unitsFinished: int,
    unitsTotal: int,
    archConfigs: z.array(z.string()),
    scenarios: z.array(z.string()),
    counts: counts(VerdictSchema.options).describe('clean cells by verdict kind'),
    cells: z.array(CellSchema).describe('clean cells (no mutant), finished ones only'),
    mutants: z.array(MutantSchema),
    mutantCounts: counts(MutantSchema.shape.verdict.options),
    knownFindings: z.array(KnownFindingSchema),
    scenarioErrors: z.array(z.string()),
    verdictKinds: z.array(VerdictSchema),
    coverage: CoverageSchema.optional(),
    shard: z
      .looseObject({ index: int, total: int })
      .optional()
      .describe(
        'a shard report (conformance --shard i/N): its run and unit records, for ptlab merge',
      ),
    ok: z.boolean().describe('conformant: exit status 0'),
  })
  .describe('ptlab conformance --json FILE');
export type Report = DeepReadonly<z.infer<typeof ReportSchema>>;

/** `ptlab list --json`. */
export const ListingSchema = z
  .strictObject({
    archConfigs: z.array(
      z.strictObject({
        id: z.string(),
        arch: z.string(),
        kernel: z.string().describe('kernel release the config models, vMAJOR.MINOR'),
        description: z.string(),
      }),
    ),
    scenarios: z.array(
      z.strictObject({
        id: z.string(),
        title: z.string(),
        description: z.string(),
        requires: z.array(z.string()),
      }),
    ),
    mutants: z.array(
      z.strictObject({
        id: z.string(),
        layer: z.string(),
        expect: z.string(),
        description: z.string(),
        seed: z.string(),
      }),
    ),
    checks: z.array(z.strictObject({ id: z.string(), description: z.string() })),
  })
  .describe('ptlab list --json');
export type Listing = DeepReadonly<z.infer<typeof ListingSchema>>;

const checkHead = {
  arch: z.string(),
  scenario: z.string(),
  mutant: z.string().nullable(),
  strategy,
  seed: int,
  schedules: int,
  steps: int,
  elapsedMs: int,
};
const explored = {
  ...checkHead,
  complete: z.boolean().describe('exhaustive: the whole (bounded) space was covered'),
  verdict: z.enum(['verified', 'verified-bounded', 'sampled', 'fail']),
  bound: int.optional().describe('for verified-bounded: the preemption bound'),
  truncated: int.describe('schedules cut off by the step budget'),
  split: z
    .strictObject({
      rounds: int.describe('rounds of subtree tasks'),
      tasks: int.describe('subtree tasks run'),
    })
    .optional()
    .describe('--split: the split search (the same for any number of workers)'),
};

/** `ptlab check --json`: one object, by result. */
export const CheckJsonSchema = z
  .discriminatedUnion('result', [
    z.strictObject({ ...explored, result: z.literal('pass') }),
    z
      .strictObject({ ...explored, result: z.literal('incomplete') })
      .describe('an exhaustive search that ran out of budget before covering its space (exit 4)'),
    z.strictObject({ ...checkHead, result: z.literal('n/a'), reason: z.string() }),
    z.strictObject({
      ...explored,
      result: z.literal('fail'),
      finding: z.strictObject({
        check,
        message: z.string(),
        step: int,
        cpu: z.string(),
        fn: z.string(),
        trace: traceSchema.describe('the counterexample (trace.schema.json of @ptlab/explore)'),
      }),
      story: z.string(),
    }),
  ])
  .describe('ptlab check --json');
export type CheckJson = DeepReadonly<z.infer<typeof CheckJsonSchema>>;

/** The first problem zod found, as `field a.b: message`. */
export function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  return `field ${i?.path.length ? i.path.join('.') : '(top level)'}: ${i?.message ?? 'invalid'}`;
}
