/**
 * The footprint audit (core footprint-audit.ts) at the folio accounting of
 * mm: it fires when a folio's mapping is counted in the effect of a step that
 * does not declare the folio, and stays silent in one that does. (The suite
 * runs with it on in tools/cli/test/footprint-audit.test.ts.)
 */
import { type Ctx, ModelError, pageObj, setFootprintAudit } from '@ptlab/core';
import { afterEach, describe, expect, it } from 'vitest';
import { folioMapped, folioUnmapped } from '../src/index.js';
import { world } from './helpers.js';

/** Run one task to its end (no other task): its generator's steps in order. */
function runTask(k: ReturnType<typeof world>['k'], body: (ctx: Ctx) => Generator<unknown, void>) {
  const t = k.spawn('t', body as never);
  t.start();
  while (!t.done) t.advance();
}

describe('footprint audit: folio accounting', () => {
  afterEach(() => setFootprintAudit(false));

  it('fires when the step whose effect maps a folio does not declare it', () => {
    const w = world();
    setFootprintAudit(true);
    expect(() =>
      runTask(w.k, function* (ctx) {
        yield ctx.step('an unrelated step', pageObj(12345));
        folioMapped(ctx, w.thp);
      }),
    ).toThrow(ModelError);
  });

  it('names the step and the folio', () => {
    const w = world();
    setFootprintAudit(true);
    expect(() =>
      runTask(w.k, function* (ctx) {
        yield ctx.step('read only', w.thp.refsObj, 'r');
        folioUnmapped(ctx, w.thp);
      }),
    ).toThrow(/folioUnmapped\(THP\) writes folio #\d+ refs in the effect of step "read only"/);
  });

  it('is silent in a step that declares the folio written, and when it is off', () => {
    const w = world();
    setFootprintAudit(true);
    runTask(w.k, function* (ctx) {
      yield ctx.step('rmap', [pageObj(12345), w.thp.refsObj]);
      folioMapped(ctx, w.thp);
      folioUnmapped(ctx, w.thp);
    });
    setFootprintAudit(false);
    runTask(w.k, function* (ctx) {
      yield ctx.step('an unrelated step', pageObj(12345));
      folioMapped(ctx, w.thp);
    });
    expect(w.thp.mapcount).toBe(1);
  });
});
