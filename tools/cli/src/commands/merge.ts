/**
 * `ptlab merge a.json b.json …`: the report of a run from the --json reports
 * of its shards (`ptlab conformance --shard i/N`). Every shard carries its
 * run's identity and the records of its units; merge replans the run from
 * the recorded options, checks the shards are exactly the N parts of that
 * plan made by this code, and builds the report from their records with the
 * same function a whole run uses, so its verdicts are the whole run's.
 */
import { readFileSync } from 'node:fs';
import type { ValidScenario } from '@ptlab/conformance';
import { type ScenarioError, UsageError } from '@ptlab/core';
import { z } from 'zod';
import { type RunOptionsIdentity, requireSameRun, runIdentity } from '../identity.js';
import { asUnitRecord, firstIssue, runIdentitySchema, unitRecordSchema } from '../journal.js';
import { planConformance } from '../plan.js';
import type { LoadedPort } from '../registry.js';
import { buildReport, type UnitRecord } from '../report.js';
import { assignShards, parseShard, shardName } from '../shard.js';
import { finishReport, type ReportOutputs, writeReportFiles } from './conformance.js';

const nat = z.number().int().min(0);
const shardReportSchema = z.object({
  elapsedMs: z.number().min(0),
  interrupted: z.string().nullable().optional(),
  unitsFinished: nat.optional(),
  unitsTotal: nat.optional(),
  shard: z.object({
    index: z.number().int().min(1),
    total: z.number().int().min(1),
    run: runIdentitySchema,
    units: z.array(nat),
    records: z.array(unitRecordSchema),
  }),
});

type ShardReport = z.infer<typeof shardReportSchema>;

function readShard(file: string): ShardReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`, 'merge');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON`, 'merge');
  }
  if (typeof v !== 'object' || v === null || !('shard' in v))
    throw new UsageError(
      `${file} is not a shard report (no "shard" field): merge takes the --json reports of ptlab conformance --shard i/N`,
      'merge',
    );
  const p = shardReportSchema.safeParse(v);
  if (!p.success)
    throw new UsageError(`${file} is not a valid shard report (${firstIssue(p.error)})`, 'merge');
  const s = p.data.shard;
  if (s.run.options.shard !== `${s.index}/${s.total}`)
    throw new UsageError(
      `${file} says it is shard ${s.index}/${s.total} but was run with --shard ${s.run.options.shard}`,
      'merge',
    );
  return p.data;
}

export type LoadInputs = (o: RunOptionsIdentity) => Promise<{
  ports: LoadedPort[];
  scenarios: ValidScenario[];
  errors: ScenarioError[];
}>;

export async function runMergeCommand(
  files: readonly string[],
  o: ReportOutputs,
  load: LoadInputs,
  out: (s: string) => void,
  err: (s: string) => void = () => {},
): Promise<number> {
  if (files.length === 0) throw new UsageError('merge needs the shard reports to combine');
  const shards = files.map((f) => ({ file: f, r: readShard(f) }));
  const first = shards[0] as (typeof shards)[number];
  const total = first.r.shard.total;
  // One run: the same code, options and plan in every shard (the shard index aside).
  for (const s of shards.slice(1))
    requireSameRun(
      s.file,
      s.r.shard.run,
      first.r.shard.run,
      { there: `in ${s.file}`, here: `in ${first.file}` },
      ['shard'],
    );
  for (const s of shards)
    if (s.r.shard.total !== total)
      throw new UsageError(
        `${s.file} is shard ${s.r.shard.index}/${s.r.shard.total}, ${first.file} is one of ${total}: not shards of one split`,
        'merge',
      );
  const byIndex = new Map<number, string>();
  for (const s of shards) {
    const other = byIndex.get(s.r.shard.index);
    if (other)
      throw new UsageError(
        `${other} and ${s.file} are both shard ${s.r.shard.index}/${total}`,
        'merge',
      );
    byIndex.set(s.r.shard.index, s.file);
  }
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new UsageError(
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${total}`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (given: ${[
        ...byIndex.entries(),
      ]
        .sort((a, b) => a[0] - b[0])
        .map(([i, f]) => `${i}/${total} in ${f}`)
        .join(', ')})`,
      'merge',
    );
  for (const s of shards)
    if (s.r.interrupted)
      throw new UsageError(
        `${s.file} is an interrupted run (${s.r.interrupted}, ${s.r.unitsFinished ?? '?'}/${s.r.unitsTotal ?? '?'} units): run shard ${s.r.shard.index}/${total} again (--resume keeps its finished units)`,
        'merge',
      );

  // Replan here, and check this code makes the same plan and the same split.
  const opts = first.r.shard.run.options;
  const { ports, scenarios, errors } = await load(opts);
  const plan = planConformance(ports, scenarios, {
    archs: opts.archs,
    seed: opts.seed,
    mutants: opts.mutants,
    allMutantCells: opts.allMutantCells,
    splitAbove: opts.splitAbove,
  });
  const parts = assignShards(plan.units, total);
  const records = new Map<number, UnitRecord>();
  for (const s of shards) {
    const spec = parseShard(`${s.r.shard.index}/${total}`);
    const mine = parts[spec.index - 1] ?? [];
    const here = runIdentity(plan, { ...opts, shard: shardName(spec) }, mine.length);
    requireSameRun(s.file, s.r.shard.run, here, { there: `in ${s.file}`, here: 'here' });
    const want = mine.map((u) => u.index).join(',');
    if (s.r.shard.units.join(',') !== want)
      throw new UsageError(
        `${s.file} ran other units than shard ${shardName(spec)} of this plan has`,
        'merge',
      );
    const got = new Set<number>();
    const mineSet = new Set(mine.map((u) => u.index));
    for (const rec of s.r.shard.records) {
      const u = plan.units[rec.unit];
      if (!u || !mineSet.has(u.index) || u.key !== rec.key)
        throw new UsageError(
          `${s.file} holds a record of unit ${rec.unit} ${rec.key}, not one of its units`,
          'merge',
        );
      if (got.has(rec.unit)) throw new UsageError(`${s.file} holds unit ${rec.key} twice`, 'merge');
      got.add(rec.unit);
      records.set(rec.unit, asUnitRecord(rec));
    }
    const absent = mine.filter((u) => !got.has(u.index));
    if (absent.length)
      throw new UsageError(
        `${s.file} has no record of ${absent.length} of its units (first ${absent[0]?.key})`,
        'merge',
      );
  }
  const built = buildReport(plan, plan.units, records, {
    scenarioErrors: errors.map((e) => e.message),
    // The shards' times add up to the work done (they ran side by side).
    elapsedMs: shards.reduce((a, s) => a + s.r.elapsedMs, 0),
    interrupted: null,
    unitsFinished: plan.units.length,
    unitsTotal: plan.units.length,
    shard: null,
  });
  const code = finishReport(built, out);
  return writeReportFiles(built, o, err) ? code : 2;
}
