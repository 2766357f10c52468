/**
 * The exhaustive search (dpor.ts) split across workers, in deterministic
 * rounds (docs/model.md, "The split search").
 *
 * A subtree task is a prefix of the search tree: the states along a path
 * from the root (the last one's `chosen` is the branch to explore) and the
 * events of its steps, all plain data. A worker searches the subtree below
 * it with the sequential algorithm in its source-set form (source sets and
 * sleep sets, no wakeup trees: ExhaustiveOptions.sourceSets), for at most a
 * budget of executions fixed by the algorithm (never by the worker count),
 * and hands back what it ran, its first finding in its own DFS order, what
 * its race detection added to the states of its prefix (backtrack and
 * conservative points) and, when the budget ran out, its frontier.
 *
 * After each round the driver merges every task's additions, in task order
 * (DFS order), into its own copy of the prefix states (a union of backtrack
 * sets), turns new branches and frontiers into the next round's tasks, and
 * stops at the first round with a finding (reporting the one first in DFS
 * order) or when the budget is spent. A task's sleep sets rely on exactly the
 * branches handed out before its own at each state of its path, as the
 * sequential search's do on the branches explored before; never on a later
 * one, so no two subtrees each leave a trace to the other. The footprints
 * they need (TreeNode.fps) are recorded by the last execution of a task's
 * budget, which passes through every state the task leaves unfinished: the
 * subtree of an earlier branch may not have run yet. So the result depends
 * on the program and the options only, whatever runs the tasks.
 *
 * Wakeup trees do not split this way: a sequence found in one subtree that
 * belongs under a branch already handed out reaches it too late, and the
 * sequential search's rules for what a sequence covers then drop traces
 * (docs/model.md, "The split search").
 */
import type { Finding } from '@ptlab/core';
import { type Event, type ExhaustiveResult, ExhaustiveSearch, type TreeNode } from './dpor.js';
import type { Program, Run } from './execution.js';

/** Executions of a task when fewer than SMALL_ROUND tasks are pending: the tree splits early. */
export const SMALL_TASK_EXECUTIONS = 16;
/** Executions of a task otherwise. */
export const TASK_EXECUTIONS = 128;
const SMALL_ROUND = 8;
/** Tasks per round at most (the rest wait for the next round). */
export const MAX_ROUND_TASKS = 64;

/** What a worker needs besides the program: plain data (it crosses to a worker thread). */
export interface SubtreeOptions {
  readonly por?: boolean | undefined;
  readonly preemptionBound?: number | undefined;
  readonly maxSteps: number;
}

/** One subtree to search (plain data). */
export interface SubtreeTask {
  /** Its place in DFS order: the rank of the branch taken at each state of its path. */
  readonly key: readonly number[];
  /** The states of the prefix; the last one's `chosen` is the branch to explore. Empty: the whole tree. */
  readonly nodes: readonly TreeNode[];
  /** The events of the prefix's steps (one fewer than `nodes`). */
  readonly events: readonly Event[];
  /** Executions to run at most. */
  readonly budget: number;
}

/** What race detection added to one state of a task's prefix. */
export interface PrefixAdditions {
  readonly backtrack: number;
  readonly conservative: number;
  /** The last state only: the footprint of the explored branch's step. */
  readonly fp?: readonly number[] | undefined;
}

export interface SubtreeResult {
  readonly executions: number;
  readonly steps: number;
  readonly sleepBlocked: number;
  readonly truncated: number;
  /** The first finding in the subtree's DFS order (the worker stops there). */
  readonly failing: ExhaustiveResult['failing'];
  readonly prefix: readonly PrefixAdditions[];
  /** The budget ran out: the search stack below the prefix, and its last execution's events. */
  readonly frontier: {
    readonly nodes: readonly TreeNode[];
    readonly events: readonly Event[];
  } | null;
  readonly threads: number;
}

/** Tests only: callbacks a worker in this process runs (see ExhaustiveOptions). */
export interface SubtreeHooks {
  readonly onComplete?: ((run: Run) => void) | undefined;
  readonly onTrace?: ((events: readonly Event[]) => void) | undefined;
  readonly allFindings?: boolean | undefined;
  readonly onFinding?: ((finding: Finding, picks: readonly string[]) => void) | undefined;
}

