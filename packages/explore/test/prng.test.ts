/**
 * The simulator's PRNG (src/prng.ts): below(n) is exactly nextU32() % n, so
 * every seed keeps the schedules it always had.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../src/prng.js';

describe('Prng.below', () => {
  it('is nextU32() % n, for small and large n', () => {
    for (const n of [1, 2, 3, 7, 10, 1000, 65_537, 2 ** 31 - 1, 2 ** 31 + 11, 2 ** 32 - 1]) {
      const a = new Prng(12345);
      const b = new Prng(12345);
      for (let i = 0; i < 20_000; i++) expect(a.below(n)).toBe(b.nextU32() % n);
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
