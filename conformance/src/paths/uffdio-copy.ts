import type { Ctx, KGen } from '@ptlab/core';
import { uffdioCopy as copy } from '@ptlab/mm';
import { z } from 'zod';
import { addrListSchema, mmOf, type ScenarioAddr, scenarioAddr } from './common.js';
import { definePath, type World } from './types.js';

export const uffdioCopy = definePath({
  description:
    'a userfaultfd monitor issuing ioctl(UFFDIO_COPY) of one page at each of addrs in turn (a private shmem VMA gets an anonymous, as-if-COWed page), retrying on -EAGAIN',
  kernel: 'userfaultfd_copy() → mfill_atomic() → mfill_atomic_install_pte() — mm/userfaultfd.c',
  args: z.strictObject({ mm: z.string(), addrs: addrListSchema.min(1) }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) => (ctx) => uffdioCopyTask(ctx, w, a.mm, a.addrs),
});

/** The thread's body: one UFFDIO_COPY per address, in turn. */
function* uffdioCopyTask(ctx: Ctx, w: World, mmId: string, addrs: readonly ScenarioAddr[]): KGen {
  const mm = mmOf(w, mmId);
  for (const addr of addrs) yield* copy(ctx, mm, scenarioAddr(w, addr));
}
