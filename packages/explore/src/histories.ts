/**
 * Per-object access histories of one execution (dpor.ts), found by object id.
 *
 * Object ids are doubles above 2^32 (deps.ts packs kind and index), which a
 * Map hashes as heap numbers on every lookup; the search looks up each
 * object of each step's footprint several times. This open-addressing table
 * keys a Float64Array by the id's two 32-bit halves instead. Entries are
 * never removed: the same objects recur in every execution, and `gen` says
 * which execution an entry's contents belong to.
 */

/** Per-object access history within one execution. */
export interface ObjHistory {
  gen: number;
  lastWrite: number;
  /** Reads since the last write, the latest per thread: the first `nReads` entries. */
  readonly reads: number[];
  nReads: number;
}

const HI = 2 ** 32;

export class Histories {
  private keys = new Float64Array(1024).fill(-1);
  private vals: (ObjHistory | undefined)[] = new Array(1024);
  private mask = 1023;
  private size = 0;

  private slot(o: number): number {
    // Mix the halves (ToInt32 takes an integer id's low half exactly): ids of one kind
    // differ in the low half, kinds in the high half.
    const h = Math.imul(o ^ Math.imul(Math.floor(o / HI), 0x9e3779b1), 0x85ebca6b);
    let i = (h ^ (h >>> 15)) & this.mask;
    for (;;) {
      const k = this.keys[i] as number;
      if (k === o || k === -1) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** The history of object `o`, if it was ever touched (check `gen` for this execution's). */
  get(o: number): ObjHistory | undefined {
    return this.vals[this.slot(o)];
  }

  /** The history of `o`, reset to empty if it belongs to an earlier execution than `gen`. */
  at(o: number, gen: number): ObjHistory {
    const i = this.slot(o);
    let h = this.vals[i];
    if (!h) {
      h = { gen, lastWrite: -1, reads: [], nReads: 0 };
      this.keys[i] = o;
      this.vals[i] = h;
      if (++this.size * 2 > this.mask) this.grow();
    } else if (h.gen !== gen) {
      h.gen = gen;
      h.lastWrite = -1;
      h.nReads = 0;
    }
    return h;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    const n = keys.length * 2;
    this.keys = new Float64Array(n).fill(-1);
    this.vals = new Array(n);
    this.mask = n - 1;
    for (let i = 0; i < keys.length; i++) {
      const h = vals[i];
      if (h) {
        const j = this.slot(keys[i] as number);
        this.keys[j] = keys[i] as number;
        this.vals[j] = h;
      }
    }
  }
}