/** Search one subtree task: what a worker does. */
export function exploreSubtree(
  program: Program,
  o: SubtreeOptions,
  task: SubtreeTask,
  hooks: SubtreeHooks = {},
): SubtreeResult {
  const floor = task.nodes.length;
  const search = new ExhaustiveSearch(
    program,
    {
      por: o.por ?? true,
      preemptionBound: o.preemptionBound,
      sourceSets: true,
      siblingFootprints: o.preemptionBound === undefined,
      maxExecutions: task.budget,
      maxSteps: o.maxSteps,
      ...hooks,
    },
    floor ? { nodes: task.nodes, events: task.events } : undefined,
  );
  const r = search.run();
  const st = search.subtreeState();
  const prefix = st.stack.slice(0, floor).map(
    (n, j): PrefixAdditions => ({
      backtrack: n.backtrack,
      conservative: n.conservative,
      ...(j === floor - 1 ? { fp: n.doneFp[n.chosen] } : {}),
    }),
  );
  // Stopped at a finding: no frontier (the driver stops after this round). Else a stack
  // deeper than the prefix means the budget ran out with its top's branch still to explore.
  const stoppedAtFinding = r.failing !== null && !hooks.allFindings;
  const frontier =
    !stoppedAtFinding && st.stack.length > floor
      ? { nodes: st.stack.slice(floor), events: st.events.slice(0, st.stack.length - 1) }
      : null;
  return {
    executions: r.executions,
    steps: r.steps,
    sleepBlocked: r.sleepBlocked,
    truncated: r.truncated,
    failing: r.failing,
    prefix,
    frontier,
    threads: st.threads,
  };
}

export interface SplitOptions extends SubtreeOptions {
  /** Executions to run at most over all rounds (checked when a round's budgets are handed out). */
  readonly maxExecutions: number;
  /** Tests: keep exploring after a finding (the workers' hooks collect them). */
  readonly allFindings?: boolean | undefined;
  /** Executions per task instead of the algorithm's own (tests: force many rounds); never the worker count. */
  readonly taskExecutions?: number | undefined;
  /** After every round. */
  readonly onProgress?: ((p: { executions: number; steps: number }) => void) | undefined;
}

export interface SplitResult extends ExhaustiveResult {
  readonly rounds: number;
  readonly tasks: number;
}

export type RunTasks = (tasks: readonly SubtreeTask[]) => Promise<readonly SubtreeResult[]>;
export type RunTasksSync = (tasks: readonly SubtreeTask[]) => readonly SubtreeResult[];

/** A state of the driver's tree: the state, and the branches handed out from it. */
interface DNode {
  readonly node: TreeNode;
  readonly parent: DNode | null;
  /** The branch at the parent leading here. */
  readonly via: number;
  readonly depth: number;
  /** Events of a path through here: the first `depth` are this state's prefix. */
  readonly events: readonly Event[];
  /** Ranks of the branches along the path to here (DFS order). */
  readonly key: readonly number[];
  /** By thread: the order its branch was handed out here. */
  readonly rank: number[];
  /** By thread: the branches explored before it that its subtree may rely on (a mask). */
  readonly view: number[];
  nextRank: number;
}

const bit = (t: number): number => 1 << t;

/**
 * Branches of `n` handed out so far whose first step's footprint is known:
 * explored in an earlier round, or (TreeNode.fps) any.
 */
