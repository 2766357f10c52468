export type { ArmConfig, ArmMmu } from './arm-configs.js';
export { ARM_CLASSIC, ARM_CONFIGS, ARM_LPAE, ARM64_4K, armConfigOf } from './arm-configs.js';
export type { AdjustPteFn } from './arm-fault.js';
export {
  adjustPte,
  doAdjustPte,
  doPteLock,
  doPteUnlock,
  makeCoherent,
  updateMmuCache,
} from './arm-fault.js';
export {
  ARM64_CONT_PMDS,
  ARM64_CONT_PTES,
  arm64HugePteAlloc,
  arm64HugePteOffset,
  contPmdSize,
  contPteSize,
} from './arm-hugetlb.js';
export { ArmPgalloc } from './arm-pgalloc.js';
export type { ArmFormat } from './arm-pgtable.js';
export {
  ARM64_FORMAT,
  ARM64_PTE,
  CLASSIC_FORMAT,
  formatOf,
  L_PTE_2LEVEL,
  L_PTE_3LEVEL,
  LPAE_FORMAT,
  PMD_2LEVEL,
  PMD_LONG,
} from './arm-pgtable.js';
export { ArmArch, arm, arm as default } from './arm-port.js';
export type { ArmPolicy, ArmVariantId } from './arm-variants.js';
export {
  ARM_ADJUST_PTE_CANNOT_FAIL,
  ARM_ADJUST_PTE_LOCKPTR,
  ARM_MAINLINE,
  ARM_VARIANT_POLICIES,
  ARM_VARIANTS,
  ARM64_HUGETLB_UNBALANCED_MAP,
} from './arm-variants.js';
