/**
 * The data of the trace viewer (one counterexample, drawn by client/viewer.ts):
 * what a replay with recording saw, every page table under its one name.
 * It may come from a child process that ran an arch module, so it is checked
 * against this schema before it is written into a page, and the viewer puts
 * every string into the page as text, never as markup.
 */
import { z } from 'zod';

const int = z.number().int();
const nat = int.nonnegative();
/** Only links to the two public sources ptlab cites. */
export const LINK = /^https:\/\/(elixir\.bootlin\.com\/linux|lore\.kernel\.org)\/[^\s"'<>]*$/;
const link = z.string().regex(LINK);

export const CpuStateSchema = z.strictObject({
  locks: z.array(z.string()),
  rcu: nat,
  irqsOff: z.boolean(),
  softirq: z.boolean(),
  ipis: z.array(z.string()),
});

export const TableEventSchema = z.strictObject({
  table: z.string(),
  kind: z.enum([
    'allocated',
    'populated',
    'retracted',
    'deferred',
    'rcu-queued',
    'grace-period',
    'freed',
    'page-freed',
    'reused',
  ]),
  detail: z.string(),
});

const eventRef = z.strictObject({ step: int, cpu: z.string(), fn: z.string(), what: z.string() });

export const ViewStepSchema = z.strictObject({
  n: nat,
  task: z.string(),
  cpu: z.string(),
  stack: z.array(z.strictObject({ fn: z.string(), src: link.nullable() })),
  /** The kernel function the step models, and its source. */
  fn: z.string().nullable(),
  src: link.nullable(),
  what: z.string(),
  notes: z.array(z.string()),
  preempts: z.string().optional(),
  touches: z.array(
    z.strictObject({ obj: z.string(), write: z.boolean(), tables: z.array(z.string()).optional() }),
  ),
  /** CPUs whose context this step changed: their context after it. */
  cpus: z.record(z.string(), CpuStateSchema),
  events: z.array(TableEventSchema),
});

export const ViewTableSchema = z.strictObject({
  name: z.string(),
  label: z.string(),
  kind: z.enum(['pte', 'pmd']),
  pfn: nat,
  offset: nat,
  entries: nat,
  mm: z.string().nullable(),
  from: int,
  /** Steps of its page's life: allocated at pageFrom (-1: before the first step), allocated again at pageTo. */
  pageFrom: int,
  pageTo: int.optional(),
});

const slotWord = z.strictObject({
  holder: z.string().nullable(),
  at: z.strictObject({ step: int, what: z.string() }).optional(),
});

export const ViewSlotsSchema = z.strictObject({
  pfn: nat,
  /** The page's name in this run (a table's, or `pfn N` when it holds several). */
  name: z.string(),
  allocated: z.boolean(),
  owner: z.string(),
  flags: z.array(z.string()),
  refcount: int,
  lru: slotWord,
  index: slotWord,
  ptl: z.string().nullable(),
  words: z.array(z.strictObject({ table: z.string(), tags: z.array(z.string()) })),
});

export const ViewRunSchema = z.strictObject({
  /** `minimised`: the trace's schedule; `found`: as the search found it. */
  label: z.enum(['minimised', 'found']),
  /** What the schedule does on this code (replay's verdict line). */
  outcome: z.string(),
  reproduced: z.boolean(),
  cpus: z.array(z.strictObject({ name: z.string(), task: z.string(), daemon: z.boolean() })),
  initial: z.record(z.string(), CpuStateSchema),
  setup: z.array(TableEventSchema),
  steps: z.array(ViewStepSchema),
  tables: z.array(ViewTableSchema),
  slots: z.array(ViewSlotsSchema),
  finding: z
    .strictObject({
      check: z.string(),
      message: z.string(),
      step: nat,
      cpu: z.string(),
      fn: z.string(),
      related: z.array(eventRef),
    })
    .nullable(),
  /** The two racing events: the one that set the bug up, and the access that hit it. */
  racing: z.strictObject({ first: eventRef.nullable(), second: eventRef }).nullable(),
});

export const TraceViewSchema = z.strictObject({
  format: z.literal('ptlab-view'),
  version: z.literal(1),
  title: z.string(),
  arch: z.string(),
  kernel: z.string(),
  scenario: z.string(),
  mutant: z.string().nullable(),
  /** Where the arch came from (built-in package, or module path and digest). */
  origin: z.string(),
  /** The trace file, as named to the command. */
  trace: z.string(),
  check: z.strictObject({ id: z.string(), description: z.string() }),
  seed: z.strictObject({
    text: z.string(),
    links: z.array(
      z.strictObject({
        subject: z.string(),
        url: link,
        how: z.enum(['message', 'thread', 'search']),
      }),
    ),
  }),
  runs: z.array(ViewRunSchema).min(1),
});

export type CpuStateView = z.infer<typeof CpuStateSchema>;
export type ViewStep = z.infer<typeof ViewStepSchema>;
export type ViewRun = z.infer<typeof ViewRunSchema>;
export type ViewTable = z.infer<typeof ViewTableSchema>;
export type TraceView = z.infer<typeof TraceViewSchema>;
