/**
 * Driving a kernel path one level at a time.
 *
 * A path calls a function with `yield* f(...)`. Each step then resumes every
 * generator of the call chain, outermost first, because each `yield*` level
 * forwards `next()` to the one below: a step at call depth 5 (the mean on
 * retract-vs-lockless-walkers) pays five resumes. The built packages have
 * every `yield* f(...)` rewritten to `yield f(...)` (tools/build,
 * flattenDelegation()), so a call hands the callee's generator to the task,
 * which keeps the chain on a stack of its own and resumes only the innermost.
 * The callee's return value goes back in `next(value)` and an exception in
 * `throw(e)`, exactly where `yield*` would have delivered them, so both forms
 * take the same steps with the same effects
 * (tools/build/test: flatten-delegation.test.ts, built-packages.test.ts).
 *
 * The driver takes both: sources run from TypeScript (tests, `ptlab:dev`, an
 * arch module built without the rewrite) yield only Steps.
 */
import { ModelError } from './errors.js';
import { NO_STEP } from './leaf.js';
import type { KGen, Step } from './step.js';

/** What a rewritten path yields: a Step, or the generator of a function it calls. */
type Yielded = Step | KGen<unknown>;
type Frame = Generator<Yielded, unknown, unknown>;

/** A Step never has `next`; a generator always does. */
const isCall = (v: Yielded): v is KGen<unknown> =>
  typeof (v as { next?: unknown }).next === 'function';

/**
 * Run `effect`, the pending step's if it is a Leaf's (leaf.ts), and then the
 * innermost generator of `stack` (outermost first) to its next Step,
 * pushing the callees it yields and popping those that return or throw. The
 * result is that Step, or the outermost generator's return value once it
 * returns (then `stack` is empty). An exception no frame catches empties
 * `stack` and is thrown.
 */
export function resume(
  stack: KGen<unknown>[],
  effect?: (() => unknown) | undefined,
): IteratorResult<Step, unknown> {
  let g = stack[stack.length - 1] as unknown as Frame;
  let sent: unknown;
  let failed = false;
  let error: unknown;
  if (effect !== undefined) {
    // The step taken was a Leaf's: its effect is the rest of that call, returning into the innermost frame.
    try {
      sent = effect();
    } catch (e) {
      failed = true;
      error = e;
    }
  }
  for (;;) {
    let r: IteratorResult<Yielded, unknown>;
    try {
      r = failed ? g.throw(error) : g.next(sent);
    } catch (e) {
      stack.pop();
      if (stack.length === 0) throw e;
      g = stack[stack.length - 1] as unknown as Frame;
      failed = true;
      error = e;
      continue;
    }
    failed = false;
    if (r.done) {
      stack.pop();
      if (stack.length === 0) return r;
      g = stack[stack.length - 1] as unknown as Frame;
      sent = r.value;
      continue;
    }
    const v = r.value;
    if (typeof v !== 'object' || v === null) {
      // A path yields Steps and callees only: anything else would run as a step with no footprint.
      stack.length = 0;
      throw new ModelError(
        'kernel path',
        `yielded ${String(v)}, which is neither a Step (ctx.step()) nor the generator of a call`,
      );
    }
    if (isCall(v)) {
      stack.push(v);
      g = v as unknown as Frame;
      sent = undefined;
      continue;
    }
    if (v === NO_STEP) {
      // A call that takes no step: it has returned undefined.
      sent = undefined;
      continue;
    }
    return r as IteratorYieldResult<Step>;
  }
}
