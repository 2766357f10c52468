export { SPARC_CONFIGS, SPARC32, SPARC64 } from './sparc-configs.js';
export { getUserInsn } from './sparc-fault.js';
export { SPARC64_HPAGE_64K, sparc64HugePteAlloc, sparc64HugePteOffset } from './sparc-hugetlb.js';
export {
  SPARC64_TABLE_IS_PAGE,
  SRMMU_PTE_TABLE_SIZE,
  SrmmuNocachePool,
  srmmuPteAllocOne,
  srmmuPteFree,
} from './sparc-pgalloc.js';
export { hasBit, SRMMU, SUN4V } from './sparc-pgtable.js';
export { Sparc32Arch, Sparc64Arch, sparc, sparc as default } from './sparc-port.js';
export {
  SPARC_HUGETLB_UNBALANCED_MAP,
  SPARC_MAP_CANNOT_FAIL,
  SPARC_VARIANTS,
} from './sparc-variants.js';
