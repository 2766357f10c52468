/**
 * cliInvocation(): the command a hint prints is the one that runs the CLI
 * where the user is, from the environment npm and pnpm set (as measured with
 * npm 11 and pnpm 10: `npx` and `npm exec` set npm_command=exec, a package
 * script sets run / run-script and the script's name and text).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInvocation } from '../src/invocation.js';

const NPM = 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false';
const PNPM = 'pnpm/10.34.9 npm/? node/v20.20.2 linux x64';
const bin = '/p/node_modules/.bin/ptlab';
const at = (env: NodeJS.ProcessEnv, script: string | undefined = bin, cwd = '/p') =>
  cliInvocation({ env, script, cwd });

describe('cliInvocation', () => {
  it('npx / npm exec: npx ptlab; pnpm exec: pnpm exec ptlab', () => {
    expect(
      at({ npm_command: 'exec', npm_lifecycle_event: 'npx', npm_config_user_agent: NPM }),
    ).toBe('npx ptlab');
    expect(at({ npm_command: 'exec', npm_config_user_agent: PNPM })).toBe('pnpm exec ptlab');
  });

  it('a package script that is the CLI itself: that script (this repository: pnpm ptlab)', () => {
    const repo = {
      npm_command: 'run-script',
      npm_lifecycle_event: 'ptlab',
      npm_lifecycle_script: 'node tools/cli/dist/bin.js',
      npm_config_user_agent: PNPM,
    };
    expect(at(repo, '/r/tools/cli/dist/bin.js', '/r')).toBe('pnpm ptlab');
    expect(
      at({
        ...repo,
        npm_lifecycle_event: 'ptlab:dev',
        npm_lifecycle_script: 'node --conditions=source --import tsx tools/cli/src/bin.ts',
      }),
    ).toBe('pnpm ptlab:dev');
    expect(
      at({
        npm_command: 'run',
        npm_lifecycle_event: 'lab',
        npm_lifecycle_script: 'ptlab',
        npm_config_user_agent: NPM,
      }),
    ).toBe('npm run lab --');
  });

  it('a package script that runs one subcommand: the local binary', () => {
    const scaffold = {
      npm_command: 'run',
      npm_lifecycle_event: 'conformance',
      npm_lifecycle_script: 'ptlab conformance --arch-module .',
    };
    expect(at({ ...scaffold, npm_config_user_agent: NPM })).toBe('npx ptlab');
    expect(at({ ...scaffold, npm_command: 'run-script', npm_config_user_agent: PNPM })).toBe(
      'pnpm exec ptlab',
    );
  });

  it('started directly: ptlab from the PATH, npx ptlab from node_modules, node <file> for a bundle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptlab-invocation-'));
    const global = join(dir, 'global-bin');
    mkdirSync(global);
    const target = join(dir, 'bin.js');
    writeFileSync(target, '');
    symlinkSync(target, join(global, 'ptlab'));
    expect(at({ PATH: `/nowhere:${global}` }, join(global, 'ptlab'))).toBe('ptlab');
    expect(at({ PATH: '/nowhere' }, bin)).toBe('npx ptlab');
    expect(at({ PATH: '/nowhere' }, '/r/tools/cli/dist/bin.js', '/r')).toBe(
      'node tools/cli/dist/bin.js',
    );
    expect(cliInvocation({ env: {}, script: undefined, cwd: '/' })).toBe('ptlab');
  });
});
