import {
  type ArchConfig,
  CHECKS,
  type CheckId,
  INJECT_TLB_BATCH_NOMEM,
  ScenarioError,
} from '@ptlab/core';
import { INJECT_ZAP_NEED_RESCHED } from '@ptlab/mm';
import { z } from 'zod';
import { PATHS } from './paths/index.js';

/** What a config must have for a scenario to apply (reported as n/a with the reason otherwise). */
export const CAPABILITIES = {
  thp: 'no THP (CONFIG_TRANSPARENT_HUGEPAGE unavailable): khugepaged never retracts',
  'hugetlb-pte': 'no hugetlb pages at PTE level',
  'pmd-low-high': 'the pmd is read in one access (no GUP_GET_PXX_LOW_HIGH)',
  'pt-reclaim': 'no CONFIG_PT_RECLAIM',
  'split-ptlocks': 'no split PTE ptlocks (ptl == mm->page_table_lock)',
  'shared-table-pages': 'one PTE table per page: no sibling tables to defer together',
} as const;
export type Capability = keyof typeof CAPABILITIES;

/** Whether `config` has `cap`. */
export function hasCapability(config: ArchConfig, cap: Capability): boolean {
  switch (cap) {
    case 'thp':
      return config.thp;
    case 'hugetlb-pte':
      return config.hugetlbPteLevel;
    case 'pmd-low-high':
      return config.pmdLowHigh;
    case 'pt-reclaim':
      return config.ptReclaim;
    case 'split-ptlocks':
      return config.splitPtePtlocks;
    case 'shared-table-pages':
      return config.tablesPerPage > 1;
  }
}

const checkIds = Object.keys(CHECKS) as [CheckId, ...CheckId[]];
const capabilityIds = Object.keys(CAPABILITIES) as [Capability, ...Capability[]];

const vma = z.strictObject({
  file: z.string(),
  /** First pmd slot covered. */
  pmd: z.number().int().min(0).max(7),
  /** Number of PMD-sized extents. */
  pmds: z.number().int().min(1).max(4).default(1),
  /** File page offset of the start, in units of PMD-sized extents. */
  pgoffPmds: z.number().int().min(0).default(0),
  shared: z.boolean(),
  uffd: z.array(z.enum(['missing', 'wp'])).default([]),
  anonVma: z.boolean().default(false),
  /** An empty PTE table under the first pmd (what collapse_file leaves behind). */
  pteTable: z.boolean().default(true),
  /**
   * A hugetlbfs mapping (VM_HUGETLB) of `file`: huge pages of the arch's first
   * PTE-level hugetlb size (PMD_SIZE where it has none), faulted in by
   * hugetlb_fault() (packages/mm/src/hugetlb.ts).
   */
  hugetlb: z.boolean().default(false),
  /**
   * Present PTEs in that table, by page index within the first pmd: each maps
   * the file's page at that offset (a PTE-mapped THP, or small folios), as a
   * fault would have (counted in rss, the folio's mapcount and, where
   * configured, page_table_check). Needs `pteTable`.
   */
  ptes: z.array(z.number().int().min(0).max(15)).default([]),
});

const file = z.strictObject({
  id: z.string(),
  shmem: z.boolean().default(true),
  /** A PMD-sized THP in the page cache at this extent, locked by the thread named in lockedBy. */
  thp: z
    .strictObject({ pmdIndex: z.number().int().min(0), lockedBy: z.string().optional() })
    .optional(),
  /** Small (order-0) folios in the page cache: extent `pmd` of the file, page `pte` within it. */
  small: z
    .array(z.strictObject({ pmd: z.number().int().min(0), pte: z.number().int().min(0).max(15) }))
    .default([]),
});

/**
 * A thread: a name, a registered path (paths/index.ts), and that path's own
 * fields. `requires`: capabilities without which this thread does not run on
 * a config (e.g. khugepaged only exists with THP); the rest of the scenario
 * still does.
 */
const thread = z.looseObject({
  name: z.string().min(1),
  path: z.string().min(1),
  requires: z.array(z.enum(capabilityIds)).optional(),
});

