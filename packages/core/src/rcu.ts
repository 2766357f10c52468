import { bug, type LazyEvent } from './checks.js';
import type { Ctx } from './context.js';
import type { Cpu } from './cpu.js';
import {
  type FootprintEntry,
  Global,
  globalObj,
  type ObjId,
  pageFieldsObj,
  RcuHeadAt,
  RcuHeadSub,
  rcuHeadObj,
  rd,
} from './deps.js';
import { ModelError } from './errors.js';
import { Tag } from './memory.js';
import type { LruMember, PageMeta } from './page.js';
import type { KGen, Leaf } from './step.js';

/**
 * The RCU callback queue's dependency objects: its front (the callback the
 * next grace period takes; only grace periods write it) and its order
 * (every call_rcu() appends). Appending and taking the front commute (both
 * orders leave the same queue and run the same callback). A grace period
 * *waits* on the call_rcu() that queued the callback it takes (RcuHead's
 * queued object: it cannot go first), and races with a call_rcu() only when
 * that one queues the rcu_head it frees again.
 */
export const RCU_QUEUE = globalObj(Global.rcuQueue);
export const RCU_QUEUE_TAIL = globalObj(Global.rcuQueueTail);

/**
 * Where an rcu_head lives. Its identity comes from memory, never from a label a
 * port chooses: the rcu_head in a struct page (ptdesc->pt_rcu_head, which
 * overlays lru/pt_list/pmd_huge_pte), one in page memory (the head of a
 * struct mmu_table_batch), or one on a CPU's stack (struct rcu_synchronize).
 * Two call_rcu()s on one storage while the first is queued is rcu-head-reused,
 * whatever the callers call it.
 */
export interface RcuHead {
  /** Storage identity. */
  readonly key: string;
  /** How a story names it. */
  readonly label: string;
  /** The struct page whose union slot it occupies, if any (call_rcu() writes the slot). */
  readonly page?: PageMeta | undefined;
  readonly member?: LruMember | undefined;
  /** Physical address of an rcu_head in memory (call_rcu() writes its two words). */
  readonly pa?: number | undefined;
  /** Written by every call_rcu() on it; the grace period taking its callback waits on it. */
  readonly queuedObj: ObjId;
  /** Written by the grace period taking its callback; read by a call_rcu() that queues it again. */
  readonly freedObj: ObjId;
}

/**
 * Heads made here: call_rcu() takes no other, so no caller can invent an
 * identity. The private field is the brand (`#issued in h`): it cannot be
 * copied or forged, and checking it costs a property test, where a WeakSet
 * of issued heads cost a hash insert per head and ephemeron work in every GC.
 */
class IssuedRcuHead implements RcuHead {
  readonly #issued = true;
  readonly queuedObj: ObjId;
  readonly freedObj: ObjId;
  constructor(
    readonly key: string,
    readonly label: string,
    readonly page: PageMeta | undefined,
    readonly member: LruMember | undefined,
    readonly pa: number | undefined,
    where: number,
    id: number,
  ) {
    this.queuedObj = rcuHeadObj(where, id, RcuHeadSub.queued);
    this.freedObj = rcuHeadObj(where, id, RcuHeadSub.freed);
  }

  static issued(h: unknown): boolean {
    return typeof h === 'object' && h !== null && #issued in h;
  }
}

/** The rcu_head in struct page (page->rcu_head, ptdesc->pt_rcu_head): words 1-2, shared with lru/pt_list. */
export function pageRcuHead(page: PageMeta, member: LruMember = 'pt_rcu_head'): RcuHead {
  return new IssuedRcuHead(
    `page:${page.pfn}`,
    `${member} of pfn ${page.pfn}`,
    page,
    member,
    undefined,
    RcuHeadAt.page,
    page.pfn,
  );
}

/**
 * An rcu_head stored in memory at physical address `pa` (the head of a struct
 * mmu_table_batch): call_rcu() writes its next/func words there, so one placed
 * inside a live page table is seen by the table's walkers.
 */
