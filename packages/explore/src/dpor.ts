/**
 * Exhaustive search with sound partial-order reduction: source-DPOR with
 * sleep sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal dynamic partial
 * order reduction", POPL 2014, and "Source sets: a foundation for optimal
 * dynamic partial order reduction", JACM 2017), extended for blocking steps
 * and, where a preemption bound is asked for, with the conservative backtrack
 * points of bounded POR (Coons, Musuvathi, McKinley, "Bounded partial-order
 * reduction", OOPSLA 2013). docs/model.md gives the argument for soundness.
 *
 * Stateless: every execution boots a fresh kernel and replays the DFS prefix.
 * After each step, the step's footprint (deps.ts) is compared with earlier
 * accesses to the same objects: two steps of different threads that conflict
 * and are not ordered by other steps race, and the search schedules, at the
 * state before the first, a thread that starts the reversed order (a source
 * set), unless one is already scheduled there. Sleep sets keep the search
 * from exploring an order equivalent to one it already explored.
 *
 * Blocking: a step that cannot run (a lock held elsewhere, an IPI not yet
 * taken) is treated, for race detection only, as a failed attempt at the
 * states where it is blocked (a "phantom" access with the step's own
 * footprint). So the step that disabled it races with it, and the order in
 * which the blocked thread goes first is explored: without this, the hb edge
 * through the unlock would hide the race between two lock acquisitions.
 */
import type { Finding, Step, Task } from '@ptlab/core';
import { type Program, pendingFootprint, pendingWait, Run } from './execution.js';
import { Histories } from './histories.js';
import { objOf, writes } from './packed.js';

export interface ExhaustiveOptions {
  /** Partial-order reduction (default true); false explores every interleaving (plain DFS). */
  readonly por?: boolean;
  /** At most this many preemptions per execution (CHESS-style); undefined: no bound. */
  readonly preemptionBound?: number | undefined;
  /**
   * Without a bound: source sets and sleep sets (Abdulla et al., POPL 2014,
   * Alg. 1) instead of wakeup trees. The split search runs it: its reversals
   * are backtrack points, which merge as a union (split.ts).
   */
  readonly sourceSets?: boolean | undefined;
  /**
   * Keep, at the states the search leaves unfinished when its budget runs
   * out, the footprint of each enabled thread's next step (TreeNode.fps): the
   * split search's driver hands out their branches before the subtrees of
   * earlier ones have run, and a branch's sleep set needs them.
   */
  readonly siblingFootprints?: boolean | undefined;
  /** Stop after this many executions (the verdict is then incomplete). */
  readonly maxExecutions: number;
  /** Steps per execution before it is cut off (a cut-off execution proves nothing). */
  readonly maxSteps: number;
  /** Called after every execution that ran to its end without a finding (tests: final states). */
  readonly onComplete?: ((run: Run) => void) | undefined;
  /** Keep exploring after a finding (tests: the set of findings); default: stop at the first. */
  readonly allFindings?: boolean | undefined;
  /** Called with the events of every execution that ran to its end without a finding (tests: traceKey()). */
  readonly onTrace?: ((events: readonly Event[]) => void) | undefined;
  /** Called with every finding (and its schedule) when allFindings is set. */
  readonly onFinding?: ((finding: Finding, picks: readonly string[]) => void) | undefined;
  /** Progress callback, every `progressEvery` executions. */
  readonly onProgress?: ((p: { executions: number; steps: number }) => void) | undefined;
  readonly progressEvery?: number | undefined;
}

export interface ExhaustiveResult {
  /** Every execution (up to equivalence, within the bound if any) was explored. */
  readonly complete: boolean;
  /** Executions run (leaves of the search tree, including those cut by sleep sets). */
  readonly executions: number;
  /** Executions stopped because every runnable thread was asleep (redundant, by construction). */
  readonly sleepBlocked: number;
  /** Executions cut off by the step budget. */
  readonly truncated: number;
  readonly steps: number;
  /** The first finding, with the schedule (task names) that reached it. */
  readonly failing: { readonly finding: Finding; readonly picks: readonly string[] } | null;
}

/** A sleeping thread and the footprint of the step it would take. */
export interface Sleeper {
  readonly tid: number;
  readonly fp: readonly number[];
}

