import type { AddressSpace, Ctx, Folio, Kernel, KGen, Mm } from '@ptlab/core';
import type { z } from 'zod';
import type { ScenarioAddr } from './common.js';

/** What setup built, by the scenario's ids, for paths to refer to. */
export interface World {
  readonly k: Kernel;
  readonly mms: ReadonlyMap<string, Mm>;
  readonly files: ReadonlyMap<string, AddressSpace>;
  /** The PMD-sized THP each file has in its page cache (files with `thp`). */
  readonly thps: ReadonlyMap<string, Folio>;
}

/**
 * Something a thread's arguments name, resolved when the scenario loads
 * (scenario-schema.ts), so a dangling or contradictory reference is refused
 * naming the field instead of failing at boot. `field` is the argument that
 * holds it.
 */
export type PathRef =
  /** An mm the thread uses (runs in it, or holds an mm_users reference): it must exist, and no other thread may exit it. */
  | { readonly kind: 'mm'; readonly field: string; readonly mm: string }
  /** A file it names: it must exist. */
  | { readonly kind: 'file'; readonly field: string; readonly file: string }
  /** A file whose page-cache THP it works on: the file must have `thp`. */
  | { readonly kind: 'thp'; readonly field: string; readonly file: string }
  /** A file whose THP the thread holds locked from its start (collapse_file()): `thp.lockedBy` must name the thread. */
  | { readonly kind: 'thp-locked'; readonly field: string; readonly file: string }
  /** An mm the thread tears down after its last mmput() (exit_mmap()): no other thread may use or exit it. */
  | { readonly kind: 'exits'; readonly field: string; readonly mm: string }
  /** An mm whose secondary MMU it drives: the mm must have `secondaryMmu`. */
  | { readonly kind: 'secondary-mmu'; readonly field: string; readonly mm: string }
  /** An address of mm that the scenario's own `ptes` must map before the run (a warm TLB entry). */
  | {
      readonly kind: 'mapped';
      readonly field: string;
      readonly mm: string;
      readonly addr: ScenarioAddr;
    };

/**
 * A kernel path a scenario thread can run. `args` validates the thread's own
 * fields (besides `name` and `path`); `run` builds the task body. The one-line
 * `kernel` field names the kernel function(s) and file the path stands for;
 * `refs` declares every scenario object `run` looks up.
 */
export interface PathDef<A extends z.ZodType = z.ZodType> {
  readonly description: string;
  readonly kernel: string;
  readonly args: A;
  /** What the arguments refer to, checked at load (every mm, file, THP... that run() looks up). */
  refs(args: z.output<A>): readonly PathRef[];
  /** The mm the thread runs in (its CPU joins that mm's cpumask), if any. */
  mmOf?(args: z.output<A>): string | undefined;
  run(w: World, args: z.output<A>): (ctx: Ctx) => KGen<unknown>;
}

export function definePath<A extends z.ZodType>(def: PathDef<A>): PathDef<A> {
  return def;
}