export function memRcuHead(pa: number, label: string): RcuHead {
  return new IssuedRcuHead(
    `mem:${pa}`,
    label,
    undefined,
    undefined,
    pa,
    RcuHeadAt.mem,
    Math.floor(pa / 4),
  );
}

/** An rcu_head on `cpu`'s stack (struct rcu_synchronize in synchronize_rcu()). */
export function stackRcuHead(cpu: Cpu, label: string): RcuHead {
  return new IssuedRcuHead(
    `stack:${cpu.id}`,
    label,
    undefined,
    undefined,
    undefined,
    RcuHeadAt.stack,
    cpu.id,
  );
}

/** A queued call_rcu() callback and the readers its grace period must outlast. */
export interface RcuCallback {
  readonly head: RcuHead;
  readonly fnName: string;
  readonly fn: (ctx: Ctx) => KGen;
  /** CPUs inside a read-side section when it was queued, with their quiescent count then. */
  readonly waitFor: readonly { readonly cpu: Cpu; readonly count: number }[];
  readonly queuedAt: LazyEvent;
}

/**
 * The RCU grace-period engine. A callback may run once every CPU that was a
 * reader when it was queued has since passed through a quiescent state;
 * *when* it runs is a step of the `rcu` daemon task, so the explorer chooses
 * where a grace period ends. Readers are rcu_read_lock() sections,
 * interrupt-disabled regions and RCU callbacks themselves (consolidated RCU,
 * v5.0+). Spinlocks are not counted as readers: that is the PREEMPT_RT
 * contract, the strictest one (see docs/model.md). Callbacks run one at a time
 * on the rcu daemon's CPU, so a callback never waits for that CPU.
 */
export class Rcu {
  readonly queue: RcuCallback[] = [];
  private readonly queued = new Map<string, RcuCallback>();
  invoked = 0;
  private readonly cpus: () => readonly Cpu[];
  /** The CPU callbacks run on (the rcu daemon's), once started. */
  daemonCpu: Cpu | null = null;

  constructor(cpus: () => readonly Cpu[]) {
    this.cpus = cpus;
  }

  enqueue(ctx: Ctx, head: RcuHead, fnName: string, fn: (ctx: Ctx) => KGen): void {
    const prev = this.queued.get(head.key);
    if (prev) {
      bug(
        'rcu-head-reused',
        `${ctx.cpu.name} ${ctx.fn}: call_rcu(${head.label}, ${fnName}) while that rcu_head is still queued for ${prev.fnName} since step ${prev.queuedAt.step} (${prev.queuedAt.cpu} ${prev.queuedAt.fn}, as ${prev.head.label}): the first callback is lost`,
        [prev.queuedAt],
      );
    }
    const waitFor: { cpu: Cpu; count: number }[] = [];
    for (const c of this.cpus())
      if (c !== this.daemonCpu && c.inRcuReader) waitFor.push({ cpu: c, count: c.quiescentCount });
    const cb: RcuCallback = {
      head,
      fnName,
      fn,
      waitFor,
      queuedAt: ctx.here(() => `call_rcu(${head.label}, ${fnName})`),
    };
    this.queue.push(cb);
    this.queued.set(head.key, cb);
  }

  /** The oldest callback's grace period may end now (callbacks run in queue order). */
  get gracePeriodCanEnd(): boolean {
    const first = this.queue[0];
    if (first === undefined) return false;
    for (const w of first.waitFor) if (w.cpu.quiescentCount === w.count) return false;
    return true;
  }

  /** rcu_heads some grace period has freed (by key): a call_rcu() on one again races with that. */
  private readonly freed = new Set<string>();

  /**
   * What a grace-period end touches: the queue's front and the rcu_head it
   * frees for reuse (not the queue's order: see RCU_QUEUE).
   */
  gracePeriodFootprint(): FootprintEntry[] {
    const first = this.queue[0];
    return first ? [RCU_QUEUE, first.head.freedObj] : [RCU_QUEUE];
  }

