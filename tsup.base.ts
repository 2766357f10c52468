import type { Options } from 'tsup';

/**
 * Shared tsup options for every publishable package.
 * The d.ts build drops the "source" custom condition so that workspace
 * dependencies are typed from their built dist/*.d.ts (turbo builds ^deps first)
 * instead of being pulled into this package's declaration program.
 */
export function base(entry: string[] = ['src/index.ts']): Options {
  return {
    entry,
    format: ['esm'],
    dts: { compilerOptions: { customConditions: [], noEmit: false, sourceMap: false } },
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
  };
}
