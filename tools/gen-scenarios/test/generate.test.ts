/**
 * The generated scenarios: the committed files are what the generator writes,
 * they load with the suite's own schema, every pair of actors that can meet
 * meets in one (or in a listed hand-written scenario), and every pair that
 * cannot has a reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_SCENARIO_DIR, loadScenarios } from '@ptlab/conformance';
import { describe, expect, it } from 'vitest';
import { ACTORS } from '../src/actors.js';
import {
  allPairs,
  allWayPairs,
  generateAll,
  HAND_WRITTEN,
  pairCover,
  pairsCovered,
} from '../src/generate.js';

describe('generated scenarios', () => {
  it('are committed as the generator writes them (pnpm gen:scenarios)', () => {
    const want = generateAll();
    const files = readdirSync(GENERATED_SCENARIO_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(want.map((s) => `${s.id}.json`).sort());
    for (const s of want)
      expect(readFileSync(join(GENERATED_SCENARIO_DIR, `${s.id}.json`), 'utf8')).toBe(
        `${JSON.stringify(s, null, 2)}\n`,
      );
  });

  it('all load', () => {
    const r = loadScenarios([GENERATED_SCENARIO_DIR]);
    expect(r.errors.map((e) => e.message)).toEqual([]);
    expect(r.scenarios).toHaveLength(generateAll().length);
  });

  it('cover every pair of actors that can meet, with at most three threads each', () => {
    const covered = pairsCovered([...pairCover(), ...Object.values(HAND_WRITTEN).flat()]);
    for (const p of allPairs())
      if (!p.why) expect(covered.has([p.a, p.b].sort().join('+')), `${p.a} + ${p.b}`).toBe(true);
    for (const ids of pairCover()) expect(ids.length).toBeLessThanOrEqual(3);
    expect(allPairs()).toHaveLength((ACTORS.length * (ACTORS.length - 1)) / 2);
  });

  it('say why a pair of actors or of ways cannot meet', () => {
    for (const p of allPairs()) if (p.why) expect(p.why.length).toBeGreaterThan(20);
    for (const p of allWayPairs()) if (p.why) expect(p.why.length).toBeGreaterThan(10);
    // exit_mmap() beside a task that runs in the mm is impossible; beside retract it is not.
    const pair = (a: string, b: string) =>
      allPairs().find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
    expect(pair('exit', 'gup_fast')?.why).toMatch(/last user/);
    expect(pair('exit', 'retract')?.why).toBeNull();
  });

  it('name real hand-written scenarios', () => {
    const ids = loadScenarios().scenarios.map((s) => s.id);
    for (const id of Object.keys(HAND_WRITTEN)) expect(ids).toContain(id);
  });

  it('fill a shared page and start the next', () => {
    const fill = generateAll().filter((s) => s.id.startsWith('gen-fill-'));
    expect(fill.map((s) => s.id).sort()).toEqual(['gen-fill-17-tables', 'gen-fill-257-tables']);
  });
});
