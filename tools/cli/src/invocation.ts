/**
 * How the user started this CLI, so a hint ("replay with: ...") prints a
 * command that works where they are: `pnpm ptlab` in this repository,
 * `npx ptlab` in a project that installed @ptlab/cli, `ptlab` when it is on
 * the PATH. Read from what npm and pnpm put in the environment of what they
 * run (npm_command, npm_lifecycle_event, npm_lifecycle_script,
 * npm_config_user_agent) and from the script path.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { basename, delimiter, join, relative } from 'node:path';

export interface Started {
  readonly env: NodeJS.ProcessEnv;
  /** process.argv[1]: the script node runs. */
  readonly script: string | undefined;
  readonly cwd: string;
}

/** A package script that is the CLI itself ("node tools/cli/dist/bin.js", "ptlab"), not one with a subcommand. */
function scriptIsTheCli(script: string): boolean {
  const words = script.trim().replace(/^'|'$/g, '').split(/\s+/);
  const last = words[words.length - 1] ?? '';
  return /(^|\/)ptlab$/.test(last) || /(^|\/)bin\.[cm]?[jt]s$/.test(last);
}

/** The directory of `script` is on the PATH, as the same file (a global install). */
function onPath(script: string, env: NodeJS.ProcessEnv): boolean {
  let real: string;
  try {
    real = realpathSync(script);
  } catch {
    return false;
  }
  for (const d of (env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    const p = join(d, 'ptlab');
    try {
      accessSync(p, constants.X_OK);
      if (realpathSync(p) === real) return true;
    } catch {
      // not there
    }
  }
  return false;
}

/** The command that runs this CLI again from the same place, e.g. `npx ptlab`. */
export function cliInvocation(
  s: Started = { env: process.env, script: process.argv[1], cwd: process.cwd() },
): string {
  const { env } = s;
  const pnpm = (env.npm_config_user_agent ?? '').startsWith('pnpm/');
  const yarn = (env.npm_config_user_agent ?? '').startsWith('yarn/');
  const event = env.npm_lifecycle_event;
  if (
    (env.npm_command === 'run' || env.npm_command === 'run-script') &&
    event &&
    scriptIsTheCli(env.npm_lifecycle_script ?? '')
  )
    return pnpm || yarn ? `${pnpm ? 'pnpm' : 'yarn'} ${event}` : `npm run ${event} --`;
  // npx / npm exec / pnpm exec, or a package script that runs one ptlab subcommand.
  if (env.npm_command === 'exec' || env.npm_command === 'run' || env.npm_command === 'run-script')
    return pnpm ? 'pnpm exec ptlab' : yarn ? 'yarn ptlab' : 'npx ptlab';
  const script = s.script;
  if (!script || basename(script) === 'ptlab')
    return script && !onPath(script, env) && script.includes('node_modules')
      ? 'npx ptlab'
      : 'ptlab';
  if (/\.[cm]?js$/.test(script)) {
    const rel = relative(s.cwd, script);
    return `node ${rel.startsWith('..') ? script : rel}`;
  }
  return script.includes('node_modules') ? 'npx ptlab' : 'ptlab';
}
