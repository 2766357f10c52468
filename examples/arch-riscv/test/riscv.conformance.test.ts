import { runConformance } from '@ptlab/conformance/vitest';
import { riscv } from '../src/index.js';

runConformance({ arch: riscv });
