import { defineProject } from 'vitest/config';

/**
 * "source" first so workspace packages resolve to src/ (see exports in each package.json);
 * the rest are Vite's defaults, which are replaced (not extended) when conditions are set.
 */
export const clientConditions = ['source', 'module', 'browser', 'development|production'];
export const serverConditions = ['source', 'module', 'node', 'development|production'];

export function project(name: string) {
  return defineProject({
    resolve: { conditions: clientConditions },
    ssr: { resolve: { conditions: serverConditions } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      environment: 'node',
    },
  });
}
