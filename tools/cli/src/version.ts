import { readFileSync } from 'node:fs';

/** The CLI's version, read from its package.json (src/ and dist/ both sit one level below it). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