function explored(n: TreeNode): number {
  let m = 0;
  for (let u = 0; u < 31; u++)
    if (n.done & bit(u) && (n.doneFp[u] ?? n.fps?.[u]) !== undefined) m |= bit(u);
  return m;
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/** The split search's rounds: yields each round's tasks, takes their results. */
function* rounds(
  program: Program,
  o: SplitOptions,
): Generator<readonly SubtreeTask[], SplitResult, readonly SubtreeResult[]> {
  // Chooses branches at the driver's states exactly as the sequential search would.
  const chooser = new ExhaustiveSearch(program, {
    por: o.por ?? true,
    preemptionBound: o.preemptionBound,
    sourceSets: true,
    maxExecutions: 1,
    maxSteps: o.maxSteps,
  });
  interface Pending {
    readonly key: readonly number[];
    readonly at: DNode | null;
    readonly branch: number;
  }
  let pending: Pending[] = [{ key: [], at: null, branch: -1 }];
  let executions = 0;
  let steps = 0;
  let sleepBlocked = 0;
  let truncated = 0;
  let nRounds = 0;
  let nTasks = 0;

  const chainOf = (n: DNode | null): DNode[] => {
    const c: DNode[] = [];
    for (let a = n; a; a = a.parent) c.unshift(a);
    return c;
  };
  /** Hand out branch `t` of `n` (already marked done there): its rank and what it may rely on. */
  const handOut = (n: DNode, t: number): Pending => {
    n.rank[t] = n.nextRank++;
    n.view[t] = explored(n.node) & ~bit(t);
    return { key: [...n.key, n.rank[t] as number], at: n, branch: t };
  };
  /** The state `a` as the subtree through its branch `p` sees it. */
  const viewOf = (a: DNode, p: number): TreeNode => {
    const view = a.view[p] ?? 0;
    const doneFp: (readonly number[] | undefined)[] = [];
    for (let u = 0; u < 31; u++) if (view & bit(u)) doneFp[u] = a.node.doneFp[u] ?? a.node.fps?.[u];
    return {
      ...a.node,
      chosen: p,
      done: view | bit(p),
      doneFp,
      fps: undefined,
      wut: [],
      childWut: null,
    };
  };
  const taskOf = (p: Pending, budget: number): SubtreeTask => {
    if (!p.at) return { key: p.key, nodes: [], events: [], budget };
    const chain = chainOf(p.at);
    const nodes = chain.map((a, i) => {
      const last = i === chain.length - 1;
      return viewOf(a, last ? p.branch : (chain[i + 1] as DNode).via);
    });
    return { key: p.key, nodes, events: p.at.events.slice(0, p.at.depth), budget };
  };

  // The result so far: every return below is the same counts with a different ending.
  const result = (complete: boolean, failing: SplitResult['failing']): SplitResult => ({
    complete,
    executions,
    sleepBlocked,
    truncated,
    steps,
    failing,
    rounds: nRounds,
    tasks: nTasks,
  });

  for (;;) {
    if (pending.length === 0) return result(truncated === 0, null);
    let left = o.maxExecutions - executions;
    if (left <= 0) return result(false, null);
    pending.sort((a, b) => compareKeys(a.key, b.key));
    const each =
      o.taskExecutions ?? (pending.length < SMALL_ROUND ? SMALL_TASK_EXECUTIONS : TASK_EXECUTIONS);
    const batch: Pending[] = [];
    const tasks: SubtreeTask[] = [];
    while (batch.length < pending.length && left > 0 && batch.length < MAX_ROUND_TASKS) {
      const p = pending[batch.length] as Pending;
      const budget = Math.min(each, left);
      left -= budget;
      batch.push(p);
      tasks.push(taskOf(p, budget));
    }
    pending = pending.slice(batch.length);
    const results = yield tasks;
    if (results.length !== tasks.length)
      throw new Error(`split search: ${tasks.length} tasks sent, ${results.length} results back`);
    nRounds++;
    nTasks += tasks.length;
    let failing: SplitResult['failing'] = null;
    const touched = new Set<DNode>();
    for (let k = 0; k < batch.length; k++) {
      const p = batch[k] as Pending;
      const r = results[k] as SubtreeResult;
      chooser.setThreads(r.threads);
      executions += r.executions;
      steps += r.steps;
      sleepBlocked += r.sleepBlocked;
      truncated += r.truncated;
      if (r.failing && !failing) failing = r.failing;
      // Merge what its race detection added to the states of its prefix.
      const chain = chainOf(p.at);
      if (r.prefix.length !== chain.length)
        throw new Error(
          `split search: a result for ${chain.length} prefix states has ${r.prefix.length}`,
        );
      for (let j = 0; j < chain.length; j++) {
        const a = chain[j] as DNode;
        const add = r.prefix[j] as PrefixAdditions;
        a.node.backtrack |= add.backtrack;
        a.node.conservative |= add.conservative;
        if (j === chain.length - 1 && add.fp) a.node.doneFp[p.branch] = add.fp;
        touched.add(a);
      }
      // Its frontier: states of the driver's tree; the top's branch is a task of its own.
      const fr = r.frontier;
      if (fr) {
        let parent = p.at;
        let via = p.branch;
        const depth0 = p.at ? p.at.depth + 1 : 0;
        fr.nodes.forEach((node, i) => {
          const d: DNode = {
            node,
            parent,
            via,
            depth: depth0 + i,
            events: fr.events,
            key: parent ? [...parent.key, parent.rank[via] as number] : [],
            rank: [],
            view: [],
            nextRank: 0,
          };
          const h = handOut(d, node.chosen);
          if (i === fr.nodes.length - 1) pending.push(h);
          touched.add(d);
          parent = d;
          via = node.chosen;
        });
      }
    }
    o.onProgress?.({ executions, steps });
    if (failing && !o.allFindings) return result(false, failing);
    // New branches, where the merges added them.
    for (const n of touched)
      while (chooser.takeBranch(n.node)) pending.push(handOut(n, n.node.chosen));
  }
}

/** The split search with a runner that may run the tasks anywhere (worker threads). */
export async function splitSearch(
  program: Program,
  o: SplitOptions,
  runTasks: RunTasks,
): Promise<SplitResult> {
  const g = rounds(program, o);
  let step = g.next();
  while (!step.done) step = g.next(await runTasks(step.value));
  return step.value;
}

/** The split search with a runner that runs the tasks before returning. */
export function splitSearchSync(
  program: Program,
  o: SplitOptions,
  runTasks: RunTasksSync,
): SplitResult {
  const g = rounds(program, o);
  let step = g.next();
  while (!step.done) step = g.next(runTasks(step.value));
  return step.value;
}

/**
 * Runs tasks one after another in this process, through structuredClone both
 * ways, as a worker thread would see them (tests; and the reference the
 * worker runners must equal).
 */
export function inProcessRunner(
  program: Program,
  o: SubtreeOptions,
  hooks: SubtreeHooks = {},
): RunTasksSync {
  return (tasks) =>
    tasks.map((t) => structuredClone(exploreSubtree(program, o, structuredClone(t), hooks)));
}
