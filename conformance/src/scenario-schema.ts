import {
  type ArchConfig,
  CHECKS,
  type CheckId,
  hasInvisible,
  INJECT_PTE_ALLOC_NOMEM,
  INJECT_TLB_BATCH_NOMEM,
  LIMITS,
  type Limits,
  ScenarioError,
  visible,
} from '@ptlab/core';
import { INJECT_ZAP_NEED_RESCHED } from '@ptlab/mm';
import { z } from 'zod';
import { pmdSlotSchema, pteIndexSchema } from './paths/common.js';
import { PATHS } from './paths/index.js';
import type { PathRef } from './paths/types.js';

/** What a config must have for a scenario to apply (reported as n/a with the reason otherwise). */
export const CAPABILITIES = {
  thp: 'no THP (CONFIG_TRANSPARENT_HUGEPAGE unavailable): khugepaged never retracts',
  'tables-vanish':
    'no PTE table goes while mmap_lock is held for read (no THP for khugepaged to retract, no CONFIG_PT_RECLAIM)',
  'hugetlb-pte': 'no hugetlb pages at PTE level',
  'hugetlb-pmd': 'no PMD-sized hugetlb pages (huge pmds of a hugetlbfs mapping)',
  'pmd-low-high': 'the pmd is read in one access (no GUP_GET_PXX_LOW_HIGH)',
  'pt-reclaim': 'no CONFIG_PT_RECLAIM',
  'split-ptlocks': 'no split PTE ptlocks (ptl == mm->page_table_lock)',
  'shared-table-pages': 'one PTE table per page: no sibling tables to defer together',
  'many-tables-per-page':
    'fewer than 16 PTE tables per page: scenarios with fewer tables free whole table pages',
  'table-page-freeable':
    'more than 16 PTE tables per page: no scenario frees every table of a page while a walker is inside one (the page goes only when all its tables have, or at exit, which no walker races)',
  'page-table-check': 'no CONFIG_PAGE_TABLE_CHECK',
} as const;
export type Capability = keyof typeof CAPABILITIES;

/** Whether `config` has `cap`. */
export function hasCapability(config: ArchConfig, cap: Capability): boolean {
  switch (cap) {
    case 'thp':
      return config.thp;
    case 'tables-vanish':
      return config.thp || config.ptReclaim;
    case 'hugetlb-pte':
      return config.hugetlbPteLevel;
    case 'hugetlb-pmd':
      return config.hugetlbPmdLevel === true;
    case 'pmd-low-high':
      return config.pmdLowHigh;
    case 'pt-reclaim':
      return config.ptReclaim;
    case 'split-ptlocks':
      return config.splitPtePtlocks;
    case 'shared-table-pages':
      return config.tablesPerPage > 1;
    // retract-whole-table-page frees 16 tables: every table of a page where a page holds at most 16.
    case 'many-tables-per-page':
      return config.tablesPerPage >= 16;
    case 'table-page-freeable':
      return config.tablesPerPage <= 16;
    case 'page-table-check':
      return config.pageTableCheck === true;
  }
}

const checkIds = Object.keys(CHECKS) as [CheckId, ...CheckId[]];
const capabilityIds = Object.keys(CAPABILITIES) as [Capability, ...Capability[]];

/** How an id or a thread name is spelled: it shows in schedules, stories and file names. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const name = z
  .string()
  .min(1)
  .max(LIMITS.nameLength)
  .regex(NAME, 'names are letters, digits, _ . and - (not starting with . or -)');
const text = z.string().max(LIMITS.textLength);
/** An array of at most LIMITS[cap] elements, the refusal naming the cap. */
function capped<T extends z.ZodType>(item: T, cap: keyof Limits, what: string) {
  return z.array(item).max(LIMITS[cap], `at most ${LIMITS[cap]} ${what} (LIMITS.${cap})`);
}
/** A PMD-sized extent of a file. */
const extent = z
  .number()
  .int()
  .min(0)
  .max(LIMITS.fileExtents - 1);

/**
 * Task names the model gives its own tasks and CPUs (core kernel.ts: the
 * `rcu` and `kworker` daemons, the `boot` context, CPUs `cpu0`...; explore's
 * `teardown` task): a thread with one would be confused with them in
 * schedules, and a trace would name the wrong task.
 */
