import { type Ctx, type KGen, ModelError } from '@ptlab/core';
import { userLoad as load, tlbWarm } from '@ptlab/mm';
import { z } from 'zod';
import { addrListSchema, mmOf, type ScenarioAddr, scenarioAddr } from './common.js';
import { definePath, type World } from './types.js';

export const userLoad = definePath({
  description:
    "a user program reading addrs in turn: TLB hit, or hardware walk filling the TLB, or page fault and retry; each read must reach the page the mapping holds. `warm`: addresses the program touched before the scenario starts, whose translations its CPU's TLB already holds",
  kernel:
    'the CPU: TLB lookup / page walk; do_user_addr_fault() → handle_mm_fault() — arch/x86/mm/fault.c, mm/memory.c',
  args: z.strictObject({
    mm: z.string(),
    addrs: addrListSchema.min(1),
    warm: addrListSchema.default([]),
  }),
  refs: (a) => [
    { kind: 'mm', field: 'mm', mm: a.mm },
    ...a.warm.map((addr, i) => ({ kind: 'mapped' as const, field: `warm.${i}`, mm: a.mm, addr })),
  ],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => userLoadTask(ctx, w, a.mm, a.addrs, a.warm),
});

/** The thread's body: warm its TLB, then one load per address, in turn. */
function* userLoadTask(
  ctx: Ctx,
  w: World,
  mmId: string,
  addrs: readonly ScenarioAddr[],
  warm: readonly ScenarioAddr[],
): KGen {
  const mm = mmOf(w, mmId);
  // Before this task's first step: set-up, like the scenario's page tables.
  for (const addr of warm)
    if (!tlbWarm(ctx, mm, scenarioAddr(w, addr)))
      throw new ModelError('conformance', `user_load warm: nothing maps ${JSON.stringify(addr)}`);
  for (const addr of addrs) yield* load(ctx, mm, scenarioAddr(w, addr));
}
