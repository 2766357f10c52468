/**
 * Runs engine-child.ts on a checkout and reads its figures: without the
 * "source" condition when the checkout's packages are built (they then
 * resolve to dist/ all the way down), with it when they are not.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EngineFigures, GeneratorFigures } from './engine.js';
import { builtPackages } from './workload.js';

export interface EngineRun {
  readonly engine: EngineFigures;
  readonly generators: GeneratorFigures;
}

export function runEngineChild(
  root: string,
  label: string,
  o: { schedules: number; repeats: number; generatorSteps: number },
): EngineRun {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fileURLToPath(new URL('./engine-child.ts', import.meta.url));
  const out = execFileSync(
    process.execPath,
    [
      ...(builtPackages(root) ? [] : ['--conditions=source']),
      '--import',
      tsx,
      child,
      root,
      label,
      String(o.schedules),
      String(o.repeats),
      String(o.generatorSteps),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out) as EngineRun;
}
