import { resume } from './call-stack.js';
import { BugFound, bug, type LazyEvent } from './checks.js';
import type { Cpu } from './cpu.js';
import { CpuSub, cpuObj, type Footprint } from './deps.js';
import { footprintAuditOn } from './footprint-audit.js';
import type { Kernel } from './kernel.js';
import {
  type Access,
  asGenerator,
  type KCall,
  type KGen,
  type Leaf,
  type Step,
  StepObject,
  stepFootprint,
  stepLabel,
} from './step.js';

/** A dynamic step's static footprint: none (Step.fp gives it). */
const NO_OBJECTS: Footprint = Object.freeze([]);

/**
 * What a kernel path runs with: its kernel, its CPU, and a stack of kernel
 * function names so a counterexample can say "cpu2 rmap_walk_file >
 * page_vma_mapped_walk: spin_lock(ptl)".
 */
export class Ctx {
  readonly k: Kernel;
  readonly cpu: Cpu;
  private readonly frames: string[] = [];
  /** Footprint audit (footprint-audit.ts): the packed footprint of the step whose effect runs, or null. */
  effectFootprint: readonly number[] | null = null;
  effectLabel = '';

  constructor(k: Kernel, cpu: Cpu) {
    this.k = k;
    this.cpu = cpu;
  }

  /** The innermost kernel function running. */
  get fn(): string {
    // No frames[-1] on an empty chain (search runs keep none): a negative index is a slow lookup.
    const f = this.frames;
    return f.length > 0 ? (f[f.length - 1] as string) : '(task)';
  }

  /** The whole call chain, outermost first. */
  get stack(): readonly string[] {
    return this.frames;
  }

  /**
   * Describe the next shared access; `yield` it. Every Step has the same six
   * properties in the same order (absent ones undefined): one hidden class, so
   * the scheduler's reads of them stay monomorphic from the first cell on.
   */
  step(
    what: string | (() => string),
    obj: Footprint,
    access: Access = 'w',
    ready?: () => boolean,
    wait?: Step['wait'],
  ): Step {
    return new StepObject(what, obj, access, ready, undefined, wait, undefined);
  }

  /** A step whose footprint is computed when it is scheduled (see Step.fp). */
  stepDynamic(
    what: string | (() => string),
    fp: () => Footprint,
    access: Access = 'w',
    ready?: () => boolean,
    wait?: Step['wait'],
  ): Step {
    return new StepObject(what, NO_OBJECTS, access, ready, fp, wait, undefined);
  }

  /** A one-step kernel function (leaf.ts, Leaf): this step, then `effect` when it is taken. */
  leaf<T>(
    what: string | (() => string),
    obj: Footprint,
    access: Access,
    effect: () => T,
    ready?: () => boolean,
    wait?: Step['wait'],
  ): Leaf<T> {
    return new StepObject(what, obj, access, ready, undefined, wait, effect) as Leaf<T>;
  }

  /** A one-step kernel function whose footprint is computed when it is scheduled (Step.fp). */
  leafDynamic<T>(
    what: string | (() => string),
    fp: () => Footprint,
    access: Access,
    effect: () => T,
  ): Leaf<T> {
    return new StepObject(what, NO_OBJECTS, access, undefined, fp, undefined, effect) as Leaf<T>;
  }

  /**
   * Run `body` as kernel function `fn` (pushed on the story's call chain).
   * Returns `body` itself with its `next` wrapped to push the name when it
   * starts and pop it when it returns, rather than a generator around it: a
   * `yield*` through each level of the call chain is the costliest thing in a
   * step. A finding thrown out of the body ends the run, so no pop is needed then.
   *
   * Only runs that record a story keep the chain: search runs use nothing
   * but a finding's check id (the counterexample is run again, recorded,
   * before anything about it is shown), so there `body` is returned as is.
   */
  call<T>(fn: string, body: KGen<T>): KGen<T>;
  call<T>(fn: string, call: KCall<T>): KCall<T>;
  call<T>(fn: string, call: KCall<T>): KCall<T> {
    if (!this.k.recording) return call;
    const body = asGenerator(call);
    const frames = this.frames;
    const next = body.next;
    let started = false;
    // Defined, not assigned: in the CLI's child process %GeneratorPrototype% is frozen, and
    // assigning over a frozen inherited `next` throws where defining an own property does not.
    Object.defineProperty(body, 'next', {
      value: function (this: KGen<T>, ...args: [] | [undefined]) {
        if (!started) {
          started = true;
          frames.push(fn);
        }
        const r = next.apply(this, args);
        if (r.done) frames.pop();
        return r;
      },
      writable: true,
      configurable: true,
    });
    return body;
  }

