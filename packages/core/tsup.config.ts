import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.ts';
export default defineConfig(base(['src/index.ts', 'src/testing.ts'], { kernelPaths: true }));
