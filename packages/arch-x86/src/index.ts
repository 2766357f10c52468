export type { X86Config, X86TlbRemoveTable } from './x86-configs.js';
export {
  X86_32_PAE,
  X86_64,
  X86_64_NR2,
  X86_64_PARAVIRT,
  X86_64_PT_RECLAIM,
  X86_64_PT_RECLAIM_NR2,
  X86_CONFIGS,
  x86TlbRemoveTable,
} from './x86-configs.js';
export { X86Arch, x86, x86 as default } from './x86-port.js';
export type { X86VariantId } from './x86-variants.js';
export {
  noIrqGuard,
  noLocklessSync,
  PAE_NO_IRQ_GUARD,
  PAE_NO_LOCKLESS_SYNC,
  semiRcuTlbRemoveTableOne,
  X86_SEMI_RCU_RECLAIM,
  X86_VARIANTS,
} from './x86-variants.js';
