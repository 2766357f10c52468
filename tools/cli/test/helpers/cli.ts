import { runCli } from '../../src/main.js';

/** Run the CLI in this process; its exit code, stdout and stderr, and both as one text. */
export async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return {
    code,
    out: out.join('\n'),
    err: err.join('\n'),
    text: `${out.join('\n')}\n${err.join('\n')}`,
  };
}
