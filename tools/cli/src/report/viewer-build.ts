/**
 * The viewer's browser code (client/viewer.ts) bundled into one script, as
 * it is inlined in every trace page. scripts/viewer.ts writes the result to
 * viewer-bundle.ts; a test checks that file is what this produces now.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VIEWER_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'client', 'viewer.ts');

export async function bundleViewer(): Promise<string> {
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: [VIEWER_ENTRY],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const out = r.outputFiles[0];
  if (!out) throw new Error('esbuild wrote nothing');
  return out.text;
}