export const RESERVED_TASK_NAMES: readonly string[] = ['rcu', 'kworker', 'teardown', 'boot'];
const RESERVED_CPU_NAME = /^cpu\d+$/;

/** Whether a scenario thread may not be called `name` (see RESERVED_TASK_NAMES). */
export function isReservedTaskName(name: string): boolean {
  return RESERVED_TASK_NAMES.includes(name) || RESERVED_CPU_NAME.test(name);
}

const vma = z.strictObject({
  /**
   * The file it maps; none: a private anonymous vma (MAP_PRIVATE |
   * MAP_ANONYMOUS), whose `ptes` are anonymous pages.
   */
  file: name.optional(),
  /** First pmd slot covered. */
  pmd: pmdSlotSchema,
  /** Number of PMD-sized extents. */
  pmds: z.number().int().min(1).max(LIMITS.vmaPmds).default(1),
  /** File page offset of the start, in units of PMD-sized extents. */
  pgoffPmds: extent.default(0),
  shared: z.boolean(),
  uffd: z
    .array(z.enum(['missing', 'wp']))
    .max(2)
    .default([]),
  anonVma: z.boolean().default(false),
  /** An empty PTE table under the first pmd (what collapse_file leaves behind). */
  pteTable: z.boolean().default(true),
  /**
   * With `pteTable`: how many of its pmds start with an empty PTE table (the
   * first `tables`, allocated in address order, so consecutive tables share
   * a page where the arch packs several into one). At most `pmds`.
   */
  tables: z.number().int().min(1).max(LIMITS.vmaPmds).default(1),
  /**
   * A hugetlbfs mapping (VM_HUGETLB) of `file`: huge pages of the arch's first
   * PTE-level hugetlb size (PMD_SIZE where it has none), faulted in by
   * hugetlb_fault() (packages/mm/src/hugetlb.ts).
   */
  hugetlb: z.boolean().default(false),
  /**
   * With `hugetlb`: the hstate's page size, `pte` (the arch's first PTE-level
   * size: needs the `hugetlb-pte` capability) or `pmd` (PMD_SIZE, one huge pmd
   * per page: needs `hugetlb-pmd`, and no `pteTable`). Absent: as `hugetlb` says.
   */
  hugetlbPage: z.enum(['pte', 'pmd']).optional(),
  /**
   * Present PTEs in that table, by page index within the first pmd: each maps
   * the file's page at that offset (a PTE-mapped THP, or small folios), as a
   * fault would have (counted in rss, the folio's mapcount and, where
   * configured, page_table_check); in an anonymous vma, a page of its own, as
   * a write fault would have (MM_ANONPAGES, and the vma gets its anon_vma).
   * Needs `pteTable`.
   */
  ptes: capped(pteIndexSchema, 'ptesPerVma', 'ptes per vma').default([]),
});

const file = z.strictObject({
  id: name,
  shmem: z.boolean().default(true),
  /** A PMD-sized THP in the page cache at this extent, locked by the thread named in lockedBy. */
  thp: z.strictObject({ pmdIndex: extent, lockedBy: name.optional() }).optional(),
  /** Small (order-0) folios in the page cache: extent `pmd` of the file, page `pte` within it. */
  small: capped(
    z.strictObject({ pmd: extent, pte: pteIndexSchema }),
    'smallFoliosPerFile',
    'small folios per file',
  ).default([]),
});

/**
 * A thread: a name, a registered path (paths/index.ts), and that path's own
 * fields. `requires`: capabilities without which this thread does not run on
 * a config (e.g. khugepaged only exists with THP); the rest of the scenario
 * still does.
 */
const thread = z.looseObject({
  name,
  path: z.string().min(1).max(LIMITS.nameLength),
  requires: z.array(z.enum(capabilityIds)).max(capabilityIds.length).optional(),
});

