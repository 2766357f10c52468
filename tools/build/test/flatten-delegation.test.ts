/**
 * flattenDelegation() and the driver it relies on (packages/core/src/call-stack.ts):
 * the same kernel-path source, run as written (`yield*`) and as the build
 * rewrites it (`yield`), takes the same steps, returns the same values, and
 * passes exceptions through the same finally and catch blocks.
 */
import * as core from '@ptlab/core';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  DelegationError,
  flattenDelegation,
  flattenDelegationPlugin,
  rewritesFile,
} from '../src/index.js';

/** Kernel paths using every way a call returns: a value, a step count, an exception. */
const PATHS = `
function* leaf(ctx, name, n) {
  for (let i = 0; i < n; i++) yield ctx.step(name + ' ' + i, 1, 'r');
  if (name === 'boom') throw new Error('leaf failed');
  return n * 10;
}
function* middle(ctx, log) {
  const a = yield* leaf(ctx, 'a', 2);
  log.push('a=' + a);
  try {
    yield* leaf(ctx, 'boom', 1);
  } catch (e) {
    log.push('caught ' + e.message);
  }
  try {
    return (yield* (leaf(ctx, 'b', a / 10))) + 1;
  } finally {
    log.push('finally');
  }
}
function* top(ctx, log) {
  const m = yield* ctx.call('middle', middle(ctx, log));
  log.push('middle=' + m);
  yield ctx.step('top', 2, 'w');
  return m;
}
return { top, leaf };
`;

type Paths = {
  top(ctx: core.Ctx, log: string[]): core.KGen<number>;
  leaf(ctx: core.Ctx, name: string, n: number): core.KGen<number>;
};

const load = (source: string): Paths => {
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022 } });
  return new Function(js.outputText)() as Paths;
};

const newKernel = (recording: boolean): core.Kernel => {
  const k = new core.Kernel({
    arch: new core.GenericArch({ ...core.GENERIC_CONFIG, id: 'test', arch: 'test' }),
  });
  k.recording = recording;
  return k;
};

/** Spawn `top` as a task and drive it to the end, recording what the story would show. */
function drive(paths: Paths, recording: boolean) {
  const k = newKernel(recording);
  const log: string[] = [];
  const t = k.spawn('t', (ctx) => paths.top(ctx, log));
  const steps: string[] = [];
  t.start();
  while (!t.done) {
    steps.push(`${t.ctx.stack.join('>')}: ${t.pendingLabel}`);
    t.advance();
  }
  return { steps, log, result: t.result };
}

