export { X86_64, X86_CONFIGS } from './x86-configs.js';
export { X86_VARIANTS, X86Arch, x86, x86 as default } from './x86-port.js';
