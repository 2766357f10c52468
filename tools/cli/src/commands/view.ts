import { writeFileSync } from 'node:fs';
import type { ScenarioLoad } from '@ptlab/conformance';
import { UsageError } from '@ptlab/core';
import type { Child } from '../child/process.js';
import type { LoadedPort } from '../registry.js';
import { tracePage } from '../report/html.js';
import { executeReplay } from './replay.js';

export interface ViewOptions {
  /** Where to write the page (default: the trace's path with .html). */
  readonly output?: string | undefined;
}

/**
 * `ptlab view <trace.json>`: the counterexample as one self-contained HTML
 * page (swimlane, lifelines, struct page, racing events, links). It replays
 * the trace on the code as it is, as `ptlab replay` does, and shows what the
 * schedule does there; a file that is not a valid trace is refused (exit 2).
 */
export async function runView(
  file: string,
  builtins: readonly LoadedPort[],
  scenarios: ScenarioLoad,
  out: (s: string) => void,
  open: (spec: string) => Promise<{ port: LoadedPort; child: Child }>,
  archModules: readonly string[],
  o: ViewOptions,
): Promise<number> {
  const d = await executeReplay(file, builtins, scenarios, open, archModules, {
    continue: false,
    view: true,
  });
  const view = d.run.view;
  if (!view) throw new UsageError(`replay of ${file} drew no view`);
  const target = o.output ?? `${file.replace(/\.json$/i, '')}.html`;
  const html = tracePage(view);
  try {
    writeFileSync(target, html);
  } catch (e) {
    throw new UsageError(`cannot write ${target}: ${(e as Error).message}`);
  }
  out(`${target}: ${view.runs[0]?.outcome ?? ''} (${(html.length / 1024).toFixed(0)} KiB)`);
  return 0;
}
