import type { ArchConfig, ArchImpl, ArchPort } from '@ptlab/core';
import { S390_CONFIGS } from './s390-configs.js';
import { S390_V66_DESIGN, S390FragmentArch, S390FullPageArch } from './s390-pgalloc.js';
import { S390_VARIANT_DESIGNS, S390_VARIANTS } from './s390-variants.js';

/**
 * The s390 ArchPort: v6.6 with 2K fragments (s390-2k), v6.7+ with one table
 * per page (s390-4k), and a v6.6 KVM host mm with PGSTEs (s390-pgste); the
 * historical pte_free_defer() designs of seeds/000-001 as variants of s390-2k.
 */
export const s390: ArchPort = {
  arch: 's390',
  configs: S390_CONFIGS,
  variants: S390_VARIANTS,
  create(config: ArchConfig, variant?: string): ArchImpl {
    if (!S390_CONFIGS.some((c) => c.id === config.id))
      throw new Error(
        `unknown s390 config "${config.id}" (known: ${S390_CONFIGS.map((c) => c.id).join(', ')})`,
      );
    let design = S390_V66_DESIGN;
    if (variant !== undefined) {
      const v = S390_VARIANTS.find((x) => x.id === variant);
      const d = S390_VARIANT_DESIGNS[variant];
      if (!v || !d) throw new Error(`unknown s390 variant "${variant}"`);
      if (!v.configs.includes(config.id))
        throw new Error(`variant ${variant} applies to ${v.configs.join(', ')}, not ${config.id}`);
      design = d;
    }
    if (config.id === 's390-4k') return new S390FullPageArch(config, variant);
    return new S390FragmentArch(config, variant, {
      pgsteMms: config.id === 's390-pgste',
      design,
    });
  },
};
