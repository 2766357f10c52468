/**
 * What a kernel path may yield (src/call-stack.ts): a Step, or the generator
 * of a function it calls. Anything else is a model error naming the value,
 * never a step with no footprint. tools/build/test covers calls and returns.
 */
import { describe, expect, it } from 'vitest';
import {
  BugFound,
  bug,
  type KGen,
  type Leaf,
  ModelError,
  NO_STEP,
  runToEnd,
} from '../src/index.js';
import { newKernel } from './helpers.js';

function* junk(value: unknown): KGen {
  yield value as never;
}

describe('what a kernel path yields', () => {
  for (const value of [42, null, undefined, 'spin_lock']) {
    it(`yielding ${String(value)} is a model error that names it`, () => {
      const t = newKernel().spawn('t', () => junk(value));
      expect(() => t.start()).toThrow(ModelError);
      expect(t.done).toBe(true);
      expect(() => runToEnd(junk(value))).toThrow(
        `yielded ${String(value)}, which is neither a Step (ctx.step()) nor the generator of a call`,
      );
    });
  }

  it('a Step and a callee are taken', () => {
    const k = newKernel();
    function* callee(): KGen<number> {
      yield k.boot.step('inner', 1, 'r');
      return 7;
    }
    function* body(): KGen<number> {
      const n = (yield callee() as never) as unknown as number;
      yield k.boot.step(`outer ${n}`, 2, 'w');
      return n;
    }
    const t = k.spawn('t', () => body());
    t.start();
    expect(t.pendingLabel).toBe('inner');
    t.advance();
    expect(t.pendingLabel).toBe('outer 7');
  });
});

/**
 * One-step kernel functions (Leaf, src/leaf.ts): the effect runs when the step
 * is taken, never before; its value or exception arrives where the caller
 * called, whether the call is `yield* leaf` (sources) or `yield leaf` (the
 * flattened form of the built packages).
 */
describe('leaves: one-step calls', () => {
  function setUp() {
    const k = newKernel();
    const log: string[] = [];
    const leaf = (n: number): Leaf<number> =>
      k.boot.leaf(`leaf ${n}`, 1, 'w', () => {
        log.push(`effect ${n}`);
        if (n < 0) bug('kernel-bug', `leaf ${n} fails`);
        return n * 10;
      });
    return { k, log, leaf };
  }

  it('runs the effect when its step is taken, and returns its value to yield*', () => {
    const { k, log, leaf } = setUp();
    function* body(): KGen<number> {
      const a = yield* leaf(1);
      log.push(`got ${a}`);
      yield k.boot.step(`after ${a}`, 2, 'w');
      return a;
    }
    const t = k.spawn('t', () => body());
    t.start();
    expect(t.pendingLabel).toBe('leaf 1');
    expect(log).toEqual([]);
    t.advance();
    expect(log).toEqual(['effect 1', 'got 10']);
    expect(t.pendingLabel).toBe('after 10');
  });

  it('the flattened call (yield leaf) takes the same steps with the same values', () => {
    const { log, leaf } = setUp();
    function* body(): KGen<number> {
      const a = (yield leaf(2)) as unknown as number;
      log.push(`got ${a}`);
      return a;
    }
    expect(runToEnd(body())).toBe(20);
    expect(log).toEqual(['effect 2', 'got 20']);
    expect(runToEnd(leaf(3))).toBe(30);
  });

  it("an effect's exception is thrown where the caller called", () => {
    const { k, log, leaf } = setUp();
    function* body(): KGen<string> {
      try {
        yield* leaf(-1);
        return 'not thrown';
      } catch (e) {
        return e instanceof BugFound ? `caught ${e.check}` : 'other';
      }
    }
    const t = k.spawn('t', () => body());
    t.start();
    t.advance();
    expect(log).toEqual(['effect -1']);
    t.advance(); // the exit step
    expect(t.result).toBe('caught kernel-bug');
  });

  it('a leaf may be a task body, and a recorded call names it on the call chain', () => {
    const { k, log, leaf } = setUp();
    const t = k.spawn('t', () => leaf(4));
    t.start();
    expect(t.pendingLabel).toBe('leaf 4');
    t.advance();
    expect(t.result).toBe(40);
    k.recording = true;
    let chain: readonly string[] = [];
    const u = k.spawn('u', (ctx) => ctx.call('named_leaf', leaf(5)));
    u.start();
    chain = [...u.ctx.stack];
    u.advance();
    expect(chain).toEqual(['named_leaf']);
    expect(u.ctx.stack).toEqual([]);
    expect(u.result).toBe(50);
    expect(log).toEqual(['effect 4', 'effect 5']);
  });

  it('NO_STEP takes no step, yielded or delegated to', () => {
    const k = newKernel();
    function* body(): KGen<string> {
      yield* NO_STEP;
      yield NO_STEP as never;
      yield k.boot.step('only step', 1, 'w');
      return 'done';
    }
    const t = k.spawn('t', () => body());
    t.start();
    expect(t.pendingLabel).toBe('only step');
    t.advance();
    t.advance();
    expect(t.result).toBe('done');
    expect(runToEnd(NO_STEP)).toBeUndefined();
  });
});