export const scenarioSchema = z.strictObject({
  id: z
    .string()
    .max(LIMITS.nameLength)
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'ids are lower-case words joined by -'),
  title: text,
  /** What the scenario models, for the report. */
  description: text,
  /** The seed message it comes from, or the kernel source it rests on (file and function, at a release: "(v6.6)"). */
  seed: text,
  checks: z.array(z.enum(checkIds)).min(1).max(checkIds.length),
  requires: z.array(z.enum(capabilityIds)).max(capabilityIds.length).default([]),
  files: capped(file, 'files', 'files'),
  mms: capped(
    z.strictObject({
      id: name,
      vmas: capped(vma, 'vmasPerMm', 'vmas per mm'),
      /** An IOMMU doing shared virtual addressing on this mm, registered as an mmu_notifier (core SecondaryMmu). */
      secondaryMmu: z.boolean().default(false),
    }),
    'mms',
    'mms',
  ),
  threads: capped(thread, 'threads', 'threads').min(1),
  /**
   * Fault injection points switched on for every run (core KernelOptions
   * `inject`), e.g. `tlb-batch-nomem`: tlb_remove_table() finds no batch page
   * and frees each table with tlb_remove_table_one(); `zap-need-resched`:
   * need_resched() is true once in zap_pte_range(), after one PTE was zapped,
   * so it drops the ptl and retries the rest of the range; `pte-alloc-nomem`:
   * every PTE table a thread allocates fails (pte_alloc_one() returns NULL,
   * __pte_alloc() -ENOMEM); the set-up's tables are still allocated.
   */
  inject: z
    .array(z.enum([INJECT_TLB_BATCH_NOMEM, INJECT_ZAP_NEED_RESCHED, INJECT_PTE_ALLOC_NOMEM]))
    .max(3)
    .optional(),
  /**
   * Schedules for the exhaustive step of the suite's default budget, where
   * this scenario's race needs more than the default (two preemptions deep in
   * a long run, e.g. torn-pmd-read). Ignored when a caller passes a budget.
   */
  exhaustiveSchedules: z.number().int().min(1).max(LIMITS.exhaustiveSchedules).optional(),
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

/** Thrown by the checks below; parseScenario() turns it into a ScenarioError naming the source. */
class Refusal extends Error {}

/** Refuse, naming the field. */
function refuse(field: string, why: string): never {
  throw new Refusal(`${field}: ${why}`);
}

/** At most 60 characters of `s`, around its first invisible character. */
function excerpt(s: string): string {
  if (s.length <= 60) return s;
  let i = 0;
  for (const c of s) {
    if (hasInvisible(c)) break;
    i += c.length;
  }
  const from = Math.max(0, i - 30);
  return `${from > 0 ? '…' : ''}${s.slice(from, from + 60)}…`;
}

/** Deepest nesting a scenario has any use for (it has five levels). */
const MAX_DEPTH = 16;

/**
 * Before the schema: walk the raw JSON, refusing what the schema cannot see
 * or would silently drop: a `__proto__` key (JSON.parse makes it an own key,
 * which an object copy turns into a prototype), invisible characters in any
 * key or string, and nesting too deep to be a scenario.
 */
function checkRawJson(raw: unknown): void {
  const stack: { v: unknown; at: string; depth: number }[] = [{ v: raw, at: '', depth: 0 }];
  const field = (at: string) => at || '(top level)';
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { v, at, depth } = item;
    if (typeof v === 'string') {
      if (hasInvisible(v))
        refuse(field(at), `"${excerpt(v)}" contains invisible characters (shown as \\u escapes)`);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_DEPTH) refuse(field(at), `nested deeper than ${MAX_DEPTH} levels`);
    for (const k of Object.keys(v)) {
      const sub = at ? `${at}.${k}` : k;
      if (k === '__proto__') refuse(sub, 'a "__proto__" key is not allowed');
      if (hasInvisible(k))
        refuse(sub, 'the key contains invisible characters (shown as \\u escapes)');
      stack.push({ v: (v as Record<string, unknown>)[k], at: sub, depth: depth + 1 });
    }
  }
}

