/**
 * The order a mutant's scenarios run in (mutantOrder()): measured killers
 * first, then the scenarios that declare its checks, then the rest, each of
 * those two groups cheapest first. Only the cost of a unit depends on it.
 */
import { describe, expect, it } from 'vitest';
import { loadScenarios, mutantCatalogue, mutantOrder } from '../src/index.js';
import { generic as port } from './generic-port.js';

const { scenarios } = loadScenarios();
const m = mutantCatalogue([port]).find((x) => x.id === 'retract-without-recheck');
if (!m) throw new Error('mutant retract-without-recheck missing');
const ids = (xs: readonly { id: string }[]) => xs.map((s) => s.id);
const aims = (s: (typeof scenarios)[0]) => m.checks.some((c) => s.checks.includes(c));

describe('mutantOrder', () => {
  it('without killers: those that declare its checks, then the rest, in suite order', () => {
    const order = mutantOrder(scenarios, m);
    expect(order.length).toBe(scenarios.length);
    const k = order.findIndex((s) => !aims(s));
    expect(k).toBeGreaterThan(0);
    expect(order.slice(k).some(aims)).toBe(false);
    expect(ids(order.slice(0, k))).toEqual(ids(scenarios.filter(aims)));
  });

  it('puts the killers first, in the order given, once each; unknown ids are ignored', () => {
    const late = scenarios.filter((s) => !aims(s)).at(-1)?.id as string;
    const aimed = scenarios.filter(aims).at(-1)?.id as string;
    const order = mutantOrder(scenarios, m, undefined, [late, 'no-such-scenario', aimed, late]);
    expect(ids(order.slice(0, 2))).toEqual([late, aimed]);
    expect(new Set(ids(order)).size).toBe(scenarios.length);
    expect(order.length).toBe(scenarios.length);
  });

  it('orders the rest cheapest first within each group', () => {
    const cost = (s: (typeof scenarios)[0]) => -scenarios.indexOf(s);
    const order = mutantOrder(scenarios, m, cost);
    expect(ids(order)).toEqual([
      ...ids(scenarios.filter(aims).reverse()),
      ...ids(scenarios.filter((s) => !aims(s)).reverse()),
    ]);
  });
});
