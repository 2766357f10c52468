export {
  GENERIC_CONFIG,
  GenericArch,
  INJECT_PTE_ALLOC_NOMEM,
  pteTablePageAllocFails,
  useEncoding,
  X86_PAGE,
} from './arch-generic.js';
export type { ArchConfig, ArchImpl, ArchPort, ArchVariant, EntryEncoding } from './arch-port.js';
export type { CheckId, Finding, LazyEvent, RelatedEvent } from './checks.js';
export { BugFound, bug, CHECKS, eventWhat, materialise } from './checks.js';
export { Ctx, Task } from './context.js';
export type { HeldLock, PendingIpi, TlbEntry } from './cpu.js';
export { Cpu } from './cpu.js';
export type { Footprint, FootprintEntry, ObjId } from './deps.js';
export {
  auxObj,
  CpuSub,
  cpuObj,
  describeObj,
  entryObj,
  FileSub,
  FolioSub,
  fileObj,
  folioObj,
  Global,
  globalObj,
  MmSub,
  mmContextObj,
  mmObj,
  packFootprint,
  pageFieldsObj,
  pageLifeObj,
  pageObj,
  ptlObj,
  rd,
  vmaObj,
} from './deps.js';
export type { ErrorCode } from './errors.js';
export {
  ArchModuleError,
  ModelError,
  PtlabError,
  ScenarioError,
  TraceError,
  UsageError,
} from './errors.js';
export { assertEffectWrites, footprintAuditOn, setFootprintAudit } from './footprint-audit.js';
export { pteAllocHuge, pteOffsetHuge } from './hugetlb.js';
export { hwWalk } from './hw-walk.js';
export { localIrqRestore, localIrqSave, smpCallFunction, tlbRemoveTableSyncOne } from './irq.js';
export type { KernelOptions } from './kernel.js';
export { FOLIO_ALLOC, Kernel, recordNextKernels } from './kernel.js';
export { kernelAtLeast } from './kernel-version.js';
export type { Limits } from './limits.js';
export { LIMITS, simulatedMemoryEstimate } from './limits.js';
export type { AnyLock, LockClass } from './locks.js';
export {
  downRead,
  downWrite,
  Lockdep,
  lockHeldBy,
  SINGLE_DEPTH_NESTING,
  SleepingLock,
  SpinLock,
  spinLock,
  spinTrylock,
  spinUnlock,
  upRead,
  upWrite,
} from './locks.js';
export type { TagValue } from './memory.js';
export { PhysMem, TAG_NAMES, Tag } from './memory.js';
export type { MmuNotifierSubscriber, VmaFlags } from './mm.js';
export {
  AddressSpace,
  addMmCounter,
  checkMm,
  Folio,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  MM_SWAPENTS,
  Mm,
  mmCounterFile,
  mmdrop,
  mmdropAsync,
  mmgrab,
  RSS_NAMES,
  Vma,
} from './mm.js';
export {
  checkRssMatchesMappings,
  checkZappedEmpty,
  checkZappedHugePmd,
  rssCheckFootprint,
} from './oracles.js';
export type { IndexMember, LruMember } from './page.js';
export { PageMeta, PG, UnionSlot } from './page.js';
export { allocPage, freePage, PageAllocator, POISON } from './page-alloc.js';
export {
  pageTableCheckCounters,
  pageTableCheckEnabled,
  pageTableCheckPteClearRange,
  pageTableCheckZero,
} from './page-table-check.js';
export { COLLAPSE_RECHECK_PMD_ONE_LOCK } from './patches.js';
export type { EntryPtr, PmdPtr, PmdVal, PtePtr } from './pgtable.js';
export {
  __pteOffsetMap,
  mmDecNrPtes,
  mmIncNrPtes,
  PMD_LOCK_NOT_RECHECKED,
  PTE_OFFSET_MAP_WITHOUT_RCU,
  pmdClear,
  pmdClearUnlocked,
  pmdHigh,
  pmdKey,
  pmdLock,
  pmdLockptr,
  pmdLow,
  pmdOffset,
  pmdPopulate,
  pmdpCollapseFlush,
  pmdpGet,
  pmdpGetAndClear,
  pmdpGetLockless,
  pmdpGetLocklessEnd,
  pmdpGetLocklessStart,
  pmdpGetLocklessSync,
  pmdSize,
  pmdValOf,
  pteAlloc,
  pteClear,
  pteIndex,
  pteLockptr,
  pteOffsetKernel,
  pteOffsetMap,
  pteOffsetMapLock,
  pteOffsetMapNolock,
  ptepGet,
  ptepGetAndClear,
  ptepGetUnderPtl,
  pteUnmap,
  pteUnmapUnlock,
  ptlOfTable,
  scanPtes,
  setPmdHuge,
  setPteAt,
} from './pgtable.js';
export type { PageTable, TableRef, TableState } from './pgtable-registry.js';
export { PageTables } from './pgtable-registry.js';
export type { RcuCallback, RcuHead } from './rcu.js';
export {
  callRcu,
  memRcuHead,
  pageRcuHead,
  RCU_QUEUE,
  RCU_QUEUE_TAIL,
  Rcu,
  rcuBarrier,
  rcuDaemon,
  rcuReadLock,
  rcuReadUnlock,
  stackRcuHead,
  synchronizeRcu,
} from './rcu.js';
export type { IotlbEntry, PscEntry } from './secondary-mmu.js';
export { SecondaryMmu, secondaryMmuTranslate } from './secondary-mmu.js';
export { kernelDigest } from './state-digest.js';
export type { Access, KCall, KGen, Leaf, Step } from './step.js';
export { NO_STEP, runToEnd, stepFootprint, stepLabel } from './step.js';
export type { MmuGather } from './tlb.js';
export {
  flushTlbMm,
  flushTlbRange,
  INJECT_TLB_BATCH_NOMEM,
  tlbFinishMmu,
  tlbGatherMmu,
  tlbRemoveTable,
} from './tlb.js';
export type { Translation } from './tlb-check.js';
export { tlbEntrySource, tlbFill, tlbLookup, tlbUse, tlbUseFootprint } from './tlb-check.js';
export { hasInvisible, visible } from './visible.js';
