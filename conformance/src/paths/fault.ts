import { handleUserFault } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const fault = definePath({
  description:
    'a user page fault on a file mapping (or a write fault on a private anonymous one), retried while it returns without mapping',
  kernel:
    'do_user_addr_fault() → handle_pte_fault() → finish_fault() or do_anonymous_page() — mm/memory.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema, write: z.boolean().default(false) }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => handleUserFault(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr), a.write),
});
