export type { PowerpcConsts, PowerpcMmu } from './powerpc-configs.js';
export {
  POWERPC_CONFIGS,
  PPC32_8XX,
  PPC64_HASH_64K,
  PPC64_RADIX_4K,
  PPC64_RADIX_64K,
  powerpcConsts,
} from './powerpc-configs.js';
export { HUGETLB_8XX_PTE_SIZES, hugePteAlloc8xx, hugePteOffset8xx } from './powerpc-hugetlb.js';
export type { PteFreePolicy } from './powerpc-pgalloc.js';
export {
  INJECT_PTE_ALLOC_NOMEM,
  MAINLINE_POLICY,
  PowerpcPgalloc,
  PTE_FRAG_KEY,
  pteFragGet,
  ptFragRefcountObj,
} from './powerpc-pgalloc.js';
export {
  assertPteLocked,
  BOOK3S64,
  Book3s64Encoding,
  clearBits,
  flushHashTablePmdRange,
  H_PTE_NONE_MASK,
  hasBit,
  hashPmdpCollapseFlush,
  Nohash8xxEncoding,
  PTE_8XX,
  RADIX_PTE_NONE_MASK,
  radixPmdpCollapseFlush,
  serializeAgainstPteLookup,
} from './powerpc-pgtable.js';
export { PowerpcArch, powerpc, powerpc as default } from './powerpc-port.js';
export type { PowerpcVariantId } from './powerpc-variants.js';
export {
  ALWAYS_RCU_POLICY,
  POWERPC_8XX_HUGETLB_UNBALANCED_MAP,
  POWERPC_ALWAYS_RCU,
  POWERPC_FRAG_DESTROY_CLEAR_ACTIVE,
  POWERPC_HASH_FLUSH_UNBALANCED_MAP,
  POWERPC_V1_SHARED_RCU_HEAD,
  POWERPC_V2_REDEFER,
  POWERPC_VARIANT_POLICIES,
  POWERPC_VARIANTS,
  PTE_FREE_DEFERRED,
  V1_SHARED_RCU_HEAD_POLICY,
  V2_REDEFER_POLICY,
} from './powerpc-variants.js';