/** A state of the search tree: what was enabled there, what to explore, what was explored. */
export interface TreeNode {
  readonly enabled: number;
  /** Threads to explore from here (bit per thread). */
  backtrack: number;
  /** Of those, added as conservative points for the bound: explored even if asleep. */
  conservative: number;
  /** Threads explored from here. */
  done: number;
  /** Footprints of the steps explored from here, by thread (for the sleep sets of later branches). */
  readonly doneFp: (readonly number[] | undefined)[];
  /** siblingFootprints, at a state left unfinished: every enabled thread's next step's footprint. */
  fps?: (readonly number[] | undefined)[] | undefined;
  readonly sleep: readonly Sleeper[];
  /** The threads of `sleep`, as bits (it never changes). */
  readonly asleep: number;
  /** The thread the current branch takes. */
  chosen: number;
  /** Preemptions before this state, and the thread that took the previous step (-1: none). */
  readonly preemptions: number;
  readonly prev: number;
  /** Switching away from `prev` here preempts it: a user thread, enabled, with work left. */
  readonly prevPreemptible: boolean;
  /**
   * Wakeup tree (unbounded search): sequences still to explore from here, in
   * order, besides the branch being explored now.
   */
  wut: WutNode[];
  /** The rest of the wakeup-tree sequence the current branch follows (seeds the next state). */
  childWut: WutNode[] | null;
}

/** A wakeup-tree node: a thread's next step (its footprint as observed) and the sequences after it. */
export interface WutNode {
  readonly tid: number;
  readonly fp: readonly number[];
  readonly wait: readonly number[];
  /** A blocked thread's step (SeqStep.phantom): never covers another sequence. */
  readonly phantom?: boolean;
  readonly children: WutNode[];
}

/** One step of a sequence to insert into a wakeup tree. */
export interface SeqStep {
  readonly tid: number;
  readonly fp: readonly number[];
  /** Objects it only waits on (Step.wait), packed: a write to one orders it after. */
  readonly wait: readonly number[];
  /**
   * The step of a thread that was blocked when it raced (a phantom access): the sequence
   * puts it first, but it may still be unable to run there, and then the search drops it.
   */
  readonly phantom?: boolean;
}

// The search's loops over footprints, sleep sets and tasks index their arrays. On Node 20 a
// for...of over arrays of more than one elements kind (packed ids are small integers or doubles
// above 2^31; empty footprints and sleep sets are shared frozen arrays) falls back to the
// iterator protocol: measured 150-210 bytes and 4-7x the time per loop, and 9% of the CPU time
// of the x86-32-pae walkers cell.

/** Whether `b` must follow `a` (both in one sequence): they conflict, or `a` writes what `b` waits on. */
function ordered(a: SeqStep, b: SeqStep): boolean {
  if (conflicts(a.fp, b.fp)) return true;
  if (b.wait.length === 0) return false;
  for (let i = 0; i < a.fp.length; i++) {
    const x = a.fp[i] as number;
    if (!writes(x)) continue;
    for (let j = 0; j < b.wait.length; j++)
      if (objOf(b.wait[j] as number) === objOf(x)) return true;
  }
  return false;
}

/**
 * Whether thread `p` (whose next step from the state has footprint `pfp`)
 * is a weak initial of `v`: its first step in `v` has no happens-before
 * predecessor in `v`, or it has no step in `v` and its next step is
 * independent of all of `v`. (A direct predecessor suffices: hb within `v` is
 * the transitive closure of program order and conflicts.)
 */
function weakInitial(v: readonly SeqStep[], p: number, pfp: readonly number[]): boolean {
  for (let k = 0; k < v.length; k++) {
    const vk = v[k] as SeqStep;
    if (vk.tid !== p) continue;
    for (let a = 0; a < k; a++) if (ordered(v[a] as SeqStep, vk)) return false;
    return true;
  }
  for (let k = 0; k < v.length; k++) if (conflicts((v[k] as SeqStep).fp, pfp)) return false;
  return true;
}

/** `v` without the first step of thread `p` (if it has one). */
function withoutFirstOf(v: readonly SeqStep[], p: number): SeqStep[] {
  const k = v.findIndex((x) => x.tid === p);
  return k < 0 ? [...v] : [...v.slice(0, k), ...v.slice(k + 1)];
}

function chain(v: readonly SeqStep[], from = 0): WutNode {
  const x = v[from] as SeqStep;
  return {
    tid: x.tid,
    fp: x.fp,
    wait: x.wait,
    ...(x.phantom ? { phantom: true } : {}),
    children: from + 1 < v.length ? [chain(v, from + 1)] : [],
  };
}

/**
 * Insert `v` into the wakeup tree `list` (Abdulla et al., POPL 2014, Def. 6.2):
 * follow the first child whose thread is a weak initial of what is left of
 * `v`; reaching a leaf means an equivalent sequence is already scheduled;
 * where no child fits, `v`'s remainder becomes a new branch. A phantom child
 * is never followed: it may not run where it stands (then the search drops
 * it), so it cannot stand for `v`.
 */
