import { runConformance } from '@ptlab/conformance/vitest';
import { arm } from '../src/index.js';

runConformance({ arch: arm });
