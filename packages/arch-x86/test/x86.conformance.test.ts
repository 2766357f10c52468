import { runConformance } from '@ptlab/conformance/vitest';
import { x86 } from '../src/index.js';

runConformance({ arch: x86 });
