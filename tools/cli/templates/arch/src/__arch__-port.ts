/**
 * __ArchPascal__Arch: the __arch__ ArchImpl, and the ArchPort ptlab loads.
 * GenericArch is the kernel's generic page-table code, so the class overrides
 * only what arch/__arch__ defines itself (`#define pte_free_defer
 * pte_free_defer` in the kernel is a method override here).
 */
import {
  type ArchConfig,
  type ArchPort,
  type Ctx,
  GenericArch,
  type KGen,
  type Mm,
  type PtePtr,
  useEncoding,
} from '@ptlab/core';
import { __archCamel__Configs } from './__arch__-configs.js';
import { hugePteAlloc, hugePteOffset, hugetlbPteSizes } from './__arch__-hugetlb.js';
import { pteFreeDefer, tlbRemoveTableOne } from './__arch__-pgalloc.js';
import { __archCamel__Encoding } from './__arch__-pgtable.js';
import { __archCamel__Variants } from './__arch__-variants.js';

export class __ArchPascal__Arch extends GenericArch {
  override readonly hugetlbPteSizes: readonly number[];

  constructor(config: ArchConfig, variant?: string) {
    super(config, variant);
    useEncoding(this, __archCamel__Encoding);
    this.hugetlbPteSizes = hugetlbPteSizes(config);
  }

  override *pteFreeDefer(ctx: Ctx, mm: Mm, pa: number): KGen {
    yield* pteFreeDefer(this, ctx, mm, pa);
  }

  override *tlbRemoveTableOne(ctx: Ctx, pa: number): KGen {
    yield* tlbRemoveTableOne(this, ctx, pa);
  }

  override *hugePteAlloc(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    return yield* hugePteAlloc(this.hugetlbPteSizes, ctx, mm, addr, size);
  }

  override *hugePteOffset(ctx: Ctx, mm: Mm, addr: number, size: number): KGen<PtePtr | null> {
    return yield* hugePteOffset(this.hugetlbPteSizes, ctx, mm, addr, size);
  }
}

/** The port: its configs, its variants, and a fresh ArchImpl per boot. */
export const __archCamel__: ArchPort = {
  arch: '__arch__',
  configs: __archCamel__Configs,
  variants: __archCamel__Variants,
  create: (config, variant) => new __ArchPascal__Arch(config, variant),
};
