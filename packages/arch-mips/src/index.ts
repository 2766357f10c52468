export { MIPS_CONFIGS, MIPS32_XPA, MIPS64 } from './mips-configs.js';
export type { MipsEncoding } from './mips-pgtable.js';
export {
  hasBit,
  INVALID_PTE_TABLE,
  R4K64,
  R4K64_ENCODING,
  XPA,
  XPA_ENCODING,
  xpaHigh,
  xpaLow,
  xpaPte,
} from './mips-pgtable.js';
export { MipsArch, mips, mips as default } from './mips-port.js';
export { updateMmuCache, updateTlb } from './mips-tlb.js';
export { MIPS_UPDATE_TLB_UNBALANCED, MIPS_VARIANTS } from './mips-variants.js';
