/**
 * Physical memory: page frames whose words are tagged with what was last
 * stored there, so a lockless reader that meets something that is not a
 * page-table entry (a list pointer, poison, user data) is caught, not
 * silently decoded as a PTE.
 */
export const Tag = {
  zero: 0,
  pte: 1,
  pmd: 2,
  /** A list_head pointer written into table memory (s390 "grossest patch"). */
  list: 3,
  /** Written by the page allocator on free. */
  poison: 4,
  /** User or kernel data. */
  data: 5,
  /** Arch side data living in a table page: s390 PGSTEs, powerpc hash slots, arm hardware PTEs. */
  aux: 6,
} as const;
export type TagValue = (typeof Tag)[keyof typeof Tag];
export const TAG_NAMES: Record<TagValue, string> = {
  0: 'zero',
  1: 'pte',
  2: 'pmd',
  3: 'list pointer',
  4: 'poison',
  5: 'data',
  6: 'arch side data',
};

/**
 * One page frame. Whole-page fills (zeroing on allocation, poisoning on free)
 * are kept as a fill value until a word is written, so allocating and
 * freeing a page costs nothing per word.
 */
interface Frame {
  fillValue: number;
  fillTag: TagValue;
  values: Float64Array | null;
  tags: Uint8Array | null;
  /**
   * Words [lo, hi) may differ from the fill (written since the arrays were made):
   * a scan of a mostly empty table reads only those.
   */
  lo: number;
  hi: number;
}

/**
 * Word arrays of frames from finished runs, by page size in words: a run
 * allocates fresh arrays for every table it writes, and a search runs
 * thousands, so they are recycled (each is refilled before reuse).
 */
const POOL = new Map<number, { values: Float64Array; tags: Uint8Array }[]>();
const POOL_MAX = 256;

/** A scan's view of one page's words (PhysMem.words()). */
export interface Words {
  readonly values: Float64Array | null;
  readonly tags: Uint8Array | null;
  /** The index of the scan's first word in `values`. */
  readonly start: number;
  readonly fill: number;
  readonly fillTag: TagValue;
  /** Page word indices [lo, hi) may differ from the fill; every other word holds it. */
  readonly lo: number;
  readonly hi: number;
}

/**
 * The entries [from, to) of a scan of `n` words whose words may differ from
 * the fill: outside them, every word is `w.fill`/`w.fillTag`.
 */
export function writtenRange(w: Words, n: number): { from: number; to: number } {
  if (!w.values) return { from: 0, to: 0 };
  const from = Math.max(0, w.lo - w.start);
  const to = Math.min(n, w.hi - w.start);
  return from < to ? { from, to } : { from: 0, to: 0 };
}

function widen(f: Frame, lo: number, hi: number): void {
  if (f.lo === f.hi) {
    f.lo = lo;
    f.hi = hi;
  } else {
    if (lo < f.lo) f.lo = lo;
    if (hi > f.hi) f.hi = hi;
  }
}

export class PhysMem {
  readonly pageSize: number;
  /** Bytes per word: the arch's entry size (4 or 8). */
  readonly wordSize: number;
  readonly wordsPerPage: number;
  private readonly frames = new Map<number, Frame>();

  constructor(pageSize: number, wordSize: number) {
    this.pageSize = pageSize;
    this.wordSize = wordSize;
    this.wordsPerPage = pageSize / wordSize;
  }

  private frame(pfn: number): Frame {
    let f = this.frames.get(pfn);
    if (!f) {
      f = { fillValue: 0, fillTag: Tag.zero, values: null, tags: null, lo: 0, hi: 0 };
      this.frames.set(pfn, f);
    }
    return f;
  }

  private materialise(f: Frame): { values: Float64Array; tags: Uint8Array } {
    if (!f.values || !f.tags) {
      const reused = POOL.get(this.wordsPerPage)?.pop();
      if (reused) {
        f.values = reused.values;
        f.tags = reused.tags;
        f.values.fill(f.fillValue);
        f.tags.fill(f.fillTag);
      } else {
        f.values = new Float64Array(this.wordsPerPage);
        f.tags = new Uint8Array(this.wordsPerPage);
        if (f.fillValue !== 0) f.values.fill(f.fillValue);
        if (f.fillTag !== 0) f.tags.fill(f.fillTag);
      }
    }
    return { values: f.values, tags: f.tags };
  }

