import { QUICK_BUDGET } from '@ptlab/conformance';
import { runConformance } from '@ptlab/conformance/vitest';
import __archCamel__ from '../src/index.js';

// Every scenario of the suite on every config of the port, and the port's own
// variants (each `caught` one must be caught by the check it declares). The
// quick plan keeps this a test you run often; `npm run conformance`
// (`ptlab conformance --arch-module .`) gives the full verdicts, and the mm
// mutants as well.
runConformance({ arch: __archCamel__, budget: QUICK_BUDGET, variants: 'arch' });
