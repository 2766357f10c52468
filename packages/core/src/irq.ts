import { bug } from './checks.js';
import type { Ctx } from './context.js';
import type { Cpu, PendingIpi } from './cpu.js';
import { type FootprintEntry, rd } from './deps.js';
import type { KGen } from './step.js';

/** local_irq_save() — include/linux/irqflags.h */
export function* localIrqSave(ctx: Ctx): KGen {
  // Interrupts off make the CPU an RCU reader: the reader object only if it was not one.
  const c = ctx.cpu;
  yield ctx.stepDynamic('local_irq_save()', () =>
    c.inRcuReader ? c.irqObj : [c.irqObj, c.readerEnterObj],
  );
  c.irqOff++;
}

/**
 * local_irq_restore() — include/linux/irqflags.h: pending IPIs are taken as
 * interrupts come back on. The handlers the model sends (TLB flushes, empty
 * syncs) touch only this CPU's TLB, so the TLB is in the footprint only when
 * there are some to take: both inputs of that choice (the nesting count, the
 * pending list, which senders change writing this CPU's irq object) are in
 * the irq object the step writes.
 */
export function* localIrqRestore(ctx: Ctx): KGen {
  const c0 = ctx.cpu;
  yield ctx.stepDynamic('local_irq_restore()', () => {
    const fp = [c0.irqObj];
    if (c0.irqOff === 1 && c0.pendingIpis.some(runsHandler)) fp.push(c0.tlbObj);
    // Leaving the CPU's last read-side section (a quiescent state): see CpuSub.quiescent.
    if (c0.irqOff === 0 || !c0.readerAfter(0, -1)) fp.push(c0.quiescentObj);
    return fp;
  });
  const c = ctx.cpu;
  if (c.irqOff === 0)
    bug('context-leak', `${c.name} ${ctx.fn}: local_irq_restore() with interrupts already on`);
  const was = c.inRcuReader;
  c.irqOff--;
  if (c.irqOff === 0) takePendingIpis(c);
  c.noteMaybeQuiescent(was);
}

/** A pending IPI with a handler (a flush): taking it touches the CPU's TLB. Hoisted: restore's footprint asks on every scheduling. */
const runsHandler = (i: PendingIpi): boolean => i.handler !== null;

function takePendingIpis(c: Cpu): void {
  while (c.pendingIpis.length) {
    const ipi = c.pendingIpis.shift();
    if (!ipi) break;
    ipi.handler?.(c);
    ipi.done();
  }
}

/**
 * smp_call_function_many(wait=1) — kernel/smp.c: interrupt every target and
 * wait until each has run `handler`, i.e. had interrupts enabled. A target
 * with interrupts on takes it at once; one with interrupts off takes it when it
 * re-enables them, and the sender waits. `handler` may touch only the target's
 * TLB (the handlers the model sends are TLB flushes); null is an empty
 * handler (tlb_remove_table_smp_sync(), do_serialize()), which touches no
 * TLB, so the IPI does not conflict with the targets' TLB fills and hits.
 * `runLocally` also runs it on the sender (smp_call_function_many() with
 * SCF_RUN_LOCAL, as flush_tlb_mm_range() does).
 */
export function* smpCallFunction(
  ctx: Ctx,
  targets: readonly Cpu[],
  name: string,
  handler: ((cpu: Cpu) => void) | null,
  runLocally = false,
): KGen {
  let outstanding = 0;
  const others = targets.filter((c) => c !== ctx.cpu);
  const fp: FootprintEntry[] = [];
  for (const t of others) {
    fp.push(t.irqObj);
    if (handler) fp.push(t.tlbObj);
  }
  if (runLocally && handler) fp.push(ctx.cpu.tlbObj);
  yield ctx.step(
    () => `send IPI ${name} to ${others.map((c) => c.name).join(',') || 'nobody'}`,
    fp,
  );
  if (runLocally) handler?.(ctx.cpu);
  const waitingOn: FootprintEntry[] = [];
  for (const t of others) {
    if (t.irqOff === 0) {
      handler?.(t);
    } else {
      outstanding++;
      waitingOn.push(rd(t.irqObj));
      t.pendingIpis.push({ name, handler, done: () => outstanding-- });
    }
  }
  if (outstanding > 0) {
    ctx.k.note(
      () =>
        `IPI ${name} waits for ${others
          .filter((c) => c.irqOff > 0)
          .map((c) => c.name)
          .join(',')} (interrupts off)`,
    );
    // Only the targets re-enabling interrupts can end the wait (Step.wait).
    yield ctx.step(
      () => `wait for IPI ${name}`,
      [],
      'r',
      () => outstanding === 0,
      waitingOn,
    );
  }
}

/**
 * tlb_remove_table_sync_one() — mm/mmu_gather.c: IPI every CPU and wait. Not a
 * grace period: it only waits out interrupt-disabled walkers (gup_fast).
 * An empty stub without CONFIG_MMU_GATHER_RCU_TABLE_FREE.
 */
export function* tlbRemoveTableSyncOne(ctx: Ctx): KGen {
  if (!ctx.k.config.rcuTableFree) return;
  yield* ctx.call(
    'tlb_remove_table_sync_one',
    smpCallFunction(ctx, ctx.k.cpus, 'tlb_remove_table_smp_sync', null),
  );
}
