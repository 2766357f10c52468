/**
 * One-step kernel functions (Leaf) and the one class every Step is made of.
 * Kept apart from step.ts so that call-stack.ts, which step.ts uses, can
 * know NO_STEP without a cycle.
 */
import type { Footprint } from './deps.js';
import type { Access, KGen, Step } from './step.js';

/**
 * A kernel function that takes exactly one step (spin_lock(), up_read(),
 * rcu_read_lock()...): its Step, with the code after the yield as `effect`.
 * Called as any other, `yield* spinLock(ctx, ptl)`, but with no generator:
 * its step is the call. A generator per call, resumed twice, costs more than
 * the step it takes (call-stack.ts).
 */
export interface Leaf<T = void> extends Step {
  readonly effect: () => T;
  /** For `yield*` from sources (tests): yields the step, returns what the driver sent, the effect's value. */
  [Symbol.iterator](): Generator<Step, T, unknown>;
}

/** Calling a kernel function: the generator of its body, or a one-step Leaf. */
export type KCall<T = void> = KGen<T> | Leaf<T>;

/**
 * How every Step is made (Ctx.step(), Ctx.leaf()...): one class, so every
 * step has one hidden class and the scheduler's reads stay monomorphic.
 */
export class StepObject implements Step {
  constructor(
    readonly what: string | (() => string),
    readonly obj: Footprint,
    readonly access: Access,
    readonly ready: (() => boolean) | undefined,
    readonly fp: (() => Footprint) | undefined,
    readonly wait: Footprint | (() => Footprint) | undefined,
    readonly effect: (() => unknown) | undefined,
  ) {}

  /** `yield*` on a Leaf from sources: the driver runs the effect and sends back its value. */
  *[Symbol.iterator](): Generator<Step, unknown, unknown> {
    return yield this;
  }
}

/** What `yield* NO_STEP` iterates: nothing. */
class NoStep extends StepObject {
  override *[Symbol.iterator](): Generator<Step, undefined, unknown> {}
}

/**
 * A call that takes no step and returns undefined: what a kernel function
 * that is an empty stub on this config returns (pmdp_get_lockless_start()
 * without GUP_GET_PXX_LOW_HIGH), rather than a generator that returns at
 * once. The task skips it where it is yielded (call-stack.ts).
 */
export const NO_STEP: KCall<void> = new NoStep(
  'no step',
  [],
  'r',
  undefined,
  undefined,
  undefined,
  undefined,
) as unknown as KCall<void>;

/** A Leaf's body as a generator, where one is needed (a task's body, a recorded call). */
export function asGenerator<T>(c: KCall<T>): KGen<T> {
  return (
    typeof (c as { next?: unknown }).next === 'function' ? c : (c as Leaf<T>)[Symbol.iterator]()
  ) as KGen<T>;
}
