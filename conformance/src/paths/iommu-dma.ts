import { type Ctx, type KGen, ModelError, type SecondaryMmu } from '@ptlab/core';
import { iommuDmaRead } from '@ptlab/mm';
import { z } from 'zod';
import { addrListSchema, mmOf, type ScenarioAddr, scenarioAddr } from './common.js';
import type { World } from './types.js';
import { definePath } from './types.js';

/** The mm's secondary MMU (mms.<id>.secondaryMmu in the scenario). */
function smmuOf(w: World, id: string): SecondaryMmu {
  const n = mmOf(w, id).notifiers.find((x) => x.name === `iommu(${id})`);
  if (!n) throw new ModelError('conformance', `mm "${id}" has no secondaryMmu`);
  return n as SecondaryMmu;
}

export const iommuDma = definePath({
  description:
    "a device reading addrs through an IOMMU that walks the mm's page tables and caches what it walked (paging-structure cache, IOTLB); page requests are served as faults",
  kernel:
    'IOMMU SVA translation; iommu_sva_handle_iopf() → handle_mm_fault() — drivers/iommu/iommu-sva.c',
  args: z.strictObject({ mm: z.string(), addrs: addrListSchema.min(1) }),
  refs: (a) => [{ kind: 'secondary-mmu', field: 'mm', mm: a.mm }],
  run: (w, a) => (ctx) => iommuDmaTask(ctx, w, a.mm, a.addrs),
});

/** The thread's body: one DMA read per address, in turn. */
function* iommuDmaTask(ctx: Ctx, w: World, mm: string, addrs: readonly ScenarioAddr[]): KGen {
  const smmu = smmuOf(w, mm);
  for (const addr of addrs) yield* iommuDmaRead(ctx, smmu, scenarioAddr(w, addr));
}
