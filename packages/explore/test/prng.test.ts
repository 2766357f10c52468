/**
 * The simulator's PRNG (src/prng.ts): below(n) is exactly nextU32() % n, so
 * every seed keeps the schedules it always had.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../src/prng.js';

describe('Prng.nextU32', () => {
  // Outputs of the uint32 implementation this one replaced (427bf4e): a seed keeps its stream.
  it('gives the stream it always gave, for seeds below and above 2^31', () => {
    const first4 = (seed: number) => {
      const p = new Prng(seed);
      return [p.nextU32(), p.nextU32(), p.nextU32(), p.nextU32()];
    };
    expect(first4(1)).toEqual([2527132011, 314344336, 2535364964, 2041432039]);
    expect(first4(0x80000001)).toEqual([3695526274, 2688891405, 3005271094, 1298478667]);
  });
});

describe('Prng.below', () => {
  it('is nextU32() % n, for small and large n', () => {
    for (const n of [1, 2, 3, 7, 10, 1000, 65_537, 2 ** 31 - 1, 2 ** 31 + 11, 2 ** 32 - 1]) {
      for (const seed of [12345, 0xfffffff0]) {
        const a = new Prng(seed);
        const b = new Prng(seed);
        for (let i = 0; i < 20_000; i++) expect(a.below(n)).toBe(b.nextU32() % n);
      }
    }
  });

  it('stays in [0, n)', () => {
    const p = new Prng(1);
    for (let i = 0; i < 10_000; i++) {
      const x = p.below(5);
      expect(x >= 0 && x < 5 && Number.isInteger(x)).toBe(true);
    }
  });
});
