import { applyToPageRange as apply } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const applyToPageRange = definePath({
  description:
    'a process-context PTE table allocation: apply_to_page_range() on one page (pte_alloc_map_lock(), fn reads the pte)',
  kernel: 'apply_to_page_range() → apply_to_pte_range() — mm/memory.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => apply(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr)),
});
