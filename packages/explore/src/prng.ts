/**
 * splitmix32: a tiny, fast, seedable generator. The simulator never touches
 * Math.random(): one seed gives one sequence, on every machine.
 */
export class Prng {
  /** The state's 32 bits, held as an int32: a uint32 above 2^31 would be a double in V8. */
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  /** The next output's 32 bits, as an int32 (the same bits nextU32() returns unsigned). */
  private next32(): number {
    this.s = (this.s + 0x9e3779b9) | 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return z ^ (z >>> 16);
  }
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    return this.next32() >>> 0;
  }
  /**
   * Uniform integer in [0, n): u % n for u = nextU32(), in small-integer
   * arithmetic. u itself may exceed 2^31, and then every operation on it is a
   * double one (% on doubles is a call to fmod). Its two 16-bit halves are
   * not: (hi * 2^16 + lo) % n === ((hi % n) * 2^16 + lo) % n.
   */
  below(n: number): number {
    const u = this.next32();
    return (((u >>> 16) % n) * 0x10000 + (u & 0xffff)) % n;
  }
}

/** Derive the seed of schedule `i` of a run seeded `seed` (so schedule i is reproducible on its own). */
export function scheduleSeed(seed: number, i: number): number {
  const p = new Prng((seed ^ Math.imul(i + 1, 0x27d4eb2d)) >>> 0);
  return p.nextU32();
}
