import { defineConfig } from 'tsup';
import { base } from '../tsup.base.ts';

// program.ts and paths/ are kernel paths; runner.ts's cell-search generator is not.
export default defineConfig(
  base(['src/index.ts', 'src/vitest.ts'], { kernelPaths: /\/src\/(program\.ts|paths\/)/ }),
);
