/**
 * `ptlab conformance --html DIR`: DIR/index.html (the matrix, the mutants,
 * the known findings) and one trace-viewer page per failing cell under
 * DIR/traces/, each self-contained.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Report } from '../report-schema.js';
import { type IndexInput, indexPage, tracePage } from './html.js';
import { TraceViewSchema } from './view-schema.js';

export interface HtmlReportInput {
  readonly dir: string;
  readonly report: Report;
  /** Each trace the report names, with its drawing for the viewer if the run made one. */
  readonly traces: readonly (readonly [path: string, view: unknown])[];
  readonly kernels: IndexInput['kernels'];
  readonly mutantText: IndexInput['mutantText'];
}

/** Write the report; returns the index's path and how many trace pages were written (and why any were not). */
export function writeHtmlReport(i: HtmlReportInput): {
  index: string;
  pages: number;
  skipped: string[];
} {
  const traceDir = join(i.dir, 'traces');
  mkdirSync(traceDir, { recursive: true });
  const pages = new Map<string, string>();
  const skipped: string[] = [];
  for (const [path, view] of i.traces) {
    const name = `${basename(path).replace(/\.json$/i, '')}.html`;
    const v = TraceViewSchema.safeParse(view);
    if (!v.success) {
      skipped.push(
        `${path}: ${view ? 'its view is not one (from the process that ran it)' : 'no view was drawn (a cell from a journal or a shard: ptlab view draws it)'}`,
      );
      continue;
    }
    writeFileSync(join(traceDir, name), tracePage(v.data));
    pages.set(path, `traces/${name}`);
  }
  const index = join(i.dir, 'index.html');
  writeFileSync(
    index,
    indexPage({ report: i.report, kernels: i.kernels, pages, mutantText: i.mutantText }),
  );
  return { index, pages: pages.size, skipped };
}
