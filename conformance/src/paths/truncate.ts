import { hugePageSize, truncatePagecache } from '@ptlab/mm';
import { z } from 'zod';
import { fileOf } from './common.js';
import { definePath } from './types.js';

export const truncate = definePath({
  description:
    'ftruncate(fd, 0) of a file: unmap every mapping (i_mmap_rwsem and ptl only), drop the page cache, unmap again; with holeHugePages, fallocate(PUNCH_HOLE) over the first N huge pages of the file instead',
  kernel:
    'truncate_pagecache() (truncate_pagecache_range() for a hole) → unmap_mapping_range() → zap_pte_range() / __unmap_hugepage_range(), truncate_inode_pages_range() — mm/truncate.c, mm/memory.c, mm/hugetlb.c',
  args: z.strictObject({
    file: z.string(),
    /** Punch a hole of this many huge pages (huge_page_size() of the file's hugetlb mappings) at the start of the file. */
    holeHugePages: z.number().int().min(1).max(64).optional(),
  }),
  refs: (a) => [{ kind: 'file', field: 'file', file: a.file }],
  run: (w, a) => (ctx) => {
    const file = fileOf(w, a.file);
    // hstate_inode(): the file's hstate, which its hugetlb mappings carry.
    const hstateOf = file.iMmap.find((v) => v.flags.hugetlb);
    return truncatePagecache(
      ctx,
      file,
      a.holeHugePages === undefined
        ? undefined
        : {
            first: 0,
            nr: (a.holeHugePages * hugePageSize(ctx, hstateOf)) / ctx.k.config.PAGE_SIZE,
          },
    );
  },
});
