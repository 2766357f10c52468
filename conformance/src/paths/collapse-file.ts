import { collapseFileTail } from '@ptlab/mm';
import { z } from 'zod';
import { fileOf, thpOf } from './common.js';
import { definePath } from './types.js';

export const collapseFile = definePath({
  description:
    'khugepaged finishing collapse_file(): retract every PTE table mapping the new THP, then unlock it',
  kernel: 'collapse_file() → retract_page_tables() — mm/khugepaged.c',
  args: z.strictObject({ file: z.string() }),
  refs: (a) => [
    { kind: 'thp', field: 'file', file: a.file },
    { kind: 'thp-locked', field: 'file', file: a.file },
  ],
  run: (w, a) => (ctx) => collapseFileTail(ctx, fileOf(w, a.file), thpOf(w, a.file)),
});
