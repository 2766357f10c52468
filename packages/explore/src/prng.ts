/**
 * splitmix32: a tiny, fast, seedable generator. The simulator never touches
 * Math.random(): one seed gives one sequence, on every machine.
 */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Uniform integer in [0, n): u % n, computed without % (fmod, as u may exceed 2^31). */
  below(n: number): number {
    const u = this.nextU32();
    return u - Math.floor(u / n) * n;
  }
}

/** Derive the seed of schedule `i` of a run seeded `seed` (so schedule i is reproducible on its own). */
export function scheduleSeed(seed: number, i: number): number {
  const p = new Prng((seed ^ Math.imul(i + 1, 0x27d4eb2d)) >>> 0);
  return p.nextU32();
}
