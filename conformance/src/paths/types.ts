import type { AddressSpace, Ctx, Folio, Kernel, KGen, Mm } from '@ptlab/core';
import type { z } from 'zod';

/** What setup built, by the scenario's ids, for paths to refer to. */
export interface World {
  readonly k: Kernel;
  readonly mms: ReadonlyMap<string, Mm>;
  readonly files: ReadonlyMap<string, AddressSpace>;
  /** The PMD-sized THP each file has in its page cache (files with `thp`). */
  readonly thps: ReadonlyMap<string, Folio>;
}

/**
 * A kernel path a scenario thread can run. `args` validates the thread's own
 * fields (besides `name` and `path`); `run` builds the task body. The one-line
 * `kernel` field names the kernel function(s) and file the path stands for.
 */
export interface PathDef<A extends z.ZodType = z.ZodType> {
  readonly description: string;
  readonly kernel: string;
  readonly args: A;
  /** The mm the thread runs in (its CPU joins that mm's cpumask), if any. */
  mmOf?(args: z.output<A>): string | undefined;
  run(w: World, args: z.output<A>): (ctx: Ctx) => KGen<unknown>;
}

export function definePath<A extends z.ZodType>(def: PathDef<A>): PathDef<A> {
  return def;
}
