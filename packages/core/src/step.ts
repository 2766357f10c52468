/**
 * Kernel paths are generator functions. Every access to shared state is a
 * yield point: the path yields a Step saying what it is about to do and what it
 * touches, the scheduler decides who runs next, and the effect happens when the
 * path is resumed. So a race is a schedule, and a schedule is data.
 *
 * The effect of a step is everything the path does between that `yield` and
 * the next one; the step's footprint must name every shared object that code
 * reads or writes (deps.ts), or the partial-order reduction may skip an order
 * that matters. Code before a path's (or an RCU callback's) first yield must
 * touch nothing shared.
 */
import { resume } from './call-stack.js';
import { type Footprint, packFootprint } from './deps.js';
import { asGenerator, type KCall } from './leaf.js';

export { asGenerator, type KCall, type Leaf, NO_STEP, StepObject } from './leaf.js';

export type Access = 'r' | 'w';

export interface Step {
  /**
   * What the step does, in kernel words: "read pmd", "spin_lock(ptl of pfn 3)".
   * A function where the text is built from values, so nothing is built unless
   * a story or trace records it.
   */
  readonly what: string | (() => string);
  /** The shared objects touched (deps.ts); `access` applies to entries not marked with rd(). */
  readonly obj: Footprint;
  readonly access: Access;
  /** A blocked step (lock held elsewhere, IPI not yet acknowledged) is not schedulable. */
  readonly ready?: (() => boolean) | undefined;
  /**
   * A footprint that depends on the state when the step is scheduled (a grace
   * period's end waits for the CPUs its callback waits for): evaluated then,
   * and used instead of `obj`. It may read only state inside the footprint it
   * returns, so a step that changes it conflicts with this one.
   */
  readonly fp?: (() => Footprint) | undefined;
  /**
   * Objects the step only waits on (read by `ready`): another thread's write
   * to one can make the step ready but never unready, and the step's effect
   * does not read them beyond that (a lock's release side, a CPU's quiescent
   * count, an IPI's acknowledgement). The explorer orders the step after the
   * writes that let it run (happens-before) but never tries it before them:
   * that order cannot happen. A function: evaluated when scheduled, like `fp`.
   */
  readonly wait?: Footprint | (() => Footprint) | undefined;
  /**
   * A one-step kernel function (Leaf): the code after its yield, run by the
   * driver when the step is taken; its value is what the caller's `yield*`
   * returns, and what it throws is thrown there.
   */
  readonly effect?: (() => unknown) | undefined;
}

/** The text of a step. */
export function stepLabel(s: Step): string {
  return typeof s.what === 'string' ? s.what : s.what();
}

/** A kernel path, or a piece of one: yields Steps, returns T. */
export type KGen<T = void> = Generator<Step, T, undefined>;

/** Run a generator to completion without scheduling: for setup and tests, never for racing paths. */
export function runToEnd<T>(gen: KCall<T>): T {
  const calls: KGen<unknown>[] = [asGenerator(gen)];
  let effect: (() => unknown) | undefined;
  for (;;) {
    const r = resume(calls, effect);
    if (r.done) return r.value as T;
    if (r.value.ready && !r.value.ready()) {
      throw new Error(`runToEnd: step "${stepLabel(r.value)}" would block outside the scheduler`);
    }
    effect = r.value.effect;
  }
}

/**
 * A step's footprint in DPOR's packed form (deps.ts packFootprint()), pushed
 * onto `out` and returned: its dynamic footprint if it has one, evaluated now.
 */
export function stepFootprint(step: Step, out: number[] = []): number[] {
  packFootprint(step.fp ? step.fp() : step.obj, step.access === 'w', out);
  return out;
}
