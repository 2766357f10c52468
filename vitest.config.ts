import { defineConfig } from 'vitest/config';
import { clientConditions, serverConditions } from './vitest.shared.ts';

export default defineConfig({
  resolve: { conditions: clientConditions },
  ssr: { resolve: { conditions: serverConditions } },
  test: {
    // each project has its own vitest.config.ts (test/**/*.test.ts, "source" condition)
    projects: [
      'packages/*/vitest.config.ts',
      'conformance/vitest.config.ts',
      'tools/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
    ],
  },
});