export const scenarioSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, 'ids are lower-case words joined by -'),
  title: z.string(),
  /** What the scenario models, for the report. */
  description: z.string(),
  /** The seed message it comes from. */
  seed: z.string(),
  checks: z.array(z.enum(checkIds)).min(1),
  requires: z.array(z.enum(capabilityIds)).default([]),
  files: z.array(file),
  mms: z.array(
    z.strictObject({
      id: z.string(),
      vmas: z.array(vma),
      /** An IOMMU doing shared virtual addressing on this mm, registered as an mmu_notifier (core SecondaryMmu). */
      secondaryMmu: z.boolean().default(false),
    }),
  ),
  threads: z.array(thread).min(1),
  /**
   * Fault injection points switched on for every run (core KernelOptions
   * `inject`), e.g. `tlb-batch-nomem`: tlb_remove_table() finds no batch page
   * and frees each table with tlb_remove_table_one(); `zap-need-resched`:
   * need_resched() is true once in zap_pte_range(), after one PTE was zapped,
   * so it drops the ptl and retries the rest of the range.
   */
  inject: z.array(z.enum([INJECT_TLB_BATCH_NOMEM, INJECT_ZAP_NEED_RESCHED])).optional(),
  /**
   * Schedules for the exhaustive step of the suite's default budget, where
   * this scenario's race needs more than the default (two preemptions deep in
   * a long run, e.g. torn-pmd-read). Ignored when a caller passes a budget.
   */
  exhaustiveSchedules: z.number().int().min(1).max(5000).optional(),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A thread after its path's arguments were validated. */
export interface ThreadSpec {
  readonly name: string;
  readonly path: string;
  readonly args: unknown;
  /** The thread runs only on configs with all of these. */
  readonly requires?: readonly Capability[];
}

/** Whether thread `t` runs on `config` (it has every capability the thread requires). */
export function threadRuns(t: ThreadSpec, config: ArchConfig): boolean {
  return (t.requires ?? []).every((c) => hasCapability(config, c));
}

/** A validated scenario: threads carry their path's parsed arguments. */
export type ValidScenario = Omit<Scenario, 'threads'> & { readonly threads: readonly ThreadSpec[] };

/** Validate a scenario (from a file or an object) and cross-check its references; errors name the field. */
export function parseScenario(raw: unknown, source: string): ValidScenario {
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new ScenarioError(source, `invalid scenario: ${msgs.join('; ')}`);
  }
  const s = r.data;
  const files = new Set(s.files.map((f) => f.id));
  const mms = new Set(s.mms.map((m) => m.id));
  const names = new Set<string>();
  for (const m of s.mms)
    for (const v of m.vmas)
      if (!files.has(v.file))
        throw new ScenarioError(source, `mms.${m.id}: vma maps unknown file "${v.file}"`);
  const threads: ThreadSpec[] = [];
  for (const t of s.threads) {
    if (names.has(t.name))
      throw new ScenarioError(source, `threads: two threads named "${t.name}"`);
    names.add(t.name);
    const def = PATHS[t.path];
    if (!def)
      throw new ScenarioError(
        source,
        `threads.${t.name}: unknown path "${t.path}" (known: ${Object.keys(PATHS).join(', ')})`,
      );
    const { name: _n, path: _p, requires, ...rest } = t;
    const a = def.args.safeParse(rest);
    if (!a.success) {
      const i = a.error.issues[0];
      throw new ScenarioError(
        source,
        `threads.${t.name} (${t.path}): ${i?.path.join('.') || 'arguments'}: ${i?.message ?? 'invalid'}`,
      );
    }
    const args = a.data as Record<string, unknown>;
    if (typeof args.file === 'string' && !files.has(args.file))
      throw new ScenarioError(source, `threads.${t.name}: unknown file "${args.file}"`);
    if (typeof args.mm === 'string' && !mms.has(args.mm))
      throw new ScenarioError(source, `threads.${t.name}: unknown mm "${args.mm}"`);
    threads.push({ name: t.name, path: t.path, args, ...(requires ? { requires } : {}) });
  }
  const fileById = new Map(s.files.map((f) => [f.id, f]));
  for (const m of s.mms)
    for (const v of m.vmas) {
      if (v.ptes.length && !v.pteTable)
        throw new ScenarioError(source, `mms.${m.id}: a vma with ptes needs pteTable`);
      const f = fileById.get(v.file);
      for (const p of v.ptes)
        if (
          f?.thp?.pmdIndex !== v.pgoffPmds &&
          !f?.small.some((x) => x.pmd === v.pgoffPmds && x.pte === p)
        )
          throw new ScenarioError(
            source,
            `mms.${m.id}: vma of ${v.file} maps pte ${p}, but the file has no page there (thp or small)`,
          );
    }
  for (const f of s.files) {
    if (f.thp && f.small.some((x) => x.pmd === f.thp?.pmdIndex))
      throw new ScenarioError(source, `files.${f.id}: small folios inside the THP extent`);
    const by = f.thp?.lockedBy;
    if (by && !names.has(by))
      throw new ScenarioError(source, `files.${f.id}.thp.lockedBy: no thread named "${by}"`);
  }
  return { ...s, threads };
}
