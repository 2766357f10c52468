import type { Options } from 'tsup';
import { flattenDelegationPlugin } from './tools/build/src/flatten-delegation.ts';

export interface BaseOptions {
  /**
   * The package holds kernel paths (generators a Task drives): build them with
   * every `yield* f(...)` flattened to `yield f(...)` (tools/build, and
   * packages/core/src/call-stack.ts for why). `true`: every source file of the
   * package (each of its generators is a kernel path); a RegExp: the source
   * files whose path it matches.
   */
  readonly kernelPaths?: true | RegExp;
}

/**
 * Shared tsup options for every publishable package.
 * The d.ts build drops the "source" custom condition so that workspace
 * dependencies are typed from their built dist/*.d.ts (turbo builds ^deps first)
 * instead of being pulled into this package's declaration program.
 */
export function base(entry: string[] = ['src/index.ts'], o: BaseOptions = {}): Options {
  return {
    ...(o.kernelPaths
      ? {
          esbuildPlugins: [
            flattenDelegationPlugin(o.kernelPaths === true ? undefined : o.kernelPaths),
          ],
        }
      : {}),
    entry,
    format: ['esm'],
    dts: { compilerOptions: { customConditions: [], noEmit: false, sourceMap: false } },
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
  };
}
