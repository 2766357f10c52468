// Worker entry when ptlab runs from TypeScript source (pnpm ptlab): Node 20
// workers do not pick up the parent's `--import tsx`, so register it here.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./cell-worker.ts');
export default mod.default;
export const runMutantGroup = mod.runMutantGroup;
