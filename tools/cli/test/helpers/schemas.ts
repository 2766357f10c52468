import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { schemaFiles } from '../../src/schema-files.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

/** Validate `data` against the committed JSON Schema `name` (report, list, check, trace): 'valid' or what failed. */
export function valid(name: string, data: unknown): string {
  let v = compiled.get(name);
  if (!v) {
    const f = schemaFiles().find((x) => x.path.endsWith(`/${name}.schema.json`));
    if (!f) throw new Error(`no schema ${name}`);
    v = ajv.compile(JSON.parse(readFileSync(f.path, 'utf8')));
    compiled.set(name, v);
  }
  return v(data) ? 'valid' : ajv.errorsText(v.errors);
}
