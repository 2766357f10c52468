export { coherencyWalk, ptlOfMappedTableUser } from './adjust-pte.js';
export { applyToPageRange } from './apply-range.js';
export { collapsePteMappedThp, filemapLockFolio } from './collapse.js';
export { exitMmap, teardownAll, truncateInodePages } from './exit.js';
export type { VmFault } from './fault.js';
export { doSetPmd, handleUserFault } from './fault.js';
export { folioMapped, folioPut, folioUnmapped, tryGrabFolio } from './folio.js';
export { gupFast } from './gup.js';
export { hmmRangeFault } from './hmm.js';
export {
  hugePageSize,
  hugePteLockptr,
  hugetlbFault,
  hugetlbFollowPageMask,
  hugetlbGetUserPages,
  unmapHugepageRange,
} from './hugetlb.js';
export { iommuDmaRead } from './iommu.js';
export type { ScanResult } from './khugepaged.js';
export {
  checkPmdState,
  collapseFileTail,
  findPmdOrThpOrNone,
  retractPageTables,
} from './khugepaged.js';
export { khugepagedCollapsePteMapped, madviseCollapse } from './madvise.js';
export { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from './mmu-notifier.js';
export { mremapMovePmd } from './mremap.js';
export { munmapVma } from './munmap.js';
export type { MmMutant } from './mutants.js';
export {
  COLLAPSE_BEFORE_UFFD_FIX,
  COLLAPSE_PTE_CLEAR,
  COLLAPSE_UFFD_FIX_V2_TRYLOCK,
  COLLAPSE_WITHOUT_LOCKLESS_SYNC,
  FAULT_PTE_LOCKPTR,
  HMM_MAP_CANNOT_FAIL,
  INJECT_ZAP_NEED_RESCHED,
  MM_MUTANTS,
  MREMAP_MOVE_PMD_UNCHECKED,
  PMD_LOCK_NOT_RECHECKED,
  PTE_OFFSET_MAP_WITHOUT_RCU,
  RETRACT_FREES_IMMEDIATELY,
  RETRACT_WITHOUT_MMU_NOTIFIER,
  RETRACT_WITHOUT_RECHECK,
  UFFD_BUG_ON_YANKED_TABLE,
  UFFD_MAP_CANNOT_FAIL,
  ZAP_MAP_CANNOT_FAIL,
  ZAP_RECLAIM_AFTER_RETRY,
} from './mutants.js';
export { madviseDontneed } from './pt-reclaim.js';
export { rmapWalkFile } from './rmap.js';
export { checkUserPage, tlbWarm, userLoad } from './user-access.js';
export { uffdioCopy } from './userfaultfd.js';
export { type PageRange, truncatePagecache, unmapMappingRange } from './zap.js';
