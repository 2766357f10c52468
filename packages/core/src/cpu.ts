import type { SleepingLock, SpinLock } from './locks.js';
import type { Mm } from './mm.js';

/** An IPI waiting for a CPU to enable interrupts (smp_call_function, kernel/smp.c). */
export interface PendingIpi {
  readonly name: string;
  readonly handler: (cpu: Cpu) => void;
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
  readonly held: HeldLock[] = [];
  readonly pendingIpis: PendingIpi[] = [];
  readonly tlb = new Map<string, TlbEntry>();
  /** The user mm this CPU runs (it is then in that mm's cpumask), if any. */
  mm: Mm | null = null;

  constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
  }

  /** Inside an RCU read-side critical section in the consolidated-RCU sense. */
  get inRcuReader(): boolean {
    return this.rcuNesting > 0 || this.irqOff > 0 || this.inSoftirq;
  }

  /** Atomic context: may not sleep. */
  get atomic(): boolean {
    return this.inRcuReader || this.held.some((h) => h.lock.kind === 'spin');
  }
}
