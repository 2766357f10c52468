import { PtlabError, UsageError } from '@ptlab/core';
import { closest, distance } from 'fastest-levenshtein';
import pc from 'picocolors';

/**
 * Colour only on a terminal: NO_COLOR (any value) turns it off, FORCE_COLOR
 * (anything but "0") turns it on even when piped. https://no-color.org
 */
export function colourEnabled(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export type Colours = ReturnType<typeof pc.createColors>;
export const colours = (on: boolean): Colours => pc.createColors(on);

/**
 * One prefix for every error the CLI prints: `ptlab: <where>: <message>`, with
 * the `where` left out when it is the CLI itself (so no `ptlab: [ptlab] ...`).
 */
export function errorLine(e: unknown): string {
  if (e instanceof PtlabError) {
    const tag = `[${e.where}] `;
    const msg = e.message.startsWith(tag) ? e.message.slice(tag.length) : e.message;
    return e.where === 'ptlab' ? `ptlab: ${msg}` : `ptlab: ${e.where}: ${msg}`;
  }
  return `ptlab: ${e instanceof Error ? e.message : String(e)}`;
}

/** The known id closest to `id`, if it is close enough to be a likely typo. */
export function didYouMean(id: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(id, known as string[]);
  const d = distance(id, best);
  return d <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** `unknown <what> "id" (did you mean "x"?; known: ...)`, as a UsageError. */
export function unknownId(what: string, id: string, known: readonly string[]): UsageError {
  const guess = didYouMean(id, known);
  return new UsageError(
    `unknown ${what} "${id}"${guess ? ` (did you mean "${guess}"?)` : ''}; known: ${known.join(', ') || '(none)'}`,
  );
}
