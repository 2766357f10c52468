import { truncatePagecache } from '@ptlab/mm';
import { z } from 'zod';
import { fileOf } from './common.js';
import { definePath } from './types.js';

export const truncate = definePath({
  description:
    'ftruncate(fd, 0) of a shmem file: unmap every mapping (i_mmap_rwsem and ptl only), drop the page cache, unmap again',
  kernel:
    'truncate_pagecache() → unmap_mapping_range() → zap_pte_range(), truncate_inode_pages() — mm/truncate.c, mm/memory.c',
  args: z.strictObject({ file: z.string() }),
  refs: (a) => [{ kind: 'file', field: 'file', file: a.file }],
  run: (w, a) => (ctx) => truncatePagecache(ctx, fileOf(w, a.file)),
});
