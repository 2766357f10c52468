/**
 * Small purpose-built programs for the explorer's tests: a few tasks on a
 * Kernel with GenericArch, fast and independent of the conformance scenarios.
 */

import {
  type ArchConfig,
  type Ctx,
  GENERIC_CONFIG,
  GenericArch,
  Kernel,
  type KGen,
  type Mm,
  mmDecNrPtes,
  mmdrop,
  type PmdPtr,
  PTE_OFFSET_MAP_WITHOUT_RCU,
  pmdLock,
  pmdOffset,
  pmdpGet,
  pmdpGetAndClear,
  pteAlloc,
  pteLockptr,
  pteOffsetMap,
  ptepGet,
  pteUnmap,
  runToEnd,
  SINGLE_DEPTH_NESTING,
  SpinLock,
  spinLock,
  spinUnlock,
} from '@ptlab/core';
import { testObj } from '@ptlab/core/testing';
import type { Program } from '../src/index.js';

export const CONFIG: ArchConfig = {
  ...GENERIC_CONFIG,
  id: 'test-generic',
  arch: 'test',
  description: 'GenericArch with x86-64 constants, for explorer tests',
};

const ADDR = 512 * 4096 + 3 * 4096;

/** retract_page_tables() (mm/khugepaged.c, v6.6) for one pmd, under kernel function `fn`. */
function retract(ctx: Ctx, mm: Mm, pmdp: PmdPtr, pa: number, fn: string): KGen {
  return ctx.call(
    fn,
    (function* () {
      const pml = yield* pmdLock(ctx, mm, pmdp);
      const ptl = pteLockptr(ctx, mm, yield* pmdpGet(ctx, pmdp));
      yield* spinLock(ctx, ptl, SINGLE_DEPTH_NESTING);
      yield* pmdpGetAndClear(ctx, mm, pmdp);
      yield* spinUnlock(ctx, ptl);
      yield* spinUnlock(ctx, pml);
      mmDecNrPtes(ctx, mm);
      yield* ctx.k.arch.pteFreeDefer(ctx, mm, pa);
    })(),
  );
}

/** A lockless walker: pte_offset_map(), read one PTE, pte_unmap(). */
function walk(ctx: Ctx, pmdp: PmdPtr): KGen<number | null> {
  return ctx.call(
    'walk',
    (function* () {
      const ptep = yield* pteOffsetMap(ctx, pmdp, ADDR);
      if (!ptep) return null;
      const pte = yield* ptepGet(ctx, ptep);
      yield* pteUnmap(ctx, ptep);
      return pte;
    })(),
  );
}

export interface RaceOptions {
  /** Drop rcu_read_lock() from pte_offset_map() (the mutant): the walker can read a freed table. */
  readonly buggy?: boolean;
  /** Extra tasks doing `noiseSteps` steps each on objects of their own (independent of everything). */
  readonly noise?: number;
  readonly noiseSteps?: number;
  /** Kernel function name of the retract path (changing it changes the step labels: a model change). */
  readonly retractFn?: string;
  /** Called at every boot (to count or log schedules). */
  readonly onBoot?: () => void;
  /** Called with each task name as it takes a step (after the effect). */
  readonly onStep?: (task: string) => void;
}

/**
 * A walker races khugepaged retracting the walker's PTE table. With
 * pte_offset_map() taking rcu_read_lock() and pte_free_defer(), no schedule
 * fails; without the rcu_read_lock() a schedule with one preemption (walker
 * reads the pmd, khugepaged retracts, a grace period ends, the walker reads
 * the PTE) is a use-after-free.
 */
export function retractRace(o: RaceOptions = {}): Program {
  let mm: Mm | null = null;
  return {
    boot(): Kernel {
      o.onBoot?.();
      const k = new Kernel({
        arch: new GenericArch(CONFIG),
        variants: o.buggy ? [PTE_OFFSET_MAP_WITHOUT_RCU] : [],
      });
      const m = k.createMm('A');
      mm = m;
      const pmdp = pmdOffset(k.boot, m, ADDR);
      if (runToEnd(pteAlloc(k.boot, m, pmdp)) !== 0) throw new Error('pte_alloc failed');
      const pa = runToEnd(pmdpGet(k.boot, pmdp)).table?.pa;
      if (pa === undefined) throw new Error('no table');
      const log = o.onStep;
      k.spawn('walker', (ctx) => logged(ctx, 'walker', walk(ctx, pmdp), log), { mm: m });
      k.spawn(
        'khugepaged',
        (ctx) =>
          logged(
            ctx,
            'khugepaged',
            retract(ctx, m, pmdp, pa, o.retractFn ?? 'retract_page_tables'),
            log,
          ),
        { mm: m },
      );
      for (let i = 0; i < (o.noise ?? 0); i++) {
        const name = `noise${i}`;
        k.spawn(name, function* (ctx) {
          for (let s = 0; s < (o.noiseSteps ?? 2); s++) {
            yield ctx.step(`private work ${s}`, testObj(name));
            log?.(name);
          }
        });
      }
      return k;
    },
    teardown: (ctx) => (mm ? mmdrop(ctx, mm) : (function* () {})()),
  };
}

/** Run `gen`, reporting `name` after every step it takes. */
function* logged<T>(
  _ctx: Ctx,
  name: string,
  gen: KGen<T>,
  log: ((task: string) => void) | undefined,
): KGen<T> {
  if (!log) return yield* gen;
  // Forward what each yield returns: after a one-step call's (Leaf's) step, its value.
  let sent: unknown;
  for (;;) {
    const r = gen.next(sent as undefined);
    if (r.done) return r.value;
    sent = yield r.value;
    log(name);
  }
}

/** Tasks whose steps all touch objects of their own: every interleaving is equivalent. */
export function independentTasks(tasks: number, steps: number, onBoot?: () => void): Program {
  return {
    boot(): Kernel {
      onBoot?.();
      const k = new Kernel({ arch: new GenericArch(CONFIG) });
      for (let t = 0; t < tasks; t++) {
        const name = `t${t}`;
        k.spawn(name, function* (ctx) {
          for (let s = 0; s < steps; s++) yield ctx.step(`step ${s}`, testObj(`obj-${name}`));
        });
      }
      return k;
    },
  };
}

/** Two tasks taking two locks in opposite orders (ABBA). */
export function abba(): Program {
  return {
    boot(): Kernel {
      const k = new Kernel({ arch: new GenericArch(CONFIG) });
      const a = new SpinLock('A', 'test', testObj('A'));
      const b = new SpinLock('B', 'page_table_lock', testObj('B'));
      const take = (first: SpinLock, second: SpinLock) =>
        function* (ctx: Ctx): KGen {
          yield* spinLock(ctx, first);
          yield* spinLock(ctx, second);
          yield* spinUnlock(ctx, second);
          yield* spinUnlock(ctx, first);
        };
      k.spawn('one', take(a, b));
      k.spawn('two', take(b, a));
      return k;
    },
  };
}
