/**
 * Test helpers for @ptlab/arch-powerpc: boot a kernel on one powerpc config,
 * run kernel generators in boot context, and step spawned tasks by hand.
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
import { type PowerpcArch, powerpc } from '../src/index.js';

export interface Booted {
  readonly k: Kernel;
  readonly a: PowerpcArch;
  readonly mm: Mm;
  /** Boot context: no racing CPU, every step runs at once. */
  readonly ctx: Ctx;
}

/** A fresh kernel with one mm on `config` (optionally as a variant, with fault injection). */
export function boot(
  config: ArchConfig,
  opts: { variant?: string; inject?: readonly string[] } = {},
): Booted {
  const a = powerpc.create(config, opts.variant) as PowerpcArch;
  const k = new Kernel({ arch: a, inject: opts.inject ?? [] });
  const mm = k.createMm('A');
  return { k, a, mm, ctx: k.boot };
}

/** Run a kernel generator to its end in boot context. */
export function run<T>(gen: KCall<T>): T {
  return runToEnd(gen);
}

/** The struct page of the page holding `pa`. */
export function pageOf(b: Booted, pa: number): PageMeta {
  return b.k.pages.raw(Math.floor(pa / b.k.config.PAGE_SIZE));
}

/** pt_frag_refcount of the page holding `pa`. */
export function refs(b: Booted, pa: number): number {
  return b.a.fragRefcount(pageOf(b, pa));
}

/** Whether the page holding `pa` is allocated. */
export function allocated(b: Booted, pa: number): boolean {
  return pageOf(b, pa).allocated;
}

export {
  catchFinding as finding,
  rcuDriver,
  stepTask as step,
  stepUntil as until,
} from '@ptlab/core/testing';