export function insertWakeup(list: WutNode[], v: readonly SeqStep[]): void {
  let here = list;
  let rest: readonly SeqStep[] = v;
  for (;;) {
    const c = here.find((x) => !x.phantom && weakInitial(rest, x.tid, x.fp));
    if (!c) {
      here.push(chain(rest));
      return;
    }
    if (c.children.length === 0) return;
    rest = withoutFirstOf(rest, c.tid);
    if (rest.length === 0) return;
    here = c.children;
  }
}

/**
 * A vector clock: per-thread event counts, one slot per task. A plain array:
 * one is made per event, and copying a small array (slice()) takes a third of
 * the time of making and filling an Int32Array.
 */
type VClock = number[];

/** One event of the current execution. */
export interface Event {
  readonly tid: number;
  readonly fp: readonly number[];
  /** What it only waited on (Step.wait): ordered after the last writes, never raced. */
  readonly wait: readonly number[];
  /** Vector clock (per-thread event counts, 1-based) of this event. */
  readonly clock: VClock;
}

function bit(t: number): number {
  return 1 << t;
}

/** Two packed footprints conflict: a common object, written by at least one. */
export function conflicts(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    // x's object, as a read (even); y is the same object iff y - base is 0 (read) or 1 (write).
    const base = 2 * Math.floor(x / 2);
    const wx = x !== base;
    for (let j = 0; j < b.length; j++) {
      const d = (b[j] as number) - base;
      if (d === 1 || (d === 0 && wx)) return true;
    }
  }
  return false;
}

/** A footprint with nothing in it (a step with no Step.wait), shared: footprints are never changed. */
const NO_OBJECTS: readonly number[] = Object.freeze([]);
const NO_SLEEPERS: readonly Sleeper[] = Object.freeze([]);

/** Where a subtree search starts (split.ts): the prefix's states and its steps' events. */
export interface SubtreeStart {
  readonly nodes: readonly TreeNode[];
  readonly events: readonly Event[];
}

export class ExhaustiveSearch {
  private readonly program: Program;
  private readonly o: ExhaustiveOptions;
  private readonly por: boolean;
  private readonly bound: number | undefined;
  /** Optimal DPOR with wakeup trees and sleep sets (unbounded); source sets under a bound. */
  private readonly wakeup: boolean;
  private readonly stack: TreeNode[] = [];
  /** The previous execution's events: its prefix up to the branch point is replayed as is. */
  private prevEvents: Event[] = [];
  private nThreads = 0;
  private daemonMask = 0;
  /** Vector clock width: the tasks of the program (fixed at the first execution). */
  private width = 0;
  private zero: VClock = [];
  /** Access histories by object, and the current execution's number. */
  private readonly hist = new Histories();
  private gen = 0;
  /** candidates()' result: its first entries (it returns how many). */
  private readonly cands: number[] = [];
  /** Nodes the search may not leave (split.ts: a subtree's prefix); 0 for the whole tree. */
  private readonly floor: number;
  /** siblingFootprints: the execution running is the budget's last. */
  private lastRun = false;

  /**
   * `start` (split.ts): search only the subtree below a prefix, the states
   * along it (the last one's `chosen` is the branch to explore) and the
   * events of its steps. Race detection may add branches to those states;
   * the search never takes them (subtreeState() shows them).
   */
  constructor(program: Program, o: ExhaustiveOptions, start?: SubtreeStart) {
    this.program = program;
    this.o = o;
    this.por = o.por ?? true;
    this.bound = o.preemptionBound;
    this.wakeup = this.por && this.bound === undefined && !o.sourceSets;
    this.floor = start?.nodes.length ?? 0;
    if (start) {
      this.stack.push(...start.nodes);
      this.prevEvents = [...start.events];
    }
  }

  // --- Split search (split.ts): the search state, and branch selection at a given state ---

  /** The search stack (prefix states first) and the last execution's events. */
  subtreeState(): {
    readonly stack: readonly TreeNode[];
    readonly events: readonly Event[];
    readonly threads: number;
  } {
    return { stack: this.stack, events: this.prevEvents, threads: this.nThreads };
  }

  /** Tasks the program has (for takeBranch() on states this search did not build). */
  setThreads(n: number): void {
    this.nThreads = Math.max(this.nThreads, n);
  }

