export { RISCV_CONFIGS, RISCV64_SV39, RISCV64_SV39_IPI } from './riscv-configs.js';
export {
  NAPOT_CONT_ORDERS,
  napotContSize,
  napotSizes,
  riscvHugePteAlloc,
  riscvHugePteOffset,
} from './riscv-hugetlb.js';
export type { PteDtor } from './riscv-pgalloc.js';
export { riscvPteFreeTlb, riscvTlbRemovePtdesc, riscvTlbRemoveTableFree } from './riscv-pgalloc.js';
export {
  flagsOf,
  PAGE_BASE,
  PAGE_READ,
  PAGE_WRITE,
  pageValToPfn,
  pfnEntry,
  RISCV_PAGE,
} from './riscv-pgtable.js';
export { RiscvArch, riscv, riscv as default } from './riscv-port.js';
export { RISCV_HUGETLB_UNBALANCED_MAP, RISCV_VARIANTS } from './riscv-variants.js';
