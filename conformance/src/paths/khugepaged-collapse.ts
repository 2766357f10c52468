import { khugepagedCollapsePteMapped } from '@ptlab/mm';
import { z } from 'zod';
import { addrSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const khugepagedCollapse = definePath({
  description:
    'khugepaged finding a PMD-sized folio already in the page cache for a file vma: collapse_pte_mapped_thp(install_pmd = false) under mmap_read_lock() — the PTEs and the table go, the next fault maps the THP',
  kernel:
    'khugepaged_scan_mm_slot() → hpage_collapse_scan_file() (SCAN_PTE_MAPPED_HUGEPAGE) → collapse_pte_mapped_thp(mm, addr, false) — mm/khugepaged.c',
  args: z.strictObject({ mm: z.string(), addr: addrSchema }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => khugepagedCollapsePteMapped(ctx, mmOf(w, a.mm), scenarioAddr(w, a.addr)),
});
