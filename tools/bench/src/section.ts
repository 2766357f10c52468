/**
 * A part of `pnpm bench`. Each section measures something, says it in text,
 * and names its headline figures, which the JSON output lists at the top
 * and compares with bench/baseline.json. New measurements (kill rates,
 * coverage, ...) are new sections added to SECTIONS in bench.ts.
 */

export interface BenchContext {
  /** --quick: smaller workloads, for a smoke run. */
  readonly quick: boolean;
  /** Another checkout to measure (--root): only sections that support it run. */
  readonly root: string | null;
  /** Progress lines (stderr). */
  readonly log: (s: string) => void;
}

/** A headline figure: per CPU second where it is a rate (see measure.ts), with its wall-time twin. */
export interface Figure {
  readonly value: number;
  /** The same from wall time (rates), when there is one. */
  readonly wall?: number;
  readonly unit: string;
  /** Which way is better (for the change against the baseline). */
  readonly better: 'higher' | 'lower';
}

export interface Section<F = unknown> {
  /** The key of its details in the JSON output. */
  readonly id: string;
  /** Runs only with this flag (e.g. "--suite": slow). */
  readonly optIn?: string;
  /** Runs with --root (it only uses APIs an old checkout has too). */
  readonly anyRoot?: boolean;
  run(ctx: BenchContext): Promise<F>;
  text(f: F): string[];
  headline(f: F): Record<string, Figure>;
}

/** Helps TypeScript keep each section's figure type. */
export const section = <F>(s: Section<F>): Section<F> => s;