/** The first schema issues, each with its field. */
function schemaMessage(issues: readonly z.core.$ZodIssue[], top = '(top level)'): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : top}: ${i.message}`)
    .join('; ');
}

/** The indices (first, second) of the first value that appears twice, or null. */
function firstDuplicate<T>(xs: readonly T[], key: (x: T) => string): [number, number] | null {
  const seen = new Map<string, number>();
  for (const [i, x] of xs.entries()) {
    const k = key(x);
    const j = seen.get(k);
    if (j !== undefined) return [j, i];
    seen.set(k, i);
  }
  return null;
}

/**
 * Sizes derived from several fields, against the caps in LIMITS (the array
 * lengths are capped by the schema). A message naming the field, or null.
 */
export function capViolation(s: Scenario, limits: Limits = LIMITS): string | null {
  for (const [mi, m] of s.mms.entries()) {
    let tables = 0;
    for (const [vi, v] of m.vmas.entries()) {
      if (v.pmd + v.pmds > limits.pmdSlots)
        return `mms.${mi}.vmas.${vi}: ends at pmd slot ${v.pmd + v.pmds}, beyond the ${limits.pmdSlots} a scenario may span (LIMITS.pmdSlots)`;
      if (v.pgoffPmds + v.pmds > limits.fileExtents)
        return `mms.${mi}.vmas.${vi}.pgoffPmds: maps file extents up to ${v.pgoffPmds + v.pmds}, beyond the ${limits.fileExtents} a scenario may name (LIMITS.fileExtents)`;
      if (v.ptes.length > limits.ptesPerVma)
        return `mms.${mi}.vmas.${vi}.ptes: ${v.ptes.length} ptes, at most ${limits.ptesPerVma} (LIMITS.ptesPerVma)`;
      tables += v.pmds;
    }
    if (tables > limits.pteTablesPerMm)
      return `mms.${mi}: its vmas cover ${tables} pmd slots, so up to ${tables} PTE tables; at most ${limits.pteTablesPerMm} (LIMITS.pteTablesPerMm)`;
  }
  return null;
}

/**
 * The pmd slots a scenario's address space spans (one more than the highest
 * slot a vma covers): a config whose pmd table has fewer entries
 * (PTRS_PER_PMD) cannot run it (runner.ts notApplicable()).
 */
export function pmdSlotsNeeded(s: Pick<ValidScenario, 'mms' | 'threads'>): number {
  let n = 0;
  for (const m of s.mms) for (const v of m.vmas) n = Math.max(n, v.pmd + v.pmds);
  // Thread arguments name slots as `pmd` (addresses, madvise), `from` and `to` (mremap).
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) walk(y);
    else if (typeof x === 'object' && x !== null)
      for (const [k, v] of Object.entries(x)) {
        if (typeof v === 'number' && (k === 'pmd' || k === 'from' || k === 'to'))
          n = Math.max(n, v + 1);
        else walk(v);
      }
  };
  for (const t of s.threads) walk(t.args);
  return n;
}

/** The cross-field rules (docs/writing-scenarios.md "Rules"); throws a Refusal naming the field. */
function crossCheck(s: Scenario): ThreadSpec[] {
  // Ids are unique within their kind.
  const dupFile = firstDuplicate(s.files, (f) => f.id);
  if (dupFile)
    refuse(
      `files.${dupFile[1]}.id`,
      `file id "${s.files[dupFile[1]]?.id}" is also files.${dupFile[0]}`,
    );
  const dupMm = firstDuplicate(s.mms, (m) => m.id);
  if (dupMm) refuse(`mms.${dupMm[1]}.id`, `mm id "${s.mms[dupMm[1]]?.id}" is also mms.${dupMm[0]}`);
  const fileById = new Map(s.files.map((f, i) => [f.id, { f, i }]));
  const mmById = new Map(s.mms.map((m, i) => [m.id, { m, i }]));

  for (const [fi, f] of s.files.entries()) {
    const dup = firstDuplicate(f.small, (x) => `${x.pmd}/${x.pte}`);
    if (dup) refuse(`files.${fi}.small.${dup[1]}`, `the same page as small.${dup[0]}`);
    const inThp = f.small.findIndex((x) => x.pmd === f.thp?.pmdIndex);
    if (inThp >= 0) refuse(`files.${fi}.small.${inThp}`, 'a small folio inside the THP extent');
  }

  for (const [mi, m] of s.mms.entries()) {
    for (const [vi, v] of m.vmas.entries()) {
      const at = `mms.${mi}.vmas.${vi}`;
      const f = v.file === undefined ? null : fileById.get(v.file)?.f;
      if (f === undefined)
        refuse(
          `${at}.file`,
          `unknown file "${v.file}" (files: ${s.files.map((x) => x.id).join(', ') || 'none'})`,
        );
      if (f === null) {
        // An anonymous vma: private, no file offset, no hugetlbfs.
        if (v.shared)
          refuse(
            `${at}.shared`,
            'a shared anonymous mapping is shmem (shmem_zero_setup()): name a shmem file instead',
          );
        if (v.hugetlb) refuse(`${at}.hugetlb`, 'a hugetlb vma maps a hugetlbfs file');
        if (v.pgoffPmds !== 0) refuse(`${at}.pgoffPmds`, 'an anonymous vma has no file offset');
      }
      const other = m.vmas.findIndex(
        (w, wi) => wi < vi && w.pmd < v.pmd + v.pmds && v.pmd < w.pmd + w.pmds,
      );
      if (other >= 0)
        refuse(
          `${at}.pmd`,
          `pmd slots ${v.pmd}..${v.pmd + v.pmds - 1} overlap vmas.${other} of mm "${m.id}"`,
        );
      if (v.ptes.length && !v.pteTable) refuse(`${at}.ptes`, 'ptes need pteTable');
      if (v.tables > v.pmds)
        refuse(`${at}.tables`, `${v.tables} tables in a vma of ${v.pmds} pmd(s)`);
      if (v.tables > 1 && !v.pteTable) refuse(`${at}.tables`, 'tables need pteTable');
      if (v.ptes.length && v.hugetlb)
        refuse(
          `${at}.ptes`,
          'a hugetlb vma maps hugetlb pages (hugetlb_fault()), not ptes of file pages',
        );
      const dup = firstDuplicate(v.ptes, String);
      if (dup) refuse(`${at}.ptes.${dup[1]}`, `pte ${v.ptes[dup[1]]} is listed twice`);
      for (const [pi, p] of v.ptes.entries()) {
        if (!f) continue; // an anonymous page of its own
        const inThp = f.thp?.pmdIndex === v.pgoffPmds;
        if (!inThp && !f.small.some((x) => x.pmd === v.pgoffPmds && x.pte === p))
          refuse(
            `${at}.ptes.${pi}`,
            `maps page ${p} of extent ${v.pgoffPmds} of "${f.id}", which has no page there (thp or small)`,
          );
        if (inThp && f.thp?.lockedBy)
          refuse(
            `${at}.ptes.${pi}`,
            `maps the THP of "${f.id}", which "${f.thp.lockedBy}" holds locked: a THP being collapsed is not mapped yet`,
          );
      }
      if (v.hugetlbPage && !v.hugetlb) refuse(`${at}.hugetlbPage`, 'hugetlbPage needs hugetlb');
      if (v.hugetlbPage && !s.requires.includes(`hugetlb-${v.hugetlbPage}`))
        refuse(
          `${at}.hugetlbPage`,
          `"${v.hugetlbPage}" hugetlb pages need "hugetlb-${v.hugetlbPage}" in the scenario's requires`,
        );
      if (v.hugetlbPage === 'pmd' && v.pteTable)
        refuse(
          `${at}.pteTable`,
          'a PMD-sized hugetlb page is mapped by the pmd itself: no PTE table under it (set "pteTable": false)',
        );
    }
  }
  const sizes = capViolation(s);
  if (sizes) throw new Refusal(sizes);

  // Threads: unique, unreserved names; a registered path; its arguments; what they refer to.
  const threads: ThreadSpec[] = [];
  const refs: { ti: number; ref: PathRef }[] = [];
  const threadIndex = new Map<string, number>();
  for (const [ti, t] of s.threads.entries()) {
    const at = `threads.${ti}`;
    const prev = threadIndex.get(t.name);
    if (prev !== undefined) refuse(`${at}.name`, `"${t.name}" is also threads.${prev}`);
    threadIndex.set(t.name, ti);
    if (isReservedTaskName(t.name))
      refuse(
        `${at}.name`,
        `"${t.name}" is reserved for the model's own tasks (${RESERVED_TASK_NAMES.join(', ')}, cpu<N>)`,
      );
    if (!Object.hasOwn(PATHS, t.path))
      refuse(`${at}.path`, `unknown path "${t.path}" (known: ${Object.keys(PATHS).join(', ')})`);
    const def = PATHS[t.path];
    if (!def) refuse(`${at}.path`, `unknown path "${t.path}"`);
    const { name: _n, path: _p, requires, ...rest } = t;
    const a = def.args.safeParse(rest);
    if (!a.success) refuse(`${at} (${t.path})`, schemaMessage(a.error.issues, 'arguments'));
    for (const ref of def.refs(a.data)) refs.push({ ti, ref });
    threads.push({ name: t.name, path: t.path, args: a.data, ...(requires ? { requires } : {}) });
  }

  const lockers = new Map<string, number>();
  const exiter = new Map<string, number>();
  for (const { ti, ref } of refs) {
    const at = `threads.${ti}.${ref.field}`;
    const t = s.threads[ti];
    if ('file' in ref) {
      const f = fileById.get(ref.file)?.f;
      if (!f)
        refuse(
          at,
          `unknown file "${ref.file}" (files: ${s.files.map((x) => x.id).join(', ') || 'none'})`,
        );
      if ((ref.kind === 'thp' || ref.kind === 'thp-locked') && !f.thp)
        refuse(
          at,
          `${t?.path} needs a THP in the page cache of "${f.id}", which has none (files.${fileById.get(f.id)?.i}.thp)`,
        );
      if (ref.kind === 'thp-locked') {
        if (f.thp?.lockedBy !== t?.name)
          refuse(
            at,
            `${t?.path} runs with the THP of "${f.id}" locked: set files.${fileById.get(f.id)?.i}.thp.lockedBy to "${t?.name}"`,
          );
        lockers.set(f.id, ti);
      }
      continue;
    }
    const m = mmById.get(ref.mm)?.m;
    if (!m)
      refuse(at, `unknown mm "${ref.mm}" (mms: ${s.mms.map((x) => x.id).join(', ') || 'none'})`);
    if (ref.kind === 'secondary-mmu' && !m.secondaryMmu)
      refuse(at, `mm "${m.id}" has no secondaryMmu (mms.${mmById.get(m.id)?.i}.secondaryMmu)`);
    if (ref.kind === 'exits') {
      const other = exiter.get(m.id);
      if (other !== undefined) refuse(at, `mm "${m.id}" is already exited by threads.${other}`);
      exiter.set(m.id, ti);
    }
    if (ref.kind === 'mapped') {
      const { pmd, pte } = ref.addr;
      if (!m.vmas.some((v) => v.pmd === pmd && v.ptes.includes(pte)))
        refuse(
          at,
          `pmd ${pmd} pte ${pte} of mm "${m.id}" is not mapped by the scenario (no vma there lists it in ptes)`,
        );
    }
  }
  // exit_mmap() runs after the last user is gone: nobody else runs in or holds that mm.
  for (const { ti, ref } of refs)
    if (ref.kind === 'mm') {
      const ex = exiter.get(ref.mm);
      if (ex !== undefined && ex !== ti)
        refuse(
          `threads.${ti}.${ref.field}`,
          `uses mm "${ref.mm}", which threads.${ex} tears down with exit_mmap() (that runs only once the last user is gone)`,
        );
    }
  for (const [fi, f] of s.files.entries()) {
    const by = f.thp?.lockedBy;
    if (by === undefined) continue;
    const ti = threadIndex.get(by);
    if (ti === undefined) refuse(`files.${fi}.thp.lockedBy`, `no thread named "${by}"`);
    if (lockers.get(f.id) !== ti)
      refuse(
        `files.${fi}.thp.lockedBy`,
        `"${by}" (${s.threads[ti]?.path}) does not run with this THP locked (collapse_file of "${f.id}" does)`,
      );
  }
  return threads;
}

/** Validate a scenario (from a file or an object) and cross-check its references; errors name the field. */
export function parseScenario(raw: unknown, source: string): ValidScenario {
  const fail = (msg: string, cause?: unknown) =>
    new ScenarioError(visible(source), visible(msg), cause === undefined ? undefined : { cause });
  try {
    checkRawJson(raw);
    const r = scenarioSchema.safeParse(raw);
    if (!r.success) throw new Refusal(`invalid scenario: ${schemaMessage(r.error.issues)}`);
    const threads = crossCheck(r.data);
    return { ...r.data, threads };
  } catch (e) {
    if (e instanceof Refusal) throw fail(e.message);
    // A check that broke on input nobody foresaw: still a refusal of this file, never a crash.
    throw fail(`cannot be checked: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}