  /**
   * What call_rcu() on `head` touches in the queue: the order, the head's
   * queuing, and, if a grace period freed it before, that freeing (whether it
   * came first decides rcu-head-reused). A head never freed has no grace
   * period that could take it before this call, and only a grace period adds
   * one to the freed set, writing the object this call then reads.
   */
  callFootprint(head: RcuHead): FootprintEntry[] {
    const fp = this.readersFootprint();
    fp.push(RCU_QUEUE_TAIL, head.queuedObj);
    if (this.freed.has(head.key)) fp.push(rd(head.freedObj));
    return fp;
  }

  /**
   * What a grace-period end waits on (Step.wait): the reader state of the CPUs
   * its oldest callback waits for. Their quiescent counts only grow, so a step
   * of theirs can end the wait but never undo it; the end is ordered after the
   * quiescent states that allowed it. (The queue itself is a plain access.)
   */
  gracePeriodWait(): FootprintEntry[] {
    const fp: FootprintEntry[] = [];
    const first = this.queue[0];
    if (!first) return fp;
    // And the call_rcu() that queued it: the grace period cannot end before it.
    fp.push(rd(first.head.queuedObj));
    for (const w of first.waitFor) fp.push(rd(w.cpu.quiescentObj));
    return fp;
  }

  /** Take the oldest callback whose grace period has ended. */
  take(): RcuCallback {
    const cb = this.queue.shift();
    if (!cb) throw new Error('rcu: no callback to run');
    this.queued.delete(cb.head.key);
    this.freed.add(cb.head.key);
    this.invoked++;
    return cb;
  }

  isQueued(head: RcuHead): boolean {
    return this.queued.has(head.key);
  }

  /** What call_rcu() reads: every CPU's reader state (who the new callback must wait for). */
  readersFootprint(): FootprintEntry[] {
    const fp: FootprintEntry[] = [];
    for (const c of this.cpus()) if (c !== this.daemonCpu) fp.push(rd(c.readerEnterObj));
    return fp;
  }
}

/** rcu_read_lock() — include/linux/rcupdate.h */
export function rcuReadLock(ctx: Ctx): Leaf {
  // The entry object only when this starts a section (CpuSub.readerEnter): inside one (an
  // outer rcu_read_lock(), interrupts off) call_rcu() sees the same reader either way. The
  // inputs are this CPU's own counts, which only this task changes.
  const c = ctx.cpu;
  return ctx.leafDynamic(
    'rcu_read_lock()',
    () => (c.inRcuReader ? c.rcuObj : [c.rcuObj, c.readerEnterObj]),
    'w',
    () => {
      c.rcuNesting++;
    },
  );
}

/** rcu_read_unlock() — include/linux/rcupdate.h */
export function rcuReadUnlock(ctx: Ctx): Leaf {
  const c = ctx.cpu;
  return ctx.leafDynamic(
    'rcu_read_unlock()',
    () => (c.rcuNesting > 0 && c.readerAfter(-1, 0) ? c.rcuObj : [c.rcuObj, c.quiescentObj]),
    'w',
    () => rcuReaderLeft(ctx, c),
  );
}

function rcuReaderLeft(ctx: Ctx, c: Cpu): void {
  if (c.rcuNesting === 0) {
    bug(
      'rcu-unbalanced',
      `${c.name} ${ctx.fn}: rcu_read_unlock() outside any rcu_read_lock() section`,
    );
  }
  const was = c.inRcuReader;
  c.rcuNesting--;
  c.noteMaybeQuiescent(was);
}

/**
 * call_rcu() — kernel/rcu/tree.c. Queues `fn` on the rcu_head at `head`
 * (where it lives in memory, see RcuHead); queuing one storage twice is a
 * finding. An rcu_head in struct page overwrites the union it shares.
 *
 * `fn` runs later, as a step of the rcu task chosen by the explorer, once
 * every CPU that was an RCU reader when it was queued has passed a quiescent
 * state. It runs in softirq (rcu_core()) on the rcu task's CPU, as every RCU
 * callback does: whatever the model knows may sleep (a sleeping lock, a
 * folio lock, synchronize_rcu(), the final __mmdrop()) is `sleep-in-atomic`
 * there. Callbacks run one at a time, in queue order; `fnName` names the
 * callback in stories.
 */
