/**
 * The JSON Schema files generated from the zod schemas: the CLI's outputs
 * (tools/cli/schemas/) and the trace format (packages/explore/schemas/).
 * `pnpm --filter @ptlab/cli schemas` writes them; a test checks the committed
 * files are what this produces.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { traceSchema } from '@ptlab/explore';
import { z } from 'zod';
import { CheckJsonSchema, ListingSchema, ReportSchema } from './report-schema.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's tools/cli (from src/ or dist/ alike). */
const cliDir = join(here, '..');

export interface SchemaFile {
  /** Absolute path of the committed file. */
  readonly path: string;
  readonly text: string;
}

function file(path: string, id: string, title: string, schema: z.ZodType): SchemaFile {
  const s = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' });
  const doc = { $schema: s.$schema, $id: id, title, ...s };
  return { path, text: `${JSON.stringify(doc, null, 2)}\n` };
}

export function schemaFiles(): SchemaFile[] {
  const base = 'https://github.com/ptlab/ptlab/blob/main';
  return [
    file(
      join(cliDir, 'schemas', 'report.schema.json'),
      `${base}/tools/cli/schemas/report.schema.json`,
      'ptlab conformance report (ptlab conformance --json FILE)',
      ReportSchema,
    ),
    file(
      join(cliDir, 'schemas', 'list.schema.json'),
      `${base}/tools/cli/schemas/list.schema.json`,
      'ptlab list --json',
      ListingSchema,
    ),
    file(
      join(cliDir, 'schemas', 'check.schema.json'),
      `${base}/tools/cli/schemas/check.schema.json`,
      'ptlab check --json',
      CheckJsonSchema,
    ),
    file(
      join(cliDir, '..', '..', 'packages', 'explore', 'schemas', 'trace.schema.json'),
      `${base}/packages/explore/schemas/trace.schema.json`,
      'ptlab-trace (a counterexample: ptlab check --trace-out, .ptlab/traces/)',
      traceSchema,
    ),
  ];
}
