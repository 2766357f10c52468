// Writes the JSON Schema files from the zod schemas (src/schema-files.ts).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { schemaFiles } from '../src/schema-files.js';

for (const f of schemaFiles()) {
  writeFileSync(f.path, f.text);
  process.stdout.write(`wrote ${relative(process.cwd(), f.path)}\n`);
}
// Laid out as the repository's formatter would (biome check formats JSON too).
execFileSync('pnpm', ['exec', 'biome', 'format', '--write', ...schemaFiles().map((f) => f.path)], {
  stdio: 'inherit',
});
