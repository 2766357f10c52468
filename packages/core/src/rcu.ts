import { bug, type RelatedEvent } from './checks.js';
import type { Ctx } from './context.js';
import type { Cpu } from './cpu.js';
import { type KGen, SYNC_OBJ } from './step.js';

/** A queued call_rcu() callback and the readers its grace period must outlast. */
export interface RcuCallback {
  readonly head: string;
  readonly fnName: string;
  readonly fn: (ctx: Ctx) => KGen;
  /** CPUs that were inside a read-side section when the callback was queued. */
  readonly waitFor: Set<Cpu>;
  readonly queuedAt: RelatedEvent;
}

/**
 * The RCU grace-period engine. A callback may run once every CPU that was a
 * reader when it was queued has left its read-side section; *when* it runs is
 * a step of the `rcu` daemon task, so the explorer chooses where a grace period
 * ends. Readers are rcu_read_lock() sections and interrupt-disabled regions
 * (consolidated RCU, v5.0+). Spinlocks are not counted as readers: that is the
 * PREEMPT_RT contract, the strictest one (see docs/model.md).
 */
export class Rcu {
  readonly queue: RcuCallback[] = [];
  private readonly queued = new Map<string, RcuCallback>();
  invoked = 0;
  private readonly cpus: () => readonly Cpu[];

  constructor(cpus: () => readonly Cpu[]) {
    this.cpus = cpus;
  }

  enqueue(ctx: Ctx, head: string, fnName: string, fn: (ctx: Ctx) => KGen): void {
    const prev = this.queued.get(head);
    if (prev) {
      bug(
        'rcu-head-reused',
        `${ctx.cpu.name} ${ctx.fn}: call_rcu(${head}, ${fnName}) while ${head} is still queued for ${prev.fnName} since step ${prev.queuedAt.step} (${prev.queuedAt.cpu} ${prev.queuedAt.fn}): the first callback is lost`,
        [prev.queuedAt],
      );
    }
    const waitFor = new Set(this.cpus().filter((c) => c.inRcuReader));
    const cb: RcuCallback = {
      head,
      fnName,
      fn,
      waitFor,
      queuedAt: ctx.here(`call_rcu(${head}, ${fnName})`),
    };
    this.queue.push(cb);
    this.queued.set(head, cb);
  }

  /** A CPU left its read-side section: no callback waits for it any more. */
  quiescent(cpu: Cpu): void {
    if (cpu.inRcuReader) return;
    for (const cb of this.queue) cb.waitFor.delete(cpu);
  }

  /** The oldest callback's grace period may end now (callbacks run in queue order). */
  get gracePeriodCanEnd(): boolean {
    const first = this.queue[0];
    return first !== undefined && first.waitFor.size === 0;
  }

  /** Take the oldest callback whose grace period has ended. */
  take(): RcuCallback {
    const cb = this.queue.shift();
    if (!cb) throw new Error('rcu: no callback to run');
    this.queued.delete(cb.head);
    this.invoked++;
    return cb;
  }

  isQueued(head: string): boolean {
    return this.queued.has(head);
  }
}

/** rcu_read_lock() — include/linux/rcupdate.h */
export function* rcuReadLock(ctx: Ctx): KGen {
  yield ctx.step('rcu_read_lock()', SYNC_OBJ);
  ctx.cpu.rcuNesting++;
}

/** rcu_read_unlock() — include/linux/rcupdate.h */
export function* rcuReadUnlock(ctx: Ctx): KGen {
  yield ctx.step('rcu_read_unlock()', SYNC_OBJ);
  if (ctx.cpu.rcuNesting === 0) {
    bug(
      'rcu-unbalanced',
      `${ctx.cpu.name} ${ctx.fn}: rcu_read_unlock() outside any rcu_read_lock() section`,
    );
  }
  ctx.cpu.rcuNesting--;
  ctx.k.rcu.quiescent(ctx.cpu);
}

/**
 * call_rcu() — kernel/rcu/tree.c. `head` names the rcu_head's storage
 * (e.g. "pt_rcu_head of pfn 12"): queuing the same storage twice is a finding.
 */
export function* callRcu(ctx: Ctx, head: string, fnName: string, fn: (ctx: Ctx) => KGen): KGen {
  yield ctx.step(`call_rcu(${head}, ${fnName})`, SYNC_OBJ);
  ctx.k.rcu.enqueue(ctx, head, fnName, fn);
  ctx.k.note(() => `queued ${fnName} on ${head}`);
}

/** synchronize_rcu() — kernel/rcu/tree.c: blocks until a full grace period has elapsed. */
export function* synchronizeRcu(ctx: Ctx): KGen {
  // RCU_LOCKDEP_WARN("Illegal synchronize_rcu() in RCU read-side critical section") comes first;
  // might_sleep() only later, in wait_rcu_gp().
  if (ctx.cpu.rcuNesting > 0) {
    bug(
      'synchronize-rcu-in-reader',
      `${ctx.cpu.name} ${ctx.fn}: synchronize_rcu() inside rcu_read_lock(): the grace period waits for this very reader`,
    );
  }
  ctx.mightSleep('synchronize_rcu()');
  let done = false;
  const head = `synchronize_rcu completion of ${ctx.cpu.name}@${ctx.k.stepNo}`;
  yield* callRcu(ctx, head, 'wakeme_after_rcu', function* () {
    done = true;
  });
  yield ctx.step('wait for grace period', SYNC_OBJ, 'r', () => done);
}

/** rcu_barrier() — kernel/rcu/tree.c: waits until every queued callback has run. */
export function* rcuBarrier(ctx: Ctx): KGen {
  ctx.mightSleep('rcu_barrier()');
  const rcu = ctx.k.rcu;
  yield ctx.step('rcu_barrier()', SYNC_OBJ, 'r', () => rcu.queue.length === 0);
}

/**
 * The grace-period engine as a task: each step ends one grace period and runs
 * the oldest ready callback in softirq context (rcu_core(), kernel/rcu/tree.c).
 */
export function* rcuDaemon(ctx: Ctx): KGen {
  const rcu = ctx.k.rcu;
  for (;;) {
    yield ctx.step('grace period ends', SYNC_OBJ, 'w', () => rcu.gracePeriodCanEnd);
    const cb = rcu.take();
    ctx.k.note(() => `grace period for ${cb.head} (queued at step ${cb.queuedAt.step}) ended`);
    ctx.cpu.inSoftirq = true;
    try {
      yield* ctx.call(cb.fnName, cb.fn(ctx));
    } finally {
      ctx.cpu.inSoftirq = false;
    }
    rcu.quiescent(ctx.cpu);
  }
}
