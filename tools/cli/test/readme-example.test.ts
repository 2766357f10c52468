/**
 * The README's counterexample is what the command it names prints: every
 * line of its excerpt appears in the output, in order (an excerpt: the story
 * skips steps, and the finding's `check:` line is left out).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/main.js';

const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

/** The command in "A counterexample reads like this (`pnpm ptlab check ...`):" and the block after it. */
function example(): { argv: string[]; lines: string[] } {
  const m = /A counterexample reads like this \(`pnpm ptlab ([^`]+)`\):\s*```\n([\s\S]*?)```/.exec(
    readme,
  );
  if (!m) throw new Error('README.md: no counterexample example found');
  return {
    argv: (m[1] as string).split(/\s+/),
    lines: (m[2] as string).split('\n').filter((l) => l.trim() !== ''),
  };
}

/** Whether `lines` occur in `out` in order (not necessarily adjacent). */
function inOrder(out: string[], lines: string[]): string | null {
  let at = 0;
  for (const l of lines) {
    const i = out.indexOf(l, at);
    if (i < 0) return l;
    at = i + 1;
  }
  return null;
}

describe('README', () => {
  it('shows the counterexample its command prints', async () => {
    const { argv, lines } = example();
    const out: string[] = [];
    const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => out.push(s) });
    expect(code).toBe(1);
    const printed = out.join('\n').split('\n');
    expect(inOrder(printed, lines), 'this README line is not in the output (in order)').toBeNull();
    // The check fires on an excerpt that is not the output.
    expect(inOrder(printed, [...lines].reverse())).not.toBeNull();
  }, 120_000);
});
