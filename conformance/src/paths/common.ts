import { LIMITS } from '@ptlab/core';
import { z } from 'zod';
import type { World } from './types.js';

/** A pmd slot a scenario names (LIMITS.addrPmdSlots: it fits every valid config). */
export const pmdSlotSchema = z
  .number()
  .int()
  .min(0)
  .max(LIMITS.addrPmdSlots - 1);
/** A page within a pmd a scenario names (LIMITS.addrPtes). */
export const pteIndexSchema = z
  .number()
  .int()
  .min(0)
  .max(LIMITS.addrPtes - 1);

/** An address in arch-neutral units: the pmd slot and the page within it. */
export const addrSchema = z.strictObject({ pmd: pmdSlotSchema, pte: pteIndexSchema });
export type ScenarioAddr = z.output<typeof addrSchema>;
/** The addresses a thread visits in turn (LIMITS.addrsPerThread). */
export const addrListSchema = z.array(addrSchema).max(LIMITS.addrsPerThread);

/** Addresses in scenarios are arch-neutral: pmd slot and page within it. */
export function scenarioAddr(w: World, a: ScenarioAddr): number {
  const c = w.k.config;
  return a.pmd * c.PTRS_PER_PTE * c.PAGE_SIZE + a.pte * c.PAGE_SIZE;
}

export function mmOf(w: World, id: string) {
  const mm = w.mms.get(id);
  if (!mm) throw new Error(`no mm "${id}"`);
  return mm;
}

export function fileOf(w: World, id: string) {
  const f = w.files.get(id);
  if (!f) throw new Error(`no file "${id}"`);
  return f;
}

export function thpOf(w: World, id: string) {
  const f = w.thps.get(id);
  if (!f) throw new Error(`file "${id}" has no THP`);
  return f;
}
