import { uffdioCopy as copy } from '@ptlab/mm';
import { z } from 'zod';
import { addrListSchema, mmOf, scenarioAddr } from './common.js';
import { definePath } from './types.js';

export const uffdioCopy = definePath({
  description:
    'a userfaultfd monitor issuing ioctl(UFFDIO_COPY) of one page at each of addrs in turn (a private shmem VMA gets an anonymous, as-if-COWed page), retrying on -EAGAIN',
  kernel: 'userfaultfd_copy() → mfill_atomic() → mfill_atomic_install_pte() — mm/userfaultfd.c',
  args: z.strictObject({ mm: z.string(), addrs: addrListSchema.min(1) }),
  refs: (a) => [{ kind: 'mm', field: 'mm', mm: a.mm }],
  mmOf: (a) => a.mm,
  run: (w, a) =>
    function* (ctx) {
      const mm = mmOf(w, a.mm);
      for (const addr of a.addrs) yield* copy(ctx, mm, scenarioAddr(w, addr));
    },
});
