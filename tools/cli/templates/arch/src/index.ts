// The package's API: the port as the default export (what `ptlab --arch-module`
// and runConformance() take), and its parts by name.
export { __archCamel__4k, __archCamel__Configs } from './__arch__-configs.js';
export { hugetlbPteSizes } from './__arch__-hugetlb.js';
export { pteFreeDefer, tlbRemoveTableOne } from './__arch__-pgalloc.js';
export { __archCamel__Encoding, PAGE } from './__arch__-pgtable.js';
export { __ArchPascal__Arch, __archCamel__, __archCamel__ as default } from './__arch__-port.js';
export { __archCamel__Variants, FREE_DEFER_AT_ONCE } from './__arch__-variants.js';
