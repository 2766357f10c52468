export { S390_2K, S390_4K, S390_CONFIGS, S390_PGSTE } from './s390-configs.js';
export type { S390PgallocDesign } from './s390-pgalloc.js';
export { aapp, S390_V66_DESIGN, S390FragmentArch, S390FullPageArch } from './s390-pgalloc.js';
export type { S390Context } from './s390-pgtable.js';
export { PAGE_TABLE_SIZE, S390_PAGE, S390_SEGMENT, S390Arch, s390Context } from './s390-pgtable.js';
export { s390, s390 as default } from './s390-port.js';
export {
  S390_LIST_IN_TABLE,
  S390_REUSE_BEFORE_GRACE_PERIOD,
  S390_V1_MMDROP_IN_CALLBACK,
  S390_V1_SHARED_RCU_HEAD,
  S390_VARIANT_DESIGNS,
  S390_VARIANTS,
} from './s390-variants.js';