  /** Choose the next branch to explore at `top` (marking it done), as the search does; false: none. */
  takeBranch(top: TreeNode): boolean {
    if (this.wakeup) {
      const asleep = this.sleepMask(top);
      let w = top.wut.shift();
      // A sequence starting with a thread not enabled, done or asleep here cannot be followed.
      while (w && (!(top.enabled & bit(w.tid)) || top.done & bit(w.tid) || asleep & bit(w.tid)))
        w = top.wut.shift();
      if (w) {
        top.chosen = w.tid;
        top.done |= bit(w.tid);
        top.childWut = w.children;
        return true;
      }
      return false;
    }
    const next = this.pick(top, true);
    if (next >= 0) {
      top.chosen = next;
      top.done |= bit(next);
      return true;
    }
    return false;
  }

  run(): ExhaustiveResult {
    let executions = 0;
    let sleepBlocked = 0;
    let truncated = 0;
    let steps = 0;
    let failing: ExhaustiveResult['failing'] = null;
    const every = this.o.progressEvery ?? 200;
    for (;;) {
      this.lastRun = this.o.siblingFootprints === true && executions + 1 >= this.o.maxExecutions;
      const r = this.execution();
      executions++;
      steps += r.steps;
      if (r.sleepBlocked) sleepBlocked++;
      if (r.truncated) truncated++;
      if (r.finding) {
        if (!failing) failing = { finding: r.finding, picks: r.picks };
        this.o.onFinding?.(r.finding, r.picks);
        if (!this.o.allFindings)
          return { complete: false, executions, sleepBlocked, truncated, steps, failing };
      }
      if (this.o.onProgress && executions % every === 0) this.o.onProgress({ executions, steps });
      if (!this.nextBranch())
        return { complete: truncated === 0, executions, sleepBlocked, truncated, steps, failing };
      if (executions >= this.o.maxExecutions)
        return { complete: false, executions, sleepBlocked, truncated, steps, failing };
    }
  }

  /** Move to the next unexplored branch: false when the tree is exhausted. */
  private nextBranch(): boolean {
    while (this.stack.length > this.floor) {
      if (this.takeBranch(this.stack[this.stack.length - 1] as TreeNode)) return true;
      this.stack.pop();
    }
    return false;
  }

  private sleepMask(n: TreeNode): number {
    return n.asleep;
  }

  /**
   * A preemption: switching away from a user thread that could have gone on.
   * Daemons (the grace-period engine, the kworker) are like interrupts: taking
   * one in the middle of a user thread's work costs one, leaving it is free.
   * A thread's exit step counts as work (so with no preemptions a thread runs
   * through its exit), keeping bound 0 the non-preemptive schedules.
   */
  private cost(n: TreeNode, t: number): number {
    return n.prevPreemptible && t !== n.prev ? 1 : 0;
  }

  private inBound(n: TreeNode, t: number): boolean {
    return this.bound === undefined || n.preemptions + this.cost(n, t) <= this.bound;
  }

  /** The next thread to explore at `n`: from its backtrack set, not done, not asleep, in bound. */
  private pick(n: TreeNode, fromBacktrack: boolean): number {
    const asleep = this.sleepMask(n);
    const cands = fromBacktrack ? n.backtrack & ~n.done : n.enabled;
    let best = -1;
    for (let t = 0; t < this.nThreads; t++) {
      const b = bit(t);
      if ((cands & b) === 0 || (n.enabled & b) === 0) continue;
      if (asleep & b && !(n.conservative & b)) continue;
      if (!this.inBound(n, t)) continue;
      // Prefer continuing the thread that ran last (no context switch), then the lowest index.
      if (t === n.prev) return t;
      if (best < 0) best = t;
    }
    return best;
  }

