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

const entry = z.strictObject({
  file: z.string().min(1),
  code: z.string(),
  type: z.string().min(1),
  arm: z.number().int().min(0),
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
  let allowed = 0;
  for (const b of unreached) {
    const left = pool.get(keyOf(b));
    if (left?.length) {
      left.pop();
      allowed++;
    } else gaps.push(b);
  }
  return { gaps, stale: [...pool.values()].flat(), allowed };
}

/** An allow-list entry for `b` with a placeholder reason (what `--coverage` prints for a gap). */
export const entryFor = (b: UnreachedBranch): AllowEntry => ({
  file: b.file.replaceAll('\\', '/').replace(/^.*?(?=(packages|@ptlab)\/)/, ''),
  line: b.line,
  code: b.code,
  type: b.type,
  arm: b.arm,
  reason: 'TODO: why no scenario reaches this',
});
