import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { clientConditions, serverConditions } from './vitest.shared.ts';

export default defineConfig({
  resolve: { conditions: clientConditions },
  ssr: { resolve: { conditions: serverConditions } },
  test: {
    // Every core: vitest's default leaves one free (a single test file at a time on a 2-core
    // machine), while most test files here are one busy thread. On 2 cores at 84c4420: 602 s
    // against 878 s for the whole suite.
    maxWorkers: availableParallelism(),
    // each project has its own vitest.config.ts (test/**/*.test.ts, "source" condition)
    projects: [
      'packages/*/vitest.config.ts',
      'conformance/vitest.config.ts',
      'tools/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
    ],
  },
});
