/**
 * Test helpers for @ptlab/arch-s390: boot a kernel on one s390 config (or
 * variant), run kernel generators in boot context, end grace periods by hand.
 */
import {
  type ArchConfig,
  type Ctx,
  type KCall,
  Kernel,
  type Mm,
  type PageMeta,
  runToEnd,
} from '@ptlab/core';
import { aapp, type S390Arch, s390, s390Context } from '../src/index.js';

export interface Booted {
  readonly k: Kernel;
  readonly a: S390Arch;
  readonly mm: Mm;
  /** Boot context: no racing CPU, every step runs at once. */
  readonly ctx: Ctx;
}

/** A fresh kernel with one mm on `config` (optionally as a variant). */
export function boot(config: ArchConfig, variant?: string): Booted {
  const a = s390.create(config, variant) as S390Arch;
  const k = new Kernel({ arch: a });
  const mm = k.createMm('A');
  return { k, a, mm, ctx: k.boot };
}

/** Run a kernel generator to its end in boot context. */
export function run<T>(gen: KCall<T>): T {
  return runToEnd(gen);
}

/** Allocate a user PTE table (pte_alloc_one()), failing the test on OOM. */
export function alloc(b: Booted): number {
  const pa = run(b.a.pteAllocOne(b.ctx, b.mm));
  if (pa === null) throw new Error('pte_alloc_one() failed');
  return pa;
}

/** The struct page of the page holding `pa`. */
export function pageOf(b: Booted, pa: number): PageMeta {
  return b.k.pages.raw(Math.floor(pa / b.k.config.PAGE_SIZE));
}

/** The AA/PP byte of the page holding `pa`. */
export function bits(b: Booted, pa: number): number {
  return aapp(pageOf(b, pa));
}

/** mm->context.pgtable_list as pfns (pt_list) or half addresses (in-table list). */
export function list(b: Booted): number[] {
  return [...s390Context(b.mm).pgtableList];
}

export { catchFinding as finding, rcuDriver } from '@ptlab/core/testing';
