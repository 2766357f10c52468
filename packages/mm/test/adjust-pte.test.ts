/**
 * The cache-coherency walk (src/adjust-pte.ts) on an arch without an
 * adjust_pte() hook: the generic pte_offset_map_nolock() user takes the ptl of
 * exactly the table it mapped, nested inside its own pte's ptl.
 */
import {
  MM_SHMEMPAGES,
  pmdOffset,
  pmdpGet,
  runToEnd,
  SINGLE_DEPTH_NESTING,
  type Task,
  Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { coherencyWalk } from '../src/index.js';
import { boot, mapFilePage, PAGE, PMD, populate } from './helpers.js';

function world(aliasMapped: boolean) {
  const k = boot();
  const file = k.createFile('shm', true);
  const thp = k.createFolio('THP', 9, file, 0);
  const mm = k.createMm('A');
  const flags = { shared: true, uffdMissing: false, uffdWp: false };
  const own = new Vma(mm, 3 * PMD, 4 * PMD, flags, file, 0);
  const alias = new Vma(mm, PMD, 2 * PMD, flags, file, 0);
  const privateAlias = new Vma(mm, 2 * PMD, 3 * PMD, { ...flags, shared: false }, file, 0);
  for (const v of [own, alias, privateAlias]) {
    mm.vmas.push(v);
    file.iMmap.push(v);
    runToEnd(populate(k.boot, mm, v.start));
  }
  runToEnd(mapFilePage(k.boot, own, 5, thp));
  if (aliasMapped) runToEnd(mapFilePage(k.boot, alias, 5, thp));
  runToEnd(mapFilePage(k.boot, privateAlias, 5, thp));
  return { k, mm, own, alias };
}

describe('coherencyWalk() with the generic pte_offset_map_nolock() user', () => {
  it("visits the other shared mappings of the page in the mm, under exactly their tables' ptl", () => {
    const { k, mm, own, alias } = world(true);
    const t: Task = k.spawn('fault', (ctx) => coherencyWalk(ctx, mm, own.start + 5 * PAGE), { mm });
    t.start();
    let held: unknown[] = [];
    while (!t.done) {
      if (t.pendingLabel === 'read pte under the ptl of its table')
        held = t.ctx.cpu.held
          .filter((h) => h.lock.kind === 'spin')
          .map((h) => [h.lock, h.subclass]);
      t.advance();
    }
    const ptlOf = (v: Vma) => {
      const tbl = runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, v.start))).table;
      return tbl ? k.pages.raw(tbl.pa / PAGE).ptl : null;
    };
    expect(held).toEqual([
      [ptlOf(own), 0],
      [ptlOf(alias), SINGLE_DEPTH_NESTING],
    ]);
    expect(t.result).toBe(1); // the private mapping is not an alias
    expect(t.ctx.cpu.rcuNesting).toBe(0);
    expect(mm.rss[MM_SHMEMPAGES]).toBe(3);
  });

  it('an alias whose pte is none is visited but not counted', () => {
    const { k, mm, own } = world(false);
    const t = k.spawn('fault', (ctx) => coherencyWalk(ctx, mm, own.start + 5 * PAGE), { mm });
    t.start();
    while (!t.done) t.advance();
    expect(t.result).toBe(0);
  });
});
