import { gupFast as gup } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const gupFast = definePath({
  description: 'get_user_pages_fast() on one address: lockless walk with interrupts off',
  kernel: 'gup_fast() → gup_pte_range() — mm/gup.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => gup(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr)),
});