  private execution(): {
    finding: Finding | null;
    picks: string[];
    steps: number;
    sleepBlocked: boolean;
    truncated: boolean;
  } {
    const run = new Run(this.program, false);
    // States before the deepest node are the previous execution's, step for step: their
    // events, races and phantoms were handled then, so only their histories are rebuilt.
    const replayUntil = this.stack.length - 1;
    const prevEvents = this.prevEvents;
    const events: Event[] = [];
    this.prevEvents = events;
    const hist = this.hist;
    this.gen++;
    const lastEvent: number[] = [];
    const threadClock: (VClock | undefined)[] = [];
    /** Blocked threads: the footprint of the step they wait at, and whether to record a phantom. */
    const blockedFp: (number[] | null)[] = [];
    const phantomDue: boolean[] = [];
    let depth = 0;
    let childSleep: readonly Sleeper[] = NO_SLEEPERS;
    let sleepBlocked = false;
    let truncated = false;

    if (this.width === 0) {
      // Every task exists after boot but teardown, spawned later with the next index.
      this.width = Math.min(32, run.tasks.length + 1);
      this.zero = new Array<number>(this.width).fill(0);
    }
    const ensureThreads = () => {
      const n = run.tasks.length;
      if (n > 31)
        throw new Error(`exhaustive search supports at most 31 tasks, this program has ${n}`);
      if (n > this.width)
        throw new Error(
          `exhaustive search: a task was spawned after boot besides teardown (${n} tasks, ${this.width} expected)`,
        );
      while (this.nThreads < n) {
        const t = run.tasks[this.nThreads] as Task;
        if (t.daemon) this.daemonMask |= bit(this.nThreads);
        this.nThreads++;
      }
    };

    while (!run.settle()) {
      ensureThreads();
      if (run.steps >= this.o.maxSteps) {
        truncated = true;
        break;
      }
      const runnable = run.runnable();
      let enabled = 0;
      for (let i = 0; i < runnable.length; i++) enabled |= bit((runnable[i] as Task).index);
      const replaying = depth < replayUntil;
      if (this.por)
        this.phantoms(
          run,
          enabled,
          events,
          hist,
          lastEvent,
          blockedFp,
          phantomDue,
          depth,
          replaying,
        );

      let node = this.stack[depth];
      if (!node) {
        const parent = this.stack[depth - 1];
        // Sleep sets assume that an order they skip is explored in an equivalent form, which
        // under a preemption bound may lie outside the bound: bounded search runs without them.
        const sleep = this.por && this.bound === undefined ? childSleep : NO_SLEEPERS;
        node = {
          enabled,
          backtrack: 0,
          conservative: 0,
          done: 0,
          doneFp: [],
          sleep,
          asleep: sleepBits(sleep),
          chosen: -1,
          preemptions: parent ? parent.preemptions + this.cost(parent, parent.chosen) : 0,
          prev: parent ? parent.chosen : -1,
          prevPreemptible: parent ? preemptible(run.tasks[parent.chosen], enabled) : false,
          wut: [],
          childWut: null,
        };
        if (!this.por) {
          // Plain DFS: every enabled thread in bound is a branch.
          for (let t = 0; t < this.nThreads; t++)
            if (enabled & bit(t) && this.inBound(node, t)) node.backtrack |= bit(t);
        }
        let first = -1;
        // Follow the wakeup-tree sequence the parent's branch started, if any; else pick freely.
        const seq = this.wakeup ? parent?.childWut : null;
        if (seq?.length) {
          const asleep = this.sleepMask(node);
          const k = seq.findIndex((w) => enabled & bit(w.tid) && !(asleep & bit(w.tid)));
          if (k >= 0) {
            const w = seq[k] as WutNode;
            first = w.tid;
            node.childWut = w.children;
            node.wut = seq.filter((_, x) => x !== k);
          }
        }
        if (first < 0) first = this.pick(node, false);
        if (first < 0) {
          sleepBlocked = true;
          break;
        }
        node.chosen = first;
        node.backtrack |= bit(first);
        node.done |= bit(first);
        this.stack.push(node);
      } else if ((enabled & bit(node.chosen)) === 0) {
        throw new Error(
          `exhaustive search: the model is not deterministic: task ${run.tasks[node.chosen]?.name} is not runnable at step ${depth} on replay`,
        );
      }

      // The last execution of the budget passes through every state the search may leave
      // unfinished (its frontier, split.ts): record there what the driver's sleep sets need.
      if (this.lastRun && node.fps === undefined && depth >= this.floor) {
        const fps: (readonly number[] | undefined)[] = [];
        for (const u of runnable) {
          const f: number[] = [];
          pendingFootprint(u.pending as Step, f);
          fps[u.index] = f;
        }
        node.fps = fps;
      }
      const t = run.tasks[node.chosen] as Task;
      const prevEvent = replaying && this.por ? prevEvents[depth] : undefined;
      if (prevEvent && prevEvent.tid === node.chosen) {
        events.push(prevEvent);
        lastEvent[prevEvent.tid] = depth;
        updateHistory(prevEvent.tid, prevEvent.fp, depth, events, hist, this.gen);
        for (let q = 0; q < this.nThreads; q++) {
          const bf = blockedFp[q];
          if (bf && conflicts(bf, prevEvent.fp)) phantomDue[q] = true;
        }
        blockedFp[node.chosen] = null;
        run.step(t, runnable);
        depth++;
        continue;
      }
      const fp: number[] = [];
      const pending = t.pending as NonNullable<Task['pending']>;
      pendingFootprint(pending, fp);
      node.doneFp[node.chosen] = fp;
      if (this.por) {
        // The sleep set of the next state: sleepers and earlier branches independent of this step.
        let next: Sleeper[] | null = null;
        let inNext = 0;
        for (let i = 0; i < node.sleep.length; i++) {
          const s = node.sleep[i] as Sleeper;
          if (!conflicts(s.fp, fp)) {
            if (!next) next = [];
            next.push(s);
            inNext |= bit(s.tid);
          }
        }
        for (let u = 0; u < this.nThreads; u++) {
          if (u === node.chosen || (node.done & bit(u)) === 0) continue;
          const ufp = node.doneFp[u];
          if (ufp && !conflicts(ufp, fp) && !(inNext & bit(u))) {
            if (!next) next = [];
            next.push({ tid: u, fp: ufp });
            inNext |= bit(u);
          }
        }
        childSleep = next ?? NO_SLEEPERS;
        let wait = NO_OBJECTS;
        if (pending.wait !== undefined) {
          const w: number[] = [];
          pendingWait(pending, w);
          wait = w;
        }
        this.recordEvent(node.chosen, fp, wait, events, hist, lastEvent, threadClock, run, depth);
        for (let q = 0; q < this.nThreads; q++) {
          const bf = blockedFp[q];
          if (bf && conflicts(bf, fp)) phantomDue[q] = true;
        }
        blockedFp[node.chosen] = null;
      }
      run.step(t, runnable);
      depth++;
    }
    if (!run.finding && !sleepBlocked && !truncated) {
      this.o.onComplete?.(run);
      this.o.onTrace?.(events);
    }
    run.k.mem.release();
    return {
      finding: run.finding,
      picks: run.picks,
      steps: run.steps,
      sleepBlocked,
      truncated,
    };
  }

