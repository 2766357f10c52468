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

interface Frame {
  readonly values: Float64Array;
  readonly tags: Uint8Array;
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
      f = { values: new Float64Array(this.wordsPerPage), tags: new Uint8Array(this.wordsPerPage) };
      this.frames.set(pfn, f);
    }
    return f;
  }

  /** Word index within its page for a physical address. */
  wordOf(pa: number): { pfn: number; word: number } {
    const pfn = Math.floor(pa / this.pageSize);
    return { pfn, word: (pa - pfn * this.pageSize) / this.wordSize };
  }

  read(pa: number): { value: number; tag: TagValue } {
    const { pfn, word } = this.wordOf(pa);
    const f = this.frame(pfn);
    return { value: f.values[word] ?? 0, tag: (f.tags[word] ?? 0) as TagValue };
  }

  write(pa: number, value: number, tag: TagValue): void {
    const { pfn, word } = this.wordOf(pa);
    const f = this.frame(pfn);
    f.values[word] = value;
    f.tags[word] = tag;
  }

  /** memset64()-style fill of `count` words starting at `pa`. */
  fill(pa: number, count: number, value: number, tag: TagValue): void {
    const { pfn, word } = this.wordOf(pa);
    const f = this.frame(pfn);
    f.values.fill(value, word, word + count);
    f.tags.fill(tag, word, word + count);
  }

  fillPage(pfn: number, value: number, tag: TagValue): void {
    this.fill(pfn * this.pageSize, this.wordsPerPage, value, tag);
  }
}
