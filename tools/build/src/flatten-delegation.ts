/**
 * The build's rewrite of kernel-path calls: every `yield* f(...)` becomes
 * `yield  f(...)` (the `*` replaced by a space, so lines and columns, and with
 * them the source maps, stay as they were). The task then resumes only the
 * innermost generator of a call chain and keeps the chain itself
 * (packages/core/src/call-stack.ts): the same steps, without forwarding each
 * one through every level of the chain.
 *
 * Only a call may be delegated to: `yield*` over anything else (an array, a
 * stored iterator) is a build error naming the file and line, because the
 * task could not tell its items from a callee.
 */
import { readFile } from 'node:fs/promises';
import type { Options } from 'tsup';
import ts from 'typescript';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/** A `yield*` the rewrite refuses. */
export class DelegationError extends Error {
  override readonly name = 'DelegationError';
}

/** `text` (TypeScript, named `file` in errors) with each `yield* call` turned into `yield  call`. */
export function flattenDelegation(text: string, file: string): string {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const stars: number[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isYieldExpression(n) && n.asteriskToken) {
      const e = n.expression;
      if (!e || !ts.isCallExpression(skipParens(e))) {
        const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
        throw new DelegationError(
          `${file}:${line + 1}: yield* over ${e ? `"${e.getText(sf).slice(0, 60)}"` : 'nothing'}, not a call: a kernel path delegates only to a function it calls`,
        );
      }
      stars.push(n.asteriskToken.getStart(sf));
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  if (stars.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of stars) {
    out += `${text.slice(at, s)} `;
    at = s + 1;
  }
  return out + text.slice(at);
}

function skipParens(e: ts.Expression): ts.Expression {
  return ts.isParenthesizedExpression(e) ? skipParens(e.expression) : e;
}

/**
 * Whether the plugin rewrites the file at `path`: a package's own .ts source
 * (under a src/ directory, not in node_modules), and, with `only`, one whose
 * path matches it. `only` is written with `/` and tested against the path
 * with `/` separators, so the same pattern works on Windows.
 */
export function rewritesFile(path: string, only?: RegExp): boolean {
  const p = path.replaceAll('\\', '/');
  return /\/src\/.*\.ts$/.test(p) && !p.includes('/node_modules/') && (!only || only.test(p));
}

/**
 * An esbuild plugin (tsup esbuildPlugins) applying flattenDelegation() to a
 * package's own .ts sources, or to those whose path matches `only`
 * (rewritesFile()).
 */
export function flattenDelegationPlugin(only?: RegExp): EsbuildPlugin {
  return {
    name: 'ptlab-flatten-delegation',
    setup(build) {
      // esbuild hands Windows paths with `\`: the filter takes either separator, rewritesFile() decides.
      build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        if (!rewritesFile(args.path, only)) return undefined;
        const text = await readFile(args.path, 'utf8');
        return { contents: flattenDelegation(text, args.path), loader: 'ts' };
      });
    },
  };
}
