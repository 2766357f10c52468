import { madviseCollapse as collapse } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const madviseCollapse = definePath({
  description:
    'madvise(MADV_COLLAPSE) on the PMD-sized range containing addr: with the THP already in the page cache, collapse_pte_mapped_thp(install_pmd) under mmap_read_lock()',
  kernel: 'madvise_collapse() → collapse_pte_mapped_thp() → set_huge_pmd() — mm/khugepaged.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => collapse(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr)),
});
