import { munmapVma } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const munmap = definePath({
  description:
    'munmap() of the whole vma containing addr: detach it under mmap_write_lock(), zap its pages, unlink it from its file, free its PTE tables through an mmu_gather (pte_free_tlb(), no ptl)',
  kernel:
    '__vm_munmap() → do_vmi_munmap() → do_vmi_align_munmap() → unmap_region() → unmap_vmas(), free_pgtables() → free_pgd_range() — mm/mmap.c, mm/memory.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => munmapVma(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr)),
});
