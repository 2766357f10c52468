import { coherencyWalk } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const adjustPte = definePath({
  description:
    "the cache-coherency walk after a shared write fault: holding its own pte's ptl, lock and read the pte of every other shared mapping of the page in the same mm — arm's adjust_pte() hook where the arch has one, else a generic pte_offset_map_nolock() user",
  kernel:
    'update_mmu_cache() → make_coherent() → adjust_pte() — arch/arm/mm/fault-armv.c; generic: the pte_offset_map_nolock() + spin_lock_nested() shape of copy_pte_range()/move_ptes() — mm/memory.c, mm/mremap.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => coherencyWalk(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr)),
});
