import { ModelError } from '@ptlab/core';
import { userLoad as load, tlbWarm } from '@ptlab/mm';
import { z } from 'zod';
import { addrListSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

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
  run: (w, a) =>
    function* (ctx) {
      const mm = mmOf(w, a.mm);
      // Before this task's first step: set-up, like the scenario's page tables.
      for (const addr of a.warm)
        if (!tlbWarm(ctx, mm, scenarioAddr(w, addr)))
          throw new ModelError(
            'conformance',
            `user_load warm: nothing maps ${JSON.stringify(addr)}`,
          );
      for (const addr of a.addrs) yield* load(ctx, mm, scenarioAddr(w, addr));
    },
});
