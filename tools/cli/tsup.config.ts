import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.ts';

// bin: the command; child: the process arch modules run in (found next to the
// bundle as ./child.js); split-worker: a worker thread of check --split (found
// next to it as ./split-worker.js); index: the programmatic API. @ptlab/* stay
// external dependencies, so an arch module and the CLI share one copy of them.
const b = base(['src/index.ts']);
export default defineConfig({
  ...b,
  entry: {
    index: 'src/index.ts',
    bin: 'src/bin.ts',
    child: 'src/child/entry.ts',
    'split-worker': 'src/split/worker.ts',
  },
  dts: typeof b.dts === 'object' ? { ...b.dts, entry: { index: 'src/index.ts' } } : b.dts,
});
