/**
 * A digest of a kernel's state, for comparing the end states of two
 * executions (the partial-order reduction's differential tests: the reduced
 * and the unreduced search must reach the same set of final states).
 * Names that depend only on creation order (pt#N labels, pfns) are part of
 * the state: two schedules that allocate in a different order end in
 * different states.
 */
import type { Kernel } from './kernel.js';

/** FNV-1a over a stream of numbers and strings. */
class Hasher {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  num(n: number): void {
    // Mix the 64-bit float's two halves in.
    const lo = (n % 0x100000000) >>> 0;
    const hi = Math.floor(n / 0x100000000) >>> 0;
    this.mix(lo);
    this.mix(hi ^ (n < 0 ? 0x80000000 : 0));
  }
  str(s: string): void {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
    this.mix(0xffff);
  }
  private mix(x: number): void {
    this.h1 = Math.imul(this.h1 ^ x, 0x01000193) >>> 0;
    this.h2 = Math.imul(this.h2 ^ (x + 0x9e3779b9), 0x85ebca6b) >>> 0;
  }
  get hex(): string {
    return this.h1.toString(16).padStart(8, '0') + this.h2.toString(16).padStart(8, '0');
  }
}

export function kernelDigest(k: Kernel): string {
  const h = new Hasher();
  k.mem.digestInto((n) => h.num(n));
  for (const m of k.pages.all()) {
    h.num(m.pfn);
    h.num(m.allocated ? 1 : 0);
    h.num(m.flags);
    h.num(m.refcount);
    h.str(m.lru.holder ?? '-');
    h.str(m.index.holder ?? '-');
  }
  for (const t of k.pt.all()) {
    h.num(t.pa);
    h.str(t.state);
    h.str(t.linkedFrom ?? '-');
  }
  for (const mm of k.mms) {
    h.str(mm.id);
    for (const r of mm.rss) h.num(r);
    h.num(mm.pgtablesBytes);
    h.num(mm.users);
    h.num(mm.count);
    h.num(mm.freed ? 1 : 0);
    for (const v of mm.vmas) h.num((v.anonVma ? 1 : 0) + (v.detached ? 2 : 0));
  }
  for (const f of k.folios) {
    h.num(f.refcount);
    h.num(f.mapcount);
  }
  for (const f of k.files) for (const i of [...f.pageCache.keys()].sort((a, b) => a - b)) h.num(i);
  for (const c of k.cpus) {
    h.num(c.tlb.size);
    for (const [key, e] of [...c.tlb].sort(([a], [b]) => (a < b ? -1 : 1))) {
      h.str(key);
      h.num(e.pfn);
    }
  }
  h.num(k.rcu.queue.length);
  return h.hex;
}
