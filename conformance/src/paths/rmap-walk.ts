import { rmapWalkFile } from '@ptlab/mm';
import { z } from 'zod';
import { thpOf } from './common.js';
import { definePath } from './types.js';

export const rmapWalk = definePath({
  description:
    "an rmap walk over the file THP's mappings (folio_referenced-style), mapping each table with pte_offset_map_lock()",
  kernel: 'rmap_walk_file() — mm/rmap.c; page_vma_mapped_walk() — mm/page_vma_mapped.c',
  args: z.strictObject({ file: z.string() }),
  refs: (a) => [{ kind: 'thp', field: 'file', file: a.file }],
  run: (w, a) => (ctx) => rmapWalkFile(ctx, thpOf(w, a.file)),
});
