/**
 * The reviewed list of branches the default run does not reach
 * (conformance/coverage-allow.json), each with its reason. An unreached
 * branch of a target package (scope.ts TARGET_PACKAGE) that the list does not
 * name is a coverage gap; an entry that matches no unreached branch is stale.
 *
 * Entries name a branch by file, the trimmed text of the line it starts on,
 * its istanbul type and arm, so they survive edits elsewhere in the file; a
 * change to the line itself makes the entry stale and the branch a gap, which
 * is what a review should look at again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { UnreachedBranch } from './report.js';

/**
 * Why a branch is unreached, in four kinds. Only `unmodelled` is a branch
 * correct code could take, so it alone counts against the target; the other
 * three are arms no default run of correct kernel code can reach, whatever
 * scenarios it has.
 */
export const ALLOW_KINDS = {
  /** Correct code could take it: the model or the scenarios lack what it needs. */
  unmodelled: 'correct code could take it; the model or the scenarios lack what it needs',
  /** A check's firing arm, a mutant's own code, or a state the modelled invariants exclude. */
  'broken-code':
    'taken only when some code is wrong: a check firing, a mutant on, a state correct code never makes',
  /** A guard refusing a port, scenario, config or call the suite does not ship; a test helper. */
  'foreign-input': 'taken only by input the suite does not ship (a user config, an unsupported call)',
  /** Not a kernel branch: a TypeScript fallback or a bound the model adds. */
  'model-artefact': 'not a kernel branch: a TypeScript fallback or a bound only the model has',
} as const;
export type AllowKind = keyof typeof ALLOW_KINDS;
const KIND_IDS = Object.keys(ALLOW_KINDS) as [AllowKind, ...AllowKind[]];

const entry = z.strictObject({
  file: z.string().min(1),
  code: z.string(),
  type: z.string().min(1),
  arm: z.number().int().min(0),
  kind: z.enum(KIND_IDS),
  /** Why no scenario reaches it: dead code, debug-only, a guard the model never trips, ... */
  reason: z.string().min(10),
  /** The line when the entry was written (for the reader; not matched). */
  line: z.number().int().min(0).optional(),
});
const allowFile = z.strictObject({
  $comment: z.string().optional(),
  branches: z.array(entry),
});
export type AllowEntry = z.output<typeof entry>;

const keyOf = (b: Pick<UnreachedBranch, 'file' | 'code' | 'type' | 'arm'>): string =>
  `${b.file.replaceAll('\\', '/').replace(/^.*?(?=(packages|@ptlab)\/)/, '')}\0${b.code}\0${b.type}\0${b.arm}`;

/** The allow-list at `path`; a missing file is an empty list, a malformed one an error naming the field. */
export function loadAllowList(path: string): AllowEntry[] {
  if (!existsSync(path)) return [];
  const r = allowFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success)
    throw new Error(
      `${path}: ${r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return r.data.branches;
}

export interface AllowCheck {
  /** Unreached and not listed. */
  readonly gaps: readonly UnreachedBranch[];
  /** Listed but not (or no longer) unreached. */
  readonly stale: readonly AllowEntry[];
  readonly allowed: number;
  /** Allowed branches by kind (only entries that matched an unreached branch). */
  readonly byKind: Readonly<Record<AllowKind, number>>;
}

/**
 * Match unreached branches against the list. Several branches with the same
 * key (the same line text twice in a file) need as many entries.
 */
export function checkAllowList(
  unreached: readonly UnreachedBranch[],
  allow: readonly AllowEntry[],
): AllowCheck {
  const pool = new Map<string, AllowEntry[]>();
  for (const e of allow) pool.set(keyOf(e), [...(pool.get(keyOf(e)) ?? []), e]);
  const gaps: UnreachedBranch[] = [];
  const byKind = Object.fromEntries(KIND_IDS.map((k) => [k, 0])) as Record<AllowKind, number>;
  let allowed = 0;
  for (const b of unreached) {
    const e = pool.get(keyOf(b))?.pop();
    if (e) {
      allowed++;
      byKind[e.kind]++;
    } else gaps.push(b);
  }
  return { gaps, stale: [...pool.values()].flat(), allowed, byKind };
}

/** An allow-list entry for `b` with a placeholder reason (what `--coverage` prints for a gap). */
export const entryFor = (b: UnreachedBranch): AllowEntry => ({
  file: b.file.replaceAll('\\', '/').replace(/^.*?(?=(packages|@ptlab)\/)/, ''),
  line: b.line,
  code: b.code,
  type: b.type,
  arm: b.arm,
  kind: 'unmodelled',
  reason: 'TODO: why no scenario reaches this',
});