describe('flattenDelegation()', () => {
  const flat = flattenDelegation(PATHS, 'paths.ts');

  it('replaces each yield* with yield and a space, so lines and columns stay', () => {
    expect(flat).not.toContain('yield*');
    expect(flat.length).toBe(PATHS.length);
    expect(flat.split('\n').length).toBe(PATHS.split('\n').length);
    expect(flat).toContain('const a = yield  leaf(ctx');
    expect(flat).toContain('return (yield  (leaf(ctx,');
  });

  it('leaves a file without yield* as it was', () => {
    const src = 'function* f(ctx) { yield ctx.step("x", 1); }\nconst s = "yield* f()";\n';
    expect(flattenDelegation(src, 'plain.ts')).toBe(src);
  });

  it('refuses a yield* over anything but a call, naming the file and line', () => {
    const bad = 'function* f(steps) {\n  yield 1;\n  yield* steps;\n}\n';
    expect(() => flattenDelegation(bad, 'src/bad.ts')).toThrow(DelegationError);
    expect(() => flattenDelegation(bad, 'src/bad.ts')).toThrow(
      /^src\/bad\.ts:3: yield\* over "steps", not a call/,
    );
  });

  for (const recording of [false, true]) {
    it(`the rewritten paths run as the originals do on a task (${recording ? 'recorded: with the call chain' : 'search run'})`, () => {
      const asWritten = drive(load(PATHS), recording);
      const rewritten = drive(load(flat), recording);
      expect(rewritten).toEqual(asWritten);
      expect(asWritten.result).toBe(21);
      expect(asWritten.log).toEqual(['a=20', 'caught leaf failed', 'finally', 'middle=21']);
      expect(asWritten.steps).toEqual(
        ['a 0', 'a 1', 'boom 0', 'b 0', 'b 1', 'top', 'return'].map(
          (s, i) => `${recording && i < 5 ? 'middle' : ''}: ${s}`,
        ),
      );
    });
  }

  it('a path as written may delegate to rewritten ones (a module built without the rewrite calling ptlab)', () => {
    // yield* forwards the callee a rewritten function yields to the task, and the task's
    // next(value) and throw(e) back through the delegating frame to the rewritten one.
    const moduleSrc = `
      return function* modulePath(ctx, log, ptlab) {
        const m = yield* ptlab.top(ctx, log);
        yield ctx.step('module ' + m, 3, 'w');
        return m;
      };`;
    const run = (ptlab: Paths) => {
      const k = newKernel(false);
      const log: string[] = [];
      const modulePath = new Function(
        ts.transpileModule(moduleSrc, { compilerOptions: { target: ts.ScriptTarget.ES2022 } })
          .outputText,
      )() as (ctx: core.Ctx, log: string[], p: Paths) => core.KGen<number>;
      const t = k.spawn('t', (ctx) => modulePath(ctx, log, ptlab));
      const steps: string[] = [];
      t.start();
      while (!t.done) {
        steps.push(t.pendingLabel ?? '');
        t.advance();
      }
      return { steps, log, result: t.result };
    };
    const asWritten = run(load(PATHS));
    expect(run(load(flat))).toEqual(asWritten);
    expect(asWritten.steps).toEqual([
      'a 0',
      'a 1',
      'boom 0',
      'b 0',
      'b 1',
      'top',
      'module 21',
      'return',
    ]);
    expect(asWritten.log).toEqual(['a=20', 'caught leaf failed', 'finally', 'middle=21']);
  });

  it('runToEnd() drives the rewritten form too', () => {
    const k = newKernel(false);
    const log: string[] = [];
    expect(core.runToEnd(load(flat).top(k.boot, log))).toBe(21);
    expect(log).toEqual(['a=20', 'caught leaf failed', 'finally', 'middle=21']);
  });

  it('an exception no frame catches leaves the task, through the finally blocks on its way', () => {
    const src = `
      function* inner(ctx) { yield ctx.step('inner', 1); throw new Error('unhandled'); }
      function* outer(ctx, log) { try { yield* inner(ctx); } finally { log.push('outer finally'); } }
      return { top: outer, leaf: inner };`;
    for (const form of [src, flattenDelegation(src, 'x.ts')]) {
      const log: string[] = [];
      const t = newKernel(false).spawn('t', (ctx) => load(form).top(ctx, log));
      t.start();
      expect(() => t.advance()).toThrow('unhandled');
      expect(t.done).toBe(true);
      expect(log).toEqual(['outer finally']);
    }
  });

  it('without the driver the rewritten form does not work: a plain next() loop sees the callee, not a step', () => {
    const g = load(flat).top(newKernel(false).boot, []);
    const first = g.next().value as unknown as { next?: unknown; what?: unknown };
    expect(typeof first.next).toBe('function');
    expect(first.what).toBeUndefined();
  });
});

describe('which files the build rewrites', () => {
  const CONFORMANCE = /\/src\/(program\.ts|paths\/)/;

  it("a package's own sources, with either path separator", () => {
    expect(rewritesFile('/repo/packages/core/src/locks.ts')).toBe(true);
    expect(rewritesFile('C:\\repo\\packages\\core\\src\\locks.ts')).toBe(true);
    expect(rewritesFile('C:\\repo\\conformance\\src\\paths\\khugepaged.ts', CONFORMANCE)).toBe(
      true,
    );
  });

  it('not a dependency, not a file outside src/, not one `only` leaves out', () => {
    expect(rewritesFile('/repo/node_modules/x/src/a.ts')).toBe(false);
    expect(rewritesFile('C:\\repo\\node_modules\\x\\src\\a.ts')).toBe(false);
    expect(rewritesFile('/repo/packages/core/test/a.ts')).toBe(false);
    expect(rewritesFile('/repo/packages/core/src/a.js')).toBe(false);
    expect(rewritesFile('/repo/conformance/src/runner.ts', CONFORMANCE)).toBe(false);
    expect(rewritesFile('C:\\repo\\conformance\\src\\runner.ts', CONFORMANCE)).toBe(false);
  });

  it("the plugin's esbuild filter lets Windows paths through to that decision", () => {
    let filter: RegExp | undefined;
    const plugin = flattenDelegationPlugin();
    plugin.setup({
      onLoad: (o: { filter: RegExp }) => {
        filter = o.filter;
      },
    } as unknown as Parameters<typeof plugin.setup>[0]);
    expect(filter?.test('C:\\repo\\packages\\mm\\src\\collapse.ts')).toBe(true);
    expect(filter?.test('/repo/packages/mm/src/collapse.ts')).toBe(true);
    expect(filter?.test('/repo/packages/mm/test/collapse.ts')).toBe(false);
  });
});
