import type { LazyEvent } from './checks.js';
import { CpuSub, cpuObj, type ObjId } from './deps.js';
import type { SleepingLock, SpinLock } from './locks.js';
import type { Mm } from './mm.js';

/** An IPI waiting for a CPU to enable interrupts (smp_call_function, kernel/smp.c). */
export interface PendingIpi {
  readonly name: string;
  /** What the target runs; null: nothing (an empty sync, smp_call_function()'s only effect the wait). */
  readonly handler: ((cpu: Cpu) => void) | null;
  readonly done: () => void;
}

/** A cached translation: what a CPU's TLB remembers for one user page. */
export interface TlbEntry {
  readonly mm: Mm;
  readonly vaddr: number;
  readonly pfn: number;
  readonly pteVal: number;
}

/** Held lock with its lockdep subclass (spin_lock_nested). */
export interface HeldLock {
  readonly lock: SpinLock | SleepingLock;
  readonly subclass: number;
  readonly mode: 'excl' | 'shared';
}

/**
 * Per-CPU state that decides what a path may do: interrupts, RCU read-side
 * nesting, softirq context, locks held, the TLB. Each task runs on its own CPU.
 */
export class Cpu {
  readonly id: number;
  readonly name: string;
  /** local_irq_save() nesting depth; >0 means interrupts are off. */
  irqOff = 0;
  /** rcu_read_lock() nesting depth. */
  rcuNesting = 0;
  /** Running an RCU callback (softirq, bottom halves off). */
  inSoftirq = false;
  /**
   * Times this CPU has passed through a quiescent state (left its last
   * read-side section): a grace period waiting for it may end once this has
   * moved on from the count recorded at call_rcu() time.
   */
  quiescentCount = 0;
  readonly held: HeldLock[] = [];
  readonly pendingIpis: PendingIpi[] = [];
  readonly tlb = new Map<string, TlbEntry>();
  /** The user mm this CPU runs (it is then in that mm's cpumask), if any. */
  mm: Mm | null = null;
  /** Dependency objects of this CPU's state (deps.ts). */
  readonly rcuObj: ObjId;
  readonly irqObj: ObjId;
  readonly tlbObj: ObjId;
  readonly pcpObj: ObjId;
  readonly stackObj: ObjId;
  readonly taskObj: ObjId;
  readonly readerEnterObj: ObjId;
  readonly quiescentObj: ObjId;
  /** Where this CPU last entered its current read-side section (for findings). */
  readerSince: LazyEvent | null = null;
  /** TIF_NEED_RESCHED was raised once by INJECT_ZAP_NEED_RESCHED (mm/pt-reclaim.ts needResched()). */
  reschedInjected = false;

  constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
    this.rcuObj = cpuObj(id, CpuSub.rcu);
    this.irqObj = cpuObj(id, CpuSub.irq);
    this.tlbObj = cpuObj(id, CpuSub.tlb);
    this.pcpObj = cpuObj(id, CpuSub.pcp);
    this.stackObj = cpuObj(id, CpuSub.stack);
    this.taskObj = cpuObj(id, CpuSub.task);
    this.readerEnterObj = cpuObj(id, CpuSub.readerEnter);
    this.quiescentObj = cpuObj(id, CpuSub.quiescent);
  }

  /** Inside an RCU read-side critical section in the consolidated-RCU sense. */
  get inRcuReader(): boolean {
    return this.rcuNesting > 0 || this.irqOff > 0 || this.inSoftirq;
  }

  /** Atomic context: may not sleep. */
  get atomic(): boolean {
    return this.inRcuReader || this.held.some((h) => h.lock.kind === 'spin');
  }

  /**
   * Whether this CPU would be a reader with its nesting counts moved by these
   * deltas: a step that makes it one writes `readerEnterObj`, one that ends it
   * `quiescentObj` (rcu.ts, irq.ts).
   */
  readerAfter(rcu: number, irq: number): boolean {
    return this.rcuNesting + rcu > 0 || this.irqOff + irq > 0 || this.inSoftirq;
  }

  /** Call after a reader-state change: count a quiescent state if the CPU just left its last section. */
  noteMaybeQuiescent(wasReader: boolean): void {
    if (wasReader && !this.inRcuReader) this.quiescentCount++;
  }
}