  /**
   * Compute the event's vector clock from its thread's previous event and every
   * earlier conflicting access, report its races, and update the histories.
   */
  private recordEvent(
    tid: number,
    fp: readonly number[],
    wait: readonly number[],
    events: Event[],
    hist: Histories,
    lastEvent: number[],
    threadClock: (VClock | undefined)[],
    run: Run,
    j: number,
  ): void {
    const prevIdx = lastEvent[tid];
    let prev = prevIdx !== undefined ? (events[prevIdx] as Event).clock : threadClock[tid];
    const clock = (prev ?? this.zero).slice();
    if (!prev && run.teardown && run.teardown.index === tid) {
      // Teardown starts once every scenario task has finished: it is ordered after their exits
      // (not after the daemons, which keep running beside it).
      for (const t of run.tasks)
        if (!t.daemon && t !== run.teardown) {
          const e = lastEvent[t.index];
          if (e !== undefined) join(clock, (events[e] as Event).clock);
        }
      prev = clock.slice();
      threadClock[tid] = prev;
    }
    // The clock before this event's own joins (events' clocks are never changed once pushed).
    const C = prev ?? this.zero;
    const nc = this.candidates(fp, tid, events, hist);
    const cands = this.cands;
    for (let c = 0; c < nc; c++) join(clock, (events[cands[c] as number] as Event).clock);
    // What it waited on: after the writes that let it run, but no race with them (Step.wait).
    for (let i = 0; i < wait.length; i++) {
      const h = hist.get(objOf(wait[i] as number));
      if (h && h.gen === this.gen && h.lastWrite >= 0)
        join(clock, (events[h.lastWrite] as Event).clock);
    }
    clock[tid] = (clock[tid] ?? 0) + 1;
    events.push({ tid, fp, wait, clock });
    lastEvent[tid] = j;
    for (let c = 0; c < nc; c++) {
      const i = cands[c] as number;
      const ei = events[i] as Event;
      if (this.enabledBy(i, tid, prevIdx)) continue;
      if (this.raceWith(i, ei, cands, nc, events, C))
        this.addBacktrack(i, clock, tid, fp, wait, events, j, false);
    }
    updateHistory(tid, fp, j, events, hist, this.gen);
  }

  /**
   * Earlier events of other threads whose accesses conflict with `fp`
   * (hb-maximal per object), in order of discovery: into `this.cands`,
   * returning how many.
   */
  private candidates(
    fp: readonly number[],
    tid: number,
    events: readonly Event[],
    hist: Histories,
  ): number {
    const out = this.cands;
    let n = 0;
    for (let i = 0; i < fp.length; i++) {
      const e = fp[i] as number;
      const h = hist.get(objOf(e));
      if (!h || h.gen !== this.gen) continue;
      if (writes(e) && h.nReads > 0) {
        // Reads since the last write are all ordered after it; the write is not a direct race.
        for (let k = 0; k < h.nReads; k++) {
          const r = h.reads[k] as number;
          if ((events[r] as Event).tid !== tid && !inFirst(out, n, r)) out[n++] = r;
        }
      } else if (writes(e) || h.lastWrite >= 0) {
        const w = h.lastWrite;
        if (w >= 0 && (events[w] as Event).tid !== tid && !inFirst(out, n, w)) out[n++] = w;
      }
    }
    return n;
  }

