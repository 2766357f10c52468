/**
 * ptlab's own ports run unfrozen in their children (child/load.ts), but a
 * module that imports them runs their code behind the freeze. So the suite
 * runs every built-in config, and every arch variant, frozen, in a process of
 * its own (the freeze cannot be undone, and would leak into other tests): a
 * write of ptlab's code to anything the freeze covers ends there as a cell
 * error, as the patching port shows.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
interface Cell {
  readonly cell: string;
  readonly mutant: boolean;
  readonly result: string;
  readonly reason?: string;
}
const runFrozen = (mode: string): Cell[] =>
  JSON.parse(
    execFileSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'test/fixtures/frozen-own/run.ts', mode],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    ),
  ) as Cell[];

describe("ptlab's own ports, frozen as an arch module's child freezes them", () => {
  it('run every config and every arch variant without writing to a frozen object', () => {
    const cells = runFrozen('own');
    expect(cells.length).toBeGreaterThan(60);
    expect(cells.filter((c) => c.result === 'error')).toEqual([]);
    expect(cells.filter((c) => !c.mutant && c.result !== 'pass' && c.result !== 'n/a')).toEqual([]);
    expect(cells.filter((c) => c.mutant && c.result === 'fail').length).toBeGreaterThan(0);
  }, 150_000);

  it('a port that patches a frozen class fails its cell, naming the write', () => {
    const cells = runFrozen('patching-port');
    expect(cells).toHaveLength(1);
    expect(cells[0]?.result).toBe('error');
    expect(cells[0]?.reason).toMatch(/Cannot add property cached, object is not extensible/);
  }, 150_000);
});
