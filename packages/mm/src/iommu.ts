/**
 * A device's DMA through an IOMMU doing shared virtual addressing on `mm`
 * (core secondary-mmu.ts): translate from the IOMMU's caches or by walking the
 * CPU page tables; on a translation fault the device sends a page request,
 * which the kernel services like a CPU fault — iommu_sva_handle_iopf() →
 * handle_mm_fault(), drivers/iommu/iommu-sva.c — and the device retries.
 */
import { type Ctx, type KGen, type SecondaryMmu, secondaryMmuTranslate } from '@ptlab/core';
import { handleUserFault } from './fault.js';
import { checkUserPage, checkUserPageFootprint } from './user-access.js';

/** Page requests served for one access before the device gives up. */
const MAX_PAGE_REQUESTS = 4;

/** One DMA read at `addr` through `smmu`; returns the pfn reached, or null (the device gets an error). */
export function* iommuDmaRead(ctx: Ctx, smmu: SecondaryMmu, addr: number): KGen<number | null> {
  return yield* ctx.call('device DMA', iommuDmaReadBody(ctx, smmu, addr));
}

/** The body of iommuDmaRead(). */
function* iommuDmaReadBody(ctx: Ctx, smmu: SecondaryMmu, addr: number): KGen<number | null> {
  for (let requests = 0; ; requests++) {
    const pfn = yield* secondaryMmuTranslate(ctx, smmu, addr, () =>
      checkUserPageFootprint(ctx, smmu.mm, addr),
    );
    if (pfn !== null) {
      checkUserPage(ctx, smmu.mm, addr, pfn, `${smmu.name} DMA from`);
      return pfn;
    }
    if (requests === MAX_PAGE_REQUESTS) return null;
    const ok = yield* ctx.call('iommu_sva_handle_iopf', handleUserFault(ctx, smmu.mm, addr, false));
    if (!ok) return null;
  }
}
