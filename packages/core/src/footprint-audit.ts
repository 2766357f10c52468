/**
 * The footprint audit: a debug mode in which model code that changes shared
 * state outside the primitives asks whether the step whose effect is running
 * declared the object it changes. Partial-order reduction trusts footprints
 * (deps.ts): an effect on an undeclared object makes orders look equivalent
 * that are not, and a verdict silently unsound. Off by default (it costs a
 * footprint evaluation per step); the tests turn it on over the scenarios.
 */
import type { Ctx } from './context.js';
import { describeObj, type ObjId } from './deps.js';
import { ModelError } from './errors.js';

let on = false;

/** Turn the audit on or off (tests). */
export function setFootprintAudit(enabled: boolean): void {
  on = enabled;
}

export function footprintAuditOn(): boolean {
  return on;
}

/**
 * `what` writes `obj`: with the audit on, the step whose effect is running
 * must declare it (or one of `within`, objects containing it) written. Set-up code
 * (no step) is not audited.
 */
export function assertEffectWrites(
  ctx: Ctx,
  obj: ObjId,
  /** A function where the text is built from values: built only when the audit is on. */
  what: string | (() => string),
  ...within: readonly ObjId[]
): void {
  if (!on) return;
  const fp = ctx.effectFootprint;
  if (fp === null) return;
  // `within`: objects that contain `obj` (a table's page): writing one writes `obj` too.
  if (fp.includes(obj * 2 + 1) || within.some((o) => fp.includes(o * 2 + 1))) return;
  throw new ModelError(
    'core',
    `footprint audit: ${typeof what === 'string' ? what : what()} writes ${describeObj(obj)} in the effect of step "${ctx.effectLabel}", whose footprint does not declare it (docs/model.md, "Why two steps conflict")`,
  );
}
