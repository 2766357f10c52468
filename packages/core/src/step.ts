/**
 * Kernel paths are generator functions. Every access to shared state is a
 * yield point: the path yields a Step saying what it is about to do and what it
 * touches, the scheduler decides who runs next, and the effect happens when the
 * path is resumed. So a race is a schedule, and a schedule is data.
 */
export type Access = 'r' | 'w';

export interface Step {
  /** What the step does, in kernel words: "read pmd", "spin_lock(ptl of pt#3)". */
  readonly what: string;
  /**
   * The shared object(s) touched, for partial-order reduction: two steps
   * commute when they share no object, or only read the ones they share.
   */
  readonly obj: string | readonly string[];
  readonly access: Access;
  /** A blocked step (lock held elsewhere, IPI not yet acknowledged) is not schedulable. */
  readonly ready?: (() => boolean) | undefined;
}

/** A kernel path, or a piece of one: yields Steps, returns T. */
export type KGen<T = void> = Generator<Step, T, undefined>;

/** Objects that many steps share: ordering against them is what RCU, IRQs and IPIs are about. */
export const SYNC_OBJ = 'sync';
export const ALLOC_OBJ = 'alloc';
/** The dependency key of a physical page (its words and its struct page). */
export const pageObj = (pfn: number): string => `pg:${pfn}`;

/** Run a generator to completion without scheduling: for setup and tests, never for racing paths. */
export function runToEnd<T>(gen: KGen<T>): T {
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    if (r.value.ready && !r.value.ready()) {
      throw new Error(`runToEnd: step "${r.value.what}" would block outside the scheduler`);
    }
  }
}
