import { QUICK_BUDGET } from '@ptlab/conformance';
import { runConformance } from '@ptlab/conformance/vitest';
import { x86 } from '../src/index.js';

// The quick plan and the port's own variants: the main job (`ptlab conformance`) gives the
// default run's verdicts and runs the mm mutants; conformance/test runs those too.
runConformance({ arch: x86, budget: QUICK_BUDGET, variants: 'arch' });
