/**
 * Test helpers for @ptlab/arch-arm: boot a kernel on one arm config, map a
 * shmem file shared at several pmd slots of one mm, and drive tasks by hand.
 */

import {
  type AddressSpace,
  type ArchConfig,
  type CheckId,
  type Ctx,
  type Folio,
  type KCall,
  Kernel,
  type Mm,
  type PtePtr,
  pmdOffset,
  pmdSize,
  pteAlloc,
  pteOffsetMapLock,
  pteUnmapUnlock,
  runToEnd,
  setPteAt,
  type Task,
  Vma,
} from '@ptlab/core';
import { catchFinding } from '@ptlab/core/testing';
import { type ArmArch, arm } from '../src/index.js';

export interface Booted {
  readonly k: Kernel;
  readonly a: ArmArch;
  readonly mm: Mm;
  readonly ctx: Ctx;
}

/** A fresh kernel with one mm on `config`, optionally as a variant. */
export function boot(config: ArchConfig, variant?: string): Booted {
  const a = arm.create(config, variant) as ArmArch;
  const k = new Kernel({ arch: a });
  const mm = k.createMm('A');
  return { k, a, mm, ctx: k.boot };
}

/** Run a kernel generator to its end in boot context. */
export function run<T>(gen: KCall<T>): T {
  return runToEnd(gen);
}

/** A shmem file with one small folio at page index 5, mapped shared at each of `pmds` (pgoff 0). */
export function sharedMappings(
  b: Booted,
  pmds: readonly number[],
): { file: AddressSpace; folio: Folio; vmas: Vma[] } {
  const { k, mm } = b;
  const file = k.createFile('shm', true);
  const folio = k.createFolio('page@5', 0, file, 5);
  const PMD = pmdSize(k.boot);
  const vmas = pmds.map((n) => {
    const v = new Vma(
      mm,
      n * PMD,
      (n + 1) * PMD,
      { shared: true, uffdMissing: false, uffdWp: false },
      file,
      0,
    );
    mm.vmas.push(v);
    file.iMmap.push(v);
    return v;
  });
  return { file, folio, vmas };
}

/** Address of page index 5 in a vma mapping pgoff 0. */
export function pageAddr(v: Vma, b: Booted): number {
  return v.start + 5 * b.k.config.PAGE_SIZE;
}

/** Setup: give `addr` a PTE table and install `pte` there, under the ptl. */
export function installPte(b: Booted, addr: number, pte: number): PtePtr {
  const { k, mm, ctx } = b;
  const pmdp = pmdOffset(ctx, mm, addr);
  if (run(pteAlloc(ctx, mm, pmdp)) !== 0) throw new Error('installPte: OOM');
  const m = run(pteOffsetMapLock(ctx, mm, pmdp, addr));
  if (!m) throw new Error('installPte: no table');
  run(setPteAt(ctx, mm, m.pte, pte));
  run(pteUnmapUnlock(ctx, m.pte, m.ptl));
  void k;
  return m.pte;
}

/** Run `t` to its end, one step at a time, calling `each` before each step. */
export function stepAll(t: Task, each: (t: Task) => void = () => {}): void {
  while (!t.done) {
    each(t);
    t.advance();
  }
}

/** The check a body raises (null if none). */
export function checkOf(fn: () => void): CheckId | null {
  return catchFinding(fn)?.check ?? null;
}
