import { mremapMovePmd } from '@ptlab/mm';
import { z } from 'zod';
import { mmOf, pmdSlotSchema, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const mremap = definePath({
  description:
    'mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of the PMD-sized file vma at pmd `from` to the empty pmd `to`: copy_vma(), then move_page_tables() moves the whole PTE table (move_normal_pmd(), under the rmap lock), then the old range is unmapped',
  kernel:
    'mremap_to() → move_vma() → copy_vma(), move_page_tables() → move_pgt_entry(NORMAL_PMD) → move_normal_pmd(), do_vmi_munmap() — mm/mremap.c',
  args: z.strictObject({
    mm: z.string(),
    from: pmdSlotSchema,
    to: pmdSlotSchema,
  }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) =>
    mremapMovePmd(
      ctx,
      mmOf(w, a.mm),
      scenarioAddr(w, { pmd: a.from, pte: 0 }),
      scenarioAddr(w, { pmd: a.to, pte: 0 }),
    ),
});
