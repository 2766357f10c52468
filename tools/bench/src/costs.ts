/**
 * Writes tools/cli/src/shard-costs.ts, the expected cost of each unit that
 * `ptlab conformance --shard i/N` balances shards by, from the records of a
 * measured run: a `--resume` journal (JSON lines) or shard reports.
 *   pnpm --filter @ptlab/bench costs <journal.jsonl | shard.json>... [--note "what ran where"]
 * A unit's cost is the simulated steps of its cells: deterministic, and on a
 * full run it explains the cells' times better than executions do (steps per
 * execution vary 40-140 between scenarios).
 * It also records the scenario that killed each mutant unit (its last cell,
 * when that failed: a unit stops at its first kill), which the mutant order
 * tries first.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './suite.js';

interface Rec {
  readonly unit: number;
  readonly key: string;
  readonly cells: readonly {
    readonly scenario: string;
    readonly result?: string;
    readonly steps: number;
    readonly error?: unknown;
  }[];
}

function records(file: string): Rec[] {
  const text = readFileSync(file, 'utf8');
  if (text.startsWith('{"format":"ptlab-journal"'))
    return text
      .split('\n')
      .slice(1)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Rec];
        } catch {
          return []; // a torn last line
        }
      });
  const j = JSON.parse(text) as { shard?: { records: Rec[] } };
  if (!j.shard) throw new Error(`${file}: neither a journal nor a shard report`);
  return j.shard.records;
}

const args = process.argv.slice(2);
const noteAt = args.indexOf('--note');
const note = noteAt >= 0 ? (args[noteAt + 1] ?? '') : '';
const files = args.filter((a, i) => !a.startsWith('--') && i !== noteAt + 1);
if (files.length === 0) {
  process.stderr.write('usage: costs <journal.jsonl | shard.json>... [--note TEXT]\n');
  process.exit(2);
}
const costs = new Map<string, number>();
const kills = new Map<string, string>();
for (const f of files)
  for (const r of records(f)) {
    // A unit that could not run says nothing about its cost.
    if (r.cells.some((c) => c.error)) continue;
    costs.set(
      r.key,
      r.cells.reduce((a, c) => a + c.steps, 0),
    );
    const last = r.cells.at(-1);
    if (r.key.startsWith('["mutant",') && last?.result === 'fail') kills.set(r.key, last.scenario);
  }
const lines = <T>(m: Map<string, T>) =>
  [...m.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)},`)
    .join('\n');
const out = `import type { CostTable } from './shard.js';

/**
 * Expected unit costs for --shard, written by tools/bench/src/costs.ts
 * (pnpm --filter @ptlab/bench costs); do not edit by hand. ${costs.size} units,
 * ${kills.size} mutant kills.
 */
export const SHARD_COSTS: CostTable = {
  measured: ${JSON.stringify(note || `records of ${files.length} file(s)`)},
  unit: 'simulated steps of the unit (sum over its cells)',
  costs: {
${lines(costs)}
  },
  kills: {
${lines(kills)}
  },
};
`;
const target = join(REPO, 'tools/cli/src/shard-costs.ts');
writeFileSync(target, out);
// In the repository's style, so lint passes on the file as written.
execFileSync(join(REPO, 'node_modules/.bin/biome'), ['format', '--write', target], {
  cwd: REPO,
  stdio: 'ignore',
});
process.stderr.write(`${target}: ${costs.size} units, ${kills.size} kills\n`);
