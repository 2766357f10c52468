/**
 * What a kernel path may yield (src/call-stack.ts): a Step, or the generator
 * of a function it calls. Anything else is a model error naming the value,
 * never a step with no footprint. tools/build/test covers calls and returns.
 */
import { describe, expect, it } from 'vitest';
import { type KGen, ModelError, runToEnd } from '../src/index.js';
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