export function* callRcu(ctx: Ctx, head: RcuHead, fnName: string, fn: (ctx: Ctx) => KGen): KGen {
  if (!IssuedRcuHead.issued(head))
    throw new ModelError(
      ctx.fn,
      `call_rcu(${String(head?.label)}): an rcu_head must come from pageRcuHead(), memRcuHead() or stackRcuHead(), which derive its identity from where it lives`,
    );
  const rcu = ctx.k.rcu;
  // Computed when it runs: a grace period may free the head between the yield and the step.
  // One kept in a sleep set from before its head was first freed was put there while the head
  // was queued (only a grace period taking it frees it), so that branch reported
  // rcu-head-reused and ended the search.
  yield ctx.stepDynamic(
    () => `call_rcu(${head.label}, ${fnName})`,
    () => {
      const fp = rcu.callFootprint(head);
      // The head is a struct page field (the lru union): entry accesses commute with it.
      if (head.page) fp.push(pageFieldsObj(head.page.pfn));
      if (head.pa !== undefined) fp.push(ctx.k.pt.pageOf({ pa: head.pa }));
      return fp;
    },
  );
  if (head.page && head.member)
    head.page.lru.write(
      head.member,
      null,
      ctx.here(() => `call_rcu(${head.label})`),
    );
  if (head.pa !== undefined) {
    // struct rcu_head { next; func; }: two pointers, where the head lives.
    ctx.k.mem.write(head.pa, 0, Tag.list);
    ctx.k.mem.write(head.pa + ctx.k.mem.wordSize, 0, Tag.list);
  }
  rcu.enqueue(ctx, head, fnName, fn);
  ctx.k.note(() => `queued ${fnName} on ${head.label}`);
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
  // struct rcu_synchronize's completion, on this CPU's stack.
  const rs = { done: false };
  const stack = ctx.cpu.stackObj;
  yield* callRcu(
    ctx,
    stackRcuHead(ctx.cpu, `rcu_synchronize of ${ctx.cpu.name}`),
    'wakeme_after_rcu',
    (c) => wakemeAfterRcu(c, rs, stack),
  );
  // Only wakeme_after_rcu() can end the wait (Step.wait): ordered after it, never tried before.
  yield ctx.step('wait for grace period', [], 'r', () => rs.done, rd(stack));
}

/**
 * wakeme_after_rcu() — kernel/rcu/update.c. A named generator function, not a
 * closure: V8 keeps a generator closure's context alive across young GCs (pgtable.ts).
 */
function* wakemeAfterRcu(c: Ctx, rs: { done: boolean }, stack: number): KGen {
  yield c.step('complete(&rs->completion)', stack);
  rs.done = true;
}

/** rcu_barrier() — kernel/rcu/tree.c: waits until every queued callback has run. */
export function* rcuBarrier(ctx: Ctx): KGen {
  ctx.mightSleep('rcu_barrier()');
  const rcu = ctx.k.rcu;
  yield ctx.step('rcu_barrier()', [RCU_QUEUE, RCU_QUEUE_TAIL], 'r', () => rcu.queue.length === 0);
}

/**
 * The grace-period engine as a task: each step ends one grace period and runs
 * the oldest ready callback in softirq context (rcu_core(), kernel/rcu/tree.c).
 */
export function* rcuDaemon(ctx: Ctx): KGen {
  const rcu = ctx.k.rcu;
  rcu.daemonCpu = ctx.cpu;
  for (;;) {
    yield ctx.stepDynamic(
      'grace period ends',
      () => rcu.gracePeriodFootprint(),
      'w',
      () => rcu.gracePeriodCanEnd,
      () => rcu.gracePeriodWait(),
    );
    const cb = rcu.take();
    ctx.k.note(
      () => `grace period for ${cb.head.label} (queued at step ${cb.queuedAt.step}) ended`,
    );
    ctx.cpu.inSoftirq = true;
    try {
      yield* ctx.call(cb.fnName, cb.fn(ctx));
    } finally {
      ctx.cpu.inSoftirq = false;
    }
  }
}
