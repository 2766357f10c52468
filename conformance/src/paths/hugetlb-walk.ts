import { hugetlbGetUserPages } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const hugetlbWalk = definePath({
  description:
    'get_user_pages() on a hugetlb address: huge_pte_offset() lookup, and (unless fault is false) hugetlb_fault() with huge_pte_alloc() when nothing is mapped yet',
  kernel:
    '__get_user_pages() → follow_page_mask() → hugetlb_follow_page_mask(); faultin_page() → hugetlb_fault() — mm/gup.c, mm/hugetlb.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema, fault: z.boolean().default(true) }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => hugetlbGetUserPages(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr), a.fault),
});
