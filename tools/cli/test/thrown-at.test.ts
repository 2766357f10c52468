/**
 * Where an error message says an error was thrown (src/thrown-at.ts): through
 * a built file's source map to its source, the line an arch module threw at
 * when it could not be imported, and nothing (no crash) for a stack that
 * cannot be read.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchModuleError, ModelError } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { causeAt, sourceOf, thrownAt } from '../src/thrown-at.js';

const root = mkdtempSync(join(tmpdir(), 'ptlab-thrown-at-'));
mkdirSync(join(root, 'dist'));
const built = join(root, 'dist', 'chunk.js');
writeFileSync(built, '    throw new Error("x");\n');
// Generated line 1, column 4 is line 3, column 0 of ../src/a.ts ("IAEA": 4, 0, +2, 0).
writeFileSync(
  `${built}.map`,
  JSON.stringify({ version: 3, sources: ['../src/a.ts'], names: [], mappings: 'IAEA' }),
);
const unmapped = join(root, 'dist', 'plain.js');
writeFileSync(unmapped, '');
const broken = join(root, 'dist', 'broken.js');
writeFileSync(`${broken}.map`, '{ not json');

const errorAt = (frame: string) => {
  const e = new Error('boom');
  e.stack = `Error: boom\n    at f (${frame})\n    at g (node:internal/x:1:1)`;
  return e;
};

describe('sourceOf()', () => {
  it('names the source a built file was made from, by its source map', () => {
    expect(sourceOf(built, 1, 5)).toBe(`${join(root, 'src', 'a.ts')}:3`);
  });
  it('names the file itself when it has no map, or one it cannot read', () => {
    expect(sourceOf(unmapped, 7, 1)).toBe(`${unmapped}:7`);
    expect(sourceOf(broken, 2, 3)).toBe(`${broken}:2`);
  });
});

describe('thrownAt()', () => {
  it('reads the first frame of the stack, a file URL or a path, through its map', () => {
    expect(thrownAt(errorAt(`file://${built}:1:5`))).toBe(`${join(root, 'src', 'a.ts')}:3`);
    expect(thrownAt(errorAt(`${unmapped}:12:3`))).toBe(`${unmapped}:12`);
  });
  it('gives nothing for a stack without a file, or one whose getter throws', () => {
    const e = new Error('boom');
    e.stack = 'Error: boom\n    at node:internal/x:1:1';
    expect(thrownAt(e)).toBeNull();
    const hostile = new Error('boom');
    Object.defineProperty(hostile, 'stack', {
      get() {
        throw new Error('no stack for you');
      },
    });
    expect(thrownAt(hostile)).toBeNull();
  });
});

describe('causeAt()', () => {
  it('says where an arch module threw, for the error that wraps it (it could not be imported)', () => {
    const e = new ArchModuleError('m.mjs', 'cannot import the arch module: boom', {
      cause: errorAt(`${unmapped}:4:9`),
    });
    expect(causeAt(e)).toBe(` (thrown at ${unmapped}:4)`);
  });
  it('says nothing without a cause, for a cause that is ptlab’s own error, or one that is no Error', () => {
    expect(causeAt(new ModelError('x', 'y'))).toBe('');
    expect(causeAt(new ArchModuleError('m', 'n', { cause: new ModelError('x', 'y') }))).toBe('');
    expect(causeAt(new ArchModuleError('m', 'n', { cause: 'a string' }))).toBe('');
    expect(causeAt(errorAt(`${unmapped}:4:9`))).toBe('');
  });
});
