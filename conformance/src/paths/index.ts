/**
 * Every kernel path a scenario thread can name. One file per path; add a line
 * here to register a new one (keep the list sorted).
 */
import { adjustPte } from './adjust-pte.js';
import { applyToPageRange } from './apply-to-page-range.js';
import { collapseFile } from './collapse-file.js';
import { exitMmap } from './exit-mmap.js';
import { fault } from './fault.js';
import { gupFast } from './gup-fast.js';
import { hmmRangeFault } from './hmm-range-fault.js';
import { hugetlbWalk } from './hugetlb-walk.js';
import { iommuDma } from './iommu-dma.js';
import { khugepagedCollapse } from './khugepaged-collapse.js';
import { madviseCollapse } from './madvise-collapse.js';
import { madviseDontneed } from './madvise-dontneed.js';
import { mremap } from './mremap.js';
import { munmap } from './munmap.js';
import { rmapWalk } from './rmap-walk.js';
import { truncate } from './truncate.js';
import type { PathDef } from './types.js';
import { uffdioCopy } from './uffdio-copy.js';
import { userLoad } from './user-load.js';

/**
 * Looked up by the names scenario files give: a null-prototype object, so
 * "toString" or "__proto__" is an unknown path like any other.
 */
export const PATHS: Readonly<Record<string, PathDef>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, PathDef>, {
    adjust_pte: adjustPte,
    apply_to_page_range: applyToPageRange,
    collapse_file: collapseFile,
    exit_mmap: exitMmap,
    fault,
    gup_fast: gupFast,
    hmm_range_fault: hmmRangeFault,
    hugetlb_walk: hugetlbWalk,
    iommu_dma: iommuDma,
    khugepaged_collapse: khugepagedCollapse,
    madvise_collapse: madviseCollapse,
    madvise_dontneed: madviseDontneed,
    mremap,
    munmap,
    rmap_walk: rmapWalk,
    truncate,
    uffdio_copy: uffdioCopy,
    user_load: userLoad,
  }),
);
