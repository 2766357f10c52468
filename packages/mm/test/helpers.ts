/**
 * Test helpers for @ptlab/mm: a kernel on GenericArch with x86-64 constants,
 * boot-time set-up (a shmem file with a THP, a vma, PTEs mapping its pages),
 * and a small deterministic driver (mm cannot depend on @ptlab/explore, which
 * is not below it): run the tasks, then teardown and the leak check.
 */
import {
  type AddressSpace,
  type ArchConfig,
  addMmCounter,
  BugFound,
  type CheckId,
  type Ctx,
  type Folio,
  GENERIC_CONFIG,
  GenericArch,
  Kernel,
  type KGen,
  type Mm,
  mmCounterFile,
  mmIncNrPtes,
  pmdLockptr,
  pmdOffset,
  pmdPopulate,
  pteOffsetMapLock,
  pteUnmapUnlock,
  runToEnd,
  setPteAt,
  spinLock,
  spinUnlock,
  type Task,
  Vma,
} from '@ptlab/core';
import { folioMapped, teardownAll } from '../src/index.js';

export const CONFIG: ArchConfig = {
  ...GENERIC_CONFIG,
  id: 'mm-test',
  arch: 'test',
  description: 'GenericArch with x86-64 constants and CONFIG_PAGE_TABLE_CHECK, for mm unit tests',
  pageTableCheck: true,
};
export const PAGE = CONFIG.PAGE_SIZE;
export const PMD = CONFIG.PTRS_PER_PTE * PAGE;

export function boot(variants: string[] = []): Kernel {
  return new Kernel({ arch: new GenericArch(CONFIG), variants });
}

export interface World {
  readonly k: Kernel;
  readonly mm: Mm;
  readonly file: AddressSpace;
  readonly thp: Folio;
  readonly vma: Vma;
}

/**
 * mm A maps shmem file "shm" at pmd 1 (one PMD), `shared` or private, with
 * `uffd` VM_UFFD_MISSING; the file's first extent is a THP; `ptes` lists the
 * pages mapped by PTEs (a PTE-mapped THP), `table` says whether A has a PTE
 * table there at all.
 */
export function world(
  o: {
    shared?: boolean;
    uffd?: boolean;
    ptes?: number[];
    table?: boolean;
    variants?: string[];
  } = {},
): World {
  const k = boot(o.variants);
  const ctx = k.boot;
  const file = k.createFile('shm', true);
  const thp = k.createFolio('THP', Math.log2(CONFIG.PTRS_PER_PTE), file, 0);
  const mm = k.createMm('A');
  const flags = { shared: o.shared ?? true, uffdMissing: o.uffd ?? false, uffdWp: false };
  const vma = new Vma(mm, PMD, 2 * PMD, flags, file, 0);
  mm.vmas.push(vma);
  file.iMmap.push(vma);
  if (o.table ?? true) runToEnd(populate(ctx, mm, PMD));
  for (const p of o.ptes ?? []) runToEnd(mapFilePage(ctx, vma, p, thp));
  return { k, mm, file, thp, vma };
}

/** Setup: a PTE table under the pmd of `addr`. */
export function* populate(ctx: Ctx, mm: Mm, addr: number): KGen {
  const pmdp = pmdOffset(ctx, mm, addr);
  const pa = yield* ctx.k.arch.pteAllocOne(ctx, mm);
  if (pa === null) throw new Error('setup: out of memory');
  const pml = pmdLockptr(ctx, mm, pmdp);
  yield* spinLock(ctx, pml);
  mmIncNrPtes(ctx, mm);
  yield* pmdPopulate(ctx, mm, pmdp, pa);
  yield* spinUnlock(ctx, pml);
}

/** Setup: page `p` of the vma mapped by a PTE to `folio`'s page at that file offset, as a fault would. */
export function* mapFilePage(ctx: Ctx, vma: Vma, p: number, folio: Folio): KGen {
  const addr = vma.start + p * PAGE;
  const index = vma.pgoff + p;
  const m = yield* pteOffsetMapLock(ctx, vma.mm, pmdOffset(ctx, vma.mm, addr), addr);
  if (!m) throw new Error('setup: no PTE table');
  const pte = ctx.k.arch.mkPte(folio.pfn + (index - folio.index), { write: vma.flags.shared });
  yield* setPteAt(ctx, vma.mm, m.pte, pte);
  folioMapped(ctx, folio);
  addMmCounter(vma.mm, mmCounterFile(folio), 1);
  yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
}

/** A finding as tests see it. */
export interface Bug {
  readonly check: CheckId;
  readonly message: string;
}

/** What a run did: the finding (if any) and the step labels, task by task. */
export interface Run {
  readonly finding: Bug | null;
  readonly steps: readonly { task: string; what: string }[];
}

function task(k: Kernel, name: string): Task {
  const t = k.allTasks.find((x) => x.name === name);
  if (!t) throw new Error(`no task ${name}`);
  return t;
}

/**
 * Run the spawned tasks: first `script` (each entry: run that task until its
 * pending step matches the pattern, or with '*' until it blocks or ends), then
 * the previous task while it can, else the first runnable task, daemons last;
 * then teardown (exit, truncate, rcu_barrier) and the leak check, unless
 * `teardown` is false.
 */
export function run(
  k: Kernel,
  script: readonly [string, RegExp | '*'][] = [],
  o: { teardown?: boolean } = {},
): Run {
  const steps: { task: string; what: string }[] = [];
  const advance = (t: Task): void => {
    steps.push({ task: t.name, what: t.pendingLabel ?? '' });
    t.advance();
    k.stepNo++;
  };
  try {
    // Resumable: daemons once, and only tasks not started yet (a test may run in stages).
    if (k.daemons.length === 0) k.startDaemons();
    for (const t of k.allTasks) if (!t.done && t.pending === null) t.start();
    for (const [name, until] of script) {
      const t = task(k, name);
      while (t.runnable && (until === '*' || !until.test(t.pendingLabel ?? ''))) advance(t);
    }
    let prev: Task | null = null;
    let tornDown = o.teardown === false;
    for (let n = 0; n < 20_000; n++) {
      if (!tornDown && k.tasks.every((t) => t.done)) {
        tornDown = true;
        k.spawn('teardown', teardownAll).start();
      }
      const runnable = k.allTasks.filter((t) => t.runnable);
      if (!runnable.length) {
        const stuck = k.tasks.filter((t) => !t.done);
        if (stuck.length)
          throw new BugFound(
            'deadlock',
            `stuck: ${stuck.map((t) => `${t.name} at ${t.pendingLabel}`).join('; ')}`,
          );
        break;
      }
      const t: Task =
        (prev && runnable.includes(prev) ? prev : undefined) ??
        runnable.find((x) => !x.daemon) ??
        (runnable[0] as Task);
      advance(t);
      prev = t;
    }
    if (o.teardown !== false) k.checkLeaks(k.boot);
    return { finding: null, steps };
  } catch (e) {
    if (!(e instanceof BugFound)) throw e;
    const prefix = `${e.check}: `;
    const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return { finding: { check: e.check, message }, steps };
  }
}