  private recycle(f: Frame): void {
    if (!f.values || !f.tags) return;
    let pool = POOL.get(this.wordsPerPage);
    if (!pool) {
      pool = [];
      POOL.set(this.wordsPerPage, pool);
    }
    if (pool.length < POOL_MAX) pool.push({ values: f.values, tags: f.tags });
    f.values = null;
    f.tags = null;
    f.lo = 0;
    f.hi = 0;
  }

  /** The run is over and nobody will read this memory again: hand its arrays back for reuse. */
  release(): void {
    for (const f of this.frames.values()) this.recycle(f);
    this.frames.clear();
  }

  /** Word index within its page for a physical address. */
  wordOf(pa: number): { pfn: number; word: number } {
    const pfn = Math.floor(pa / this.pageSize);
    return { pfn, word: (pa - pfn * this.pageSize) / this.wordSize };
  }

  read(pa: number): { value: number; tag: TagValue } {
    const pfn = Math.floor(pa / this.pageSize);
    const word = (pa - pfn * this.pageSize) / this.wordSize;
    const f = this.frame(pfn);
    if (!f.values || !f.tags) return { value: f.fillValue, tag: f.fillTag };
    return { value: f.values[word] ?? 0, tag: (f.tags[word] ?? 0) as TagValue };
  }

  /** The value at `pa` (no tag). */
  value(pa: number): number {
    const pfn = Math.floor(pa / this.pageSize);
    const f = this.frame(pfn);
    if (!f.values) return f.fillValue;
    return f.values[(pa - pfn * this.pageSize) / this.wordSize] ?? 0;
  }

  /**
   * `count` words from `pa` (within one page) for a scan: the page's arrays
   * and the index of `pa` in them, or null when the page still holds one fill
   * value throughout (then every word is `fill`/`fillTag`). Words outside
   * [lo, hi) of the arrays (page indices) hold `fill`/`fillTag` too.
   */
  words(pa: number): Words {
    const pfn = Math.floor(pa / this.pageSize);
    const f = this.frame(pfn);
    return {
      values: f.values,
      tags: f.tags,
      start: (pa - pfn * this.pageSize) / this.wordSize,
      fill: f.fillValue,
      fillTag: f.fillTag,
      lo: f.lo,
      hi: f.hi,
    };
  }

  /** The tag of the word at `pa`. */
  tag(pa: number): TagValue {
    const pfn = Math.floor(pa / this.pageSize);
    const f = this.frame(pfn);
    if (!f.tags) return f.fillTag;
    return (f.tags[(pa - pfn * this.pageSize) / this.wordSize] ?? 0) as TagValue;
  }

  write(pa: number, value: number, tag: TagValue): void {
    const pfn = Math.floor(pa / this.pageSize);
    const word = (pa - pfn * this.pageSize) / this.wordSize;
    const f = this.frame(pfn);
    const m = this.materialise(f);
    m.values[word] = value;
    m.tags[word] = tag;
    widen(f, word, word + 1);
  }

  /** memset64()-style fill of `count` words starting at `pa`. */
  fill(pa: number, count: number, value: number, tag: TagValue): void {
    const { pfn, word } = this.wordOf(pa);
    const f = this.frame(pfn);
    if (word === 0 && count >= this.wordsPerPage) {
      f.fillValue = value;
      f.fillTag = tag;
      this.recycle(f);
      return;
    }
    const m = this.materialise(f);
    m.values.fill(value, word, word + count);
    m.tags.fill(tag, word, word + count);
    widen(f, word, Math.min(word + count, this.wordsPerPage));
  }

  fillPage(pfn: number, value: number, tag: TagValue): void {
    this.fill(pfn * this.pageSize, this.wordsPerPage, value, tag);
  }

  /** A digest of every word, for comparing final states (tests, the differential check). */
  digestInto(h: (n: number) => void): void {
    for (const pfn of [...this.frames.keys()].sort((a, b) => a - b)) {
      const f = this.frames.get(pfn) as Frame;
      h(pfn);
      if (!f.values || !f.tags) {
        h(f.fillValue);
        h(f.fillTag);
        continue;
      }
      const v0 = f.values[0] ?? 0;
      const t0 = f.tags[0] ?? 0;
      let uniform = true;
      for (let i = 1; i < this.wordsPerPage && uniform; i++)
        uniform = f.values[i] === v0 && f.tags[i] === t0;
      if (uniform) {
        // The same content as a fill: hash it the same way.
        h(v0);
        h(t0);
        continue;
      }
      for (let i = 0; i < this.wordsPerPage; i++) {
        h(f.values[i] ?? 0);
        h(f.tags[i] ?? 0);
      }
    }
  }
}
