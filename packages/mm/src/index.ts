export { exitMmap, teardownAll, truncateInodePages } from './exit.js';
export type { VmFault } from './fault.js';
export { handleUserFault } from './fault.js';
export { folioMapped, folioPut, folioUnmapped, tryGrabFolio } from './folio.js';
export { gupFast } from './gup.js';
export type { ScanResult } from './khugepaged.js';
export { collapseFileTail, findPmdOrThpOrNone, retractPageTables } from './khugepaged.js';
export { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from './mmu-notifier.js';
export type { MmMutant } from './mutants.js';
export {
  MM_MUTANTS,
  PMD_LOCK_NOT_RECHECKED,
  PTE_OFFSET_MAP_WITHOUT_RCU,
  RETRACT_FREES_IMMEDIATELY,
} from './mutants.js';
export { rmapWalkFile } from './rmap.js';