  /**
   * Whether event `i` enabled thread `q`'s step: it was pending but blocked
   * in the state before `i` and runnable right after. Such a pair is no
   * reversible race (the step cannot go first); the phantom access recorded
   * while it was blocked (phantoms()) is what reverses the order that matters.
   */
  private enabledBy(i: number, q: number, qPrev: number | undefined): boolean {
    if (qPrev !== undefined && qPrev > i) return false;
    const before = this.stack[i];
    const after = this.stack[i + 1];
    return (
      before !== undefined &&
      after !== undefined &&
      (before.enabled & bit(q)) === 0 &&
      (after.enabled & bit(q)) !== 0
    );
  }

  /** Whether candidate `i` races with the event whose thread's prior clock is `C` (not ordered via others). */
  private raceWith(
    i: number,
    ei: Event,
    cands: readonly number[],
    nc: number,
    events: readonly Event[],
    C: VClock,
  ): boolean {
    const own = ei.clock[ei.tid] as number;
    if ((C[ei.tid] ?? 0) >= own) return false;
    for (let c = 0; c < nc; c++) {
      const k = cands[c] as number;
      if (k === i) continue;
      if (((events[k] as Event).clock[ei.tid] ?? 0) >= own) return false;
    }
    return true;
  }

  /**
   * Race between event `i` and the step of thread `q` at position `j` (an
   * event, or a phantom at state `j`): make sure some thread that can start
   * the reversed order v = notdep(i).q is scheduled at the state before `i`.
   */
  private addBacktrack(
    i: number,
    qStepClock: VClock,
    q: number,
    qfp: readonly number[],
    qwait: readonly number[],
    events: readonly Event[],
    limit: number,
    phantom: boolean,
  ): void {
    const node = this.stack[i];
    if (!node) return;
    if (this.wakeup) {
      this.addWakeup(node, i, q, qfp, qwait, events, limit, phantom);
      return;
    }
    const ei = events[i] as Event;
    const own = ei.clock[ei.tid] as number;
    // First event in v of each thread (events after i, before limit, not hb-after i).
    const first: number[] = [];
    for (let m = i + 1; m < limit; m++) {
      const em = events[m] as Event;
      if ((em.clock[ei.tid] ?? 0) >= own) continue;
      if (first[em.tid] === undefined) first[em.tid] = m;
    }
    // r starts v if its first event there (for q with none: the racing step itself) has no
    // hb-predecessor in v.
    const isInitial = (r: number): boolean => {
      const f = first[r];
      let clock: VClock;
      if (f !== undefined) clock = (events[f] as Event).clock;
      else if (r === q) clock = qStepClock;
      else return false;
      for (let u = 0; u < first.length; u++) {
        const fu = first[u];
        if (fu === undefined || u === r) continue;
        if ((clock[u] ?? 0) >= ((events[fu] as Event).clock[u] as number)) return false;
      }
      return true;
    };
    // Already covered?
    for (let t = 0; t < this.nThreads; t++)
      if (node.backtrack & bit(t) && isInitial(t)) {
        this.conservativeFor(i, t, events);
        return;
      }
    let pickT = -1;
    if (node.enabled & bit(q) && isInitial(q)) pickT = q;
    else
      for (let t = 0; t < this.nThreads; t++)
        if (node.enabled & bit(t) && isInitial(t)) {
          pickT = t;
          break;
        }
    if (pickT < 0) return;
    if (this.inBound(node, pickT)) node.backtrack |= bit(pickT);
    this.conservativeFor(i, pickT, events);
  }

  /**
   * Optimal DPOR: the reversed race is v = notdep(i).q (the events after `i`
   * not happens-after it, then q's racing step). Unless a thread asleep at the
   * state before `i` (a sleeper, or a branch already explored there) is a weak
   * initial of v, so an equivalent execution was or will be explored, insert v
   * into that state's wakeup tree.
   */
  private addWakeup(
    node: TreeNode,
    i: number,
    q: number,
    qfp: readonly number[],
    qwait: readonly number[],
    events: readonly Event[],
    limit: number,
    phantom: boolean,
  ): void {
    const ei = events[i] as Event;
    const own = ei.clock[ei.tid] as number;
    const v: SeqStep[] = [];
    for (let m = i + 1; m < limit; m++) {
      const em = events[m] as Event;
      if ((em.clock[ei.tid] ?? 0) < own) v.push(em);
    }
    v.push(phantom ? { tid: q, fp: qfp, wait: qwait, phantom } : { tid: q, fp: qfp, wait: qwait });
    // A sequence whose first thread cannot run at this state (a phantom's reversal where the
    // blocked step was blocked here too) would only be dropped by takeBranch.
    if (!(node.enabled & bit((v[0] as SeqStep).tid))) return;
    for (let k = 0; k < node.sleep.length; k++) {
      const s = node.sleep[k] as Sleeper;
      if (weakInitial(v, s.tid, s.fp)) return;
    }
    for (let u = 0; u < this.nThreads; u++) {
      if (u === node.chosen || (node.done & bit(u)) === 0) continue;
      const ufp = node.doneFp[u];
      if (ufp && weakInitial(v, u, ufp)) return;
    }
    insertWakeup(node.wut, v);
  }

