#!/usr/bin/env node
export {};

// `--version` answers before anything heavy is imported; the rest loads on demand.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { cliVersion } = await import('./version.js');
  process.stdout.write(`${cliVersion()}\n`);
} else {
  const { runCli } = await import('./main.js');
  try {
    process.exitCode = await runCli(argv);
  } catch (e) {
    process.stderr.write(
      `ptlab: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 3;
  }
}
