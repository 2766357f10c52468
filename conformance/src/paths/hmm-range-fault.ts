import { LIMITS } from '@ptlab/core';
import { hmmRangeFault as hmm } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const hmmRangeFault = definePath({
  description:
    "a device driver's hmm_range_fault() snapshot of a few pages: pmdp_get_lockless(), then pte_offset_map() and ptep_get() of each pte with interrupts enabled, from a thread that does not run the mm (not in its mm_cpumask)",
  kernel: 'hmm_range_fault() → hmm_vma_walk_pmd() → hmm_vma_handle_pte() — mm/hmm.c',
  args: z.strictObject({
    mm: z.string(),
    addr: addrSchema,
    pages: z.number().int().min(1).max(LIMITS.addrsPerThread).default(2),
  }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  run: (w, a) => (ctx) => hmm(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr), a.pages),
});
