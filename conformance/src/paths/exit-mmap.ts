import { exitMmap as exit } from '@ptlab/mm';
import { z } from 'zod';
import { mmOf } from './common.js';
import { definePath } from './types.js';

export const exitMmap = definePath({
  description:
    'the last user of an mm exits: unmap every vma, unlink it from its file, free the page tables, drop the mm',
  kernel: 'mmput() → exit_mmap() — mm/mmap.c, then mmdrop() — include/linux/sched/mm.h',
  args: z.strictObject({ mm: z.string() }),
  refs: (a) => [{ kind: 'exits', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => exit(ctx, mmOf(w, a.mm)),
});
