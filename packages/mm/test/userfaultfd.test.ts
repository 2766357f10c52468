/**
 * UFFDIO_COPY (src/userfaultfd.ts): into a private shmem VMA it installs an
 * anonymous page without looking at the page cache; -EAGAIN when the table
 * went away under pte_offset_map_lock(), -EEXIST over a present PTE.
 */
import { MM_ANONPAGES, MM_SHMEMPAGES, pmdOffset, pmdpGet, runToEnd } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { uffdioCopy } from '../src/index.js';
import { PAGE, PMD, run, world } from './helpers.js';

describe('UFFDIO_COPY', () => {
  it('into a private shmem mapping installs an anon page, counted in MM_ANONPAGES', () => {
    const { k, mm, vma, thp } = world({ shared: false, uffd: true, ptes: [0] });
    const t = k.spawn('uffd', (ctx) => uffdioCopy(ctx, mm, PMD + 7 * PAGE), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(t.result).toBe(0);
    expect(vma.anonVma).toBe(true); // anon_vma_prepare()
    expect(mm.rss[MM_ANONPAGES]).toBe(1);
    expect(mm.rss[MM_SHMEMPAGES]).toBe(1);
    const anon = k.folios.find((f) => f.mapping === null);
    expect(anon?.mapcount).toBe(1);
    expect(anon?.refcount).toBe(1);
    expect(thp.mapcount).toBe(1); // the page cache was not touched
    expect(run(k).finding).toBeNull(); // exit unmaps and frees it: rss back to 0, no leak
  });

  it('with no table under the pmd (retracted) allocates a fresh one', () => {
    const { k, mm } = world({ shared: false, uffd: true, table: false });
    const t = k.spawn('uffd', (ctx) => uffdioCopy(ctx, mm, PMD + 3 * PAGE), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(t.result).toBe(0);
    expect(runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).table).not.toBeNull();
    expect(mm.pgtablesBytes).toBeGreaterThan(0);
    expect(run(k).finding).toBeNull();
  });

  it('over a present PTE is -EEXIST, and the new page is freed', () => {
    const { k, mm } = world({ shared: false, uffd: true, ptes: [2] });
    const t = k.spawn('uffd', (ctx) => uffdioCopy(ctx, mm, PMD + 2 * PAGE), { mm });
    expect(run(k).finding).toBeNull(); // no leak: the folio was put on the error path
    expect(t.result).toBe(-17);
    expect(mm.rss[MM_ANONPAGES]).toBe(0);
  });

  it('into a VMA not registered with userfaultfd is -ENOENT', () => {
    const { k, mm } = world({ shared: false, uffd: false });
    const t = k.spawn('uffd', (ctx) => uffdioCopy(ctx, mm, PMD), { mm });
    expect(run(k).finding).toBeNull();
    expect(t.result).toBe(-2);
  });

  it('into a shared shmem mapping needs a hole in the page cache (-EEXIST over the THP)', () => {
    const { k, mm } = world({ shared: true, uffd: true });
    const t = k.spawn('uffd', (ctx) => uffdioCopy(ctx, mm, PMD + PAGE), { mm });
    expect(run(k).finding).toBeNull();
    expect(t.result).toBe(-17);
  });
});
