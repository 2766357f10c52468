/**
 * pnpm gen:scenarios — write conformance/scenarios/generated/ from the
 * declared actors (generate.ts): one JSON file per scenario, stale ones
 * removed. `--check`: change nothing, exit 1 if the files on disk differ
 * from what would be written (CI keeps the committed output current).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_SCENARIO_DIR } from '@ptlab/conformance';
import {
  allPairs,
  allWayPairs,
  generateAll,
  HAND_WRITTEN,
  pairCover,
  pairsCovered,
} from './generate.js';

const check = process.argv.includes('--check');
const dir = GENERATED_SCENARIO_DIR;
const want = new Map(generateAll().map((s) => [`${s.id}.json`, `${JSON.stringify(s, null, 2)}\n`]));
const have = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
const differ = [
  ...[...want]
    .filter(([f, text]) => !have.includes(f) || readFileSync(join(dir, f), 'utf8') !== text)
    .map(([f]) => f),
  ...have.filter((f) => !want.has(f)),
];
const covered = pairsCovered([...pairCover(), ...Object.values(HAND_WRITTEN).flat()]);
const pairs = allPairs();
const possible = pairs.filter((p) => !p.why);
console.log(
  `${want.size} scenarios: ${pairCover().length} for actor pairs (${covered.size}/${possible.length} possible pairs covered, ${pairs.length - possible.length} cannot meet), ${allWayPairs().filter((p) => !p.why).length} for pairs of ways a table leaves, 2 that fill a page`,
);
if (check) {
  if (differ.length) {
    console.error(
      `conformance/scenarios/generated is not current (${differ.join(', ')}): run pnpm gen:scenarios`,
    );
    process.exit(1);
  }
} else {
  mkdirSync(dir, { recursive: true });
  for (const f of have) if (!want.has(f)) rmSync(join(dir, f));
  for (const [f, text] of want) writeFileSync(join(dir, f), text);
  console.log(`wrote ${dir} (${differ.length} changed)`);
}