  /**
   * Bounded POR: also schedule `t` where the run of the thread of event `i`
   * began, where switching to `t` may cost no preemption (Coons et al.).
   */
  private conservativeFor(i: number, t: number, events: readonly Event[]): void {
    if (this.bound === undefined) return;
    const ti = (events[i] as Event).tid;
    let s = i;
    while (s > 0 && (events[s - 1] as Event).tid === ti) s--;
    if (s === i) return;
    const n = this.stack[s];
    if (!n || (n.enabled & bit(t)) === 0 || !this.inBound(n, t)) return;
    if ((n.backtrack & bit(t)) === 0 || !(n.conservative & bit(t))) {
      n.backtrack |= bit(t);
      n.conservative |= bit(t);
    }
  }

  /**
   * Blocked threads at state `depth`: a phantom access with the footprint of
   * the step they wait at, when they first block and whenever a step writes
   * what they wait on. Each races with the last conflicting access before it.
   */
  private phantoms(
    run: Run,
    enabled: number,
    events: readonly Event[],
    hist: Histories,
    lastEvent: number[],
    blockedFp: (number[] | null)[],
    phantomDue: boolean[],
    depth: number,
    replaying: boolean,
  ): void {
    const tasks = run.tasks;
    for (let q = 0; q < tasks.length; q++) {
      const t = tasks[q] as Task;
      if (!t.pending || enabled & bit(q)) {
        blockedFp[q] = null;
        continue;
      }
      if (blockedFp[q] && !phantomDue[q]) continue;
      const fp: number[] = [];
      const wait: number[] = [];
      pendingFootprint(t.pending, fp);
      pendingWait(t.pending, wait);
      blockedFp[q] = fp;
      phantomDue[q] = false;
      if (replaying) continue;
      const nc = this.candidates(fp, q, events, hist);
      if (nc === 0) continue;
      const cands = this.cands;
      const prevIdx = lastEvent[q];
      const C = prevIdx !== undefined ? (events[prevIdx] as Event).clock : this.zero;
      const phantomClock = C.slice();
      for (let c = 0; c < nc; c++) join(phantomClock, (events[cands[c] as number] as Event).clock);
      for (let c = 0; c < nc; c++) {
        const i = cands[c] as number;
        const ei = events[i] as Event;
        if (this.raceWith(i, ei, cands, nc, events, C))
          this.addBacktrack(i, phantomClock, q, fp, wait, events, depth, true);
      }
    }
  }
}

/** Whether switching away from `t` now is a preemption (see ExhaustiveSearch.cost). */
function preemptible(t: Task | undefined, enabled: number): boolean {
  return t !== undefined && !t.daemon && (enabled & bit(t.index)) !== 0;
}

/** Record event `j` (thread `tid`, footprint `fp`) in the per-object access histories. */
function updateHistory(
  tid: number,
  fp: readonly number[],
  j: number,
  events: readonly Event[],
  hist: Histories,
  gen: number,
): void {
  for (let i = 0; i < fp.length; i++) {
    const e = fp[i] as number;
    const h = hist.at(objOf(e), gen);
    if (writes(e)) {
      h.lastWrite = j;
      h.nReads = 0;
    } else {
      let k = 0;
      while (k < h.nReads && (events[h.reads[k] as number] as Event).tid !== tid) k++;
      h.reads[k] = j;
      if (k === h.nReads) h.nReads++;
    }
  }
}

function sleepBits(sleep: readonly Sleeper[]): number {
  let m = 0;
  for (let i = 0; i < sleep.length; i++) m |= bit((sleep[i] as Sleeper).tid);
  return m;
}

/** Whether `x` is among the first `n` entries of `a`. */
function inFirst(a: readonly number[], n: number, x: number): boolean {
  for (let c = 0; c < n; c++) if (a[c] === x) return true;
  return false;
}

function join(into: VClock, from: VClock): void {
  for (let i = 0; i < into.length; i++)
    if ((from[i] as number) > (into[i] as number)) into[i] = from[i] as number;
}
