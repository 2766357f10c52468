import { madviseDontneed as dontneed } from '@ptlab/mm';
import { z } from 'zod';
import { mmOf, pmdSlotSchema } from './common.js';
import { definePath } from './types.js';

export const madviseDontneed = definePath({
  description:
    'madvise(MADV_DONTNEED) of one whole PMD-sized extent: zap its ptes and, with CONFIG_PT_RECLAIM, free the emptied PTE table through the mmu_gather',
  kernel:
    'madvise_dontneed_single_vma() → zap_page_range_single() → zap_pte_range() → try_get_and_clear_pmd()/try_to_free_pte() → free_pte() — mm/madvise.c, mm/memory.c, mm/pt_reclaim.c (v6.14)',
  args: z.strictObject({ mm: z.string(), pmd: pmdSlotSchema }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => {
    const c = w.k.config;
    return dontneed(ctx, mmOf(w, a.mm), a.pmd * c.PTRS_PER_PTE * c.PAGE_SIZE);
  },
});