  /** This step, as a cause another finding can point back to (the text is built only if needed). */
  here(what: string | (() => string)): LazyEvent {
    return { step: this.k.stepNo, cpu: this.cpu.name, fn: this.fn, what };
  }

  /** might_sleep() — include/linux/kernel.h: sleeping in atomic context is a finding. */
  mightSleep(what: string): void {
    const c = this.cpu;
    if (!c.atomic) return;
    const why = c.inSoftirq
      ? 'in an RCU callback (softirq)'
      : c.irqOff > 0
        ? 'with interrupts off'
        : c.rcuNesting > 0
          ? 'inside rcu_read_lock()'
          : `holding ${c.held
              .filter((h) => h.lock.kind === 'spin')
              .map((h) => h.lock.id)
              .join(', ')}`;
    bug('sleep-in-atomic', `${c.name} ${this.fn}: ${what} may sleep, called ${why}`);
  }
}

/**
 * A simulated thread of control: one kernel path pinned to one CPU. When the
 * path returns, the task takes one more step, its exit, which checks that it
 * left nothing held: so finishing is an event of its own, with a footprint
 * (the task's done-state, which e.g. the stale-TLB check reads).
 */
export class Task {
  readonly name: string;
  readonly ctx: Ctx;
  /** Daemons (the RCU grace-period engine) may stay blocked forever. */
  readonly daemon: boolean;
  /** Index in spawn order: the explorer's name for this thread. */
  readonly index: number;
  /** The path's call chain, outermost first (call-stack.ts): the body, then what it calls. */
  private readonly calls: KGen<unknown>[];
  pending: Step | null = null;
  done = false;
  /** The body has returned; the exit step is pending. */
  private returned = false;
  result: unknown = undefined;

  constructor(name: string, ctx: Ctx, body: KCall<unknown>, daemon: boolean, index: number) {
    this.name = name;
    this.ctx = ctx;
    this.daemon = daemon;
    this.index = index;
    this.calls = [asGenerator(body)];
  }

  /** Only the exit step is left: the path has returned (switching away from it preempts nothing). */
  get exiting(): boolean {
    return this.returned && !this.done;
  }

  /** What the task is about to do (undefined when done). */
  get pendingLabel(): string | undefined {
    return this.pending ? stepLabel(this.pending) : undefined;
  }

  get runnable(): boolean {
    const p = this.pending;
    return p !== null && (p.ready === undefined || p.ready());
  }

  /** Run until the first yield (no shared effect happens before it). */
  start(): void {
    this.advance();
  }

  /** Perform the pending step's effect and run to the next yield. */
  advance(): void {
    if (this.returned) {
      this.pending = null;
      this.done = true;
      if (!this.daemon) this.checkExitContext();
      return;
    }
    if (footprintAuditOn()) {
      const p = this.pending;
      if (p) {
        this.ctx.effectFootprint = stepFootprint(p);
        this.ctx.effectLabel = stepLabel(p);
      } else this.ctx.effectFootprint = null;
    }
    let r: IteratorResult<Step, unknown>;
    try {
      r = resume(this.calls, this.pending?.effect);
    } catch (e) {
      this.done = true;
      this.pending = null;
      throw e;
    }
    if (r.done) {
      this.returned = true;
      this.result = r.value;
      this.pending = this.ctx.step('return', cpuObj(this.ctx.cpu.id, CpuSub.task));
    } else {
      this.pending = r.value;
    }
  }

  /** A path must return with nothing held: no RCU section, no lock, interrupts on. */
  private checkExitContext(): void {
    const c = this.ctx.cpu;
    if (c.rcuNesting !== 0) {
      bug(
        'rcu-unbalanced',
        `${c.name} ${this.name}: returned inside ${c.rcuNesting} rcu_read_lock() section(s) (a pte_offset_map() without pte_unmap()?)`,
      );
    }
    if (c.held.length)
      bug(
        'context-leak',
        `${c.name} ${this.name}: returned holding ${c.held.map((h) => h.lock.id).join(', ')}`,
      );
    if (c.irqOff !== 0)
      bug('context-leak', `${c.name} ${this.name}: returned with interrupts disabled`);
  }
}

export { BugFound };
