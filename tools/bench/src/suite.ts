/**
 * `pnpm bench --suite`: the default `ptlab conformance` as users run it (the
 * built CLI, default workers), timed from outside: wall time, CPU time of the
 * whole process tree, peak resident memory summed over the tree, and where
 * the time went (the slowest cells, per config, per scenario, per mutant).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleTree, type TreePeaks } from './proc.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TIME = '/usr/bin/time';

/** One cell as the report (and the journal) give it; only what the analysis reads. */
interface TimedCell {
  readonly arch: string;
  readonly scenario: string;
  readonly mutant?: string | null;
  readonly verdict: string;
  readonly schedules: number;
  readonly steps: number;
  readonly elapsedMs: number;
}

export interface SuiteFigures {
  readonly command: string;
  readonly exitCode: number | null;
  readonly wallMs: number;
  /** User + system CPU of the CLI and every child it waited for (from /usr/bin/time); null without it. */
  readonly cpuMs: number | null;
  readonly tree: TreePeaks;
  readonly cells: number;
  readonly cellsPerS: number;
  /** Sum of the cells' own times (they run in parallel, so this exceeds the wall time). */
  readonly cellMs: number;
  readonly top: readonly (TimedCell & { readonly share: number })[];
  readonly byConfig: readonly {
    readonly id: string;
    readonly ms: number;
    readonly cells: number;
  }[];
  readonly byScenario: readonly {
    readonly id: string;
    readonly ms: number;
    readonly cells: number;
  }[];
  readonly byMutant: readonly {
    readonly id: string;
    readonly ms: number;
    readonly cells: number;
  }[];
  /** Where the mutant cells' times came from ("journal"), or why they are missing. */
  readonly mutantCellsFrom: string;
  /** Clean cells by verdict kind, as the report counts them. */
  readonly counts: Readonly<Record<string, number>>;
  /** Verified clean cells over applicable ones (issue 11: the fraction verified in the default run). */
  readonly verifiedFraction: number;
}

function group(cells: readonly TimedCell[], key: (c: TimedCell) => string | null) {
  const m = new Map<string, { ms: number; cells: number }>();
  for (const c of cells) {
    const k = key(c);
    if (k === null) continue;
    const g = m.get(k) ?? { ms: 0, cells: 0 };
    g.ms += c.elapsedMs;
    g.cells++;
    m.set(k, g);
  }
  return [...m.entries()]
    .map(([id, g]) => ({ id, ms: Math.round(g.ms), cells: g.cells }))
    .sort((a, b) => b.ms - a.ms || a.id.localeCompare(b.id));
}

/** Cells of every unit from a `--resume` journal (JSON lines: a header, then one unit per line). */
function journalCells(file: string): TimedCell[] | null {
  if (!existsSync(file)) return null;
  const out: TimedCell[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    if (!line.trim()) continue;
    try {
      const u = JSON.parse(line) as { cells?: TimedCell[] };
      out.push(...(u.cells ?? []));
    } catch {
      // a torn last line: the analysis goes without it
    }
  }
  return out;
}

/** The analysis of a finished run: from the report's clean cells, plus the journal's mutant cells. */
export function analyse(
  report: { cells: TimedCell[]; mutants?: { cells: number }[] },
  journal: TimedCell[] | null,
): Pick<
  SuiteFigures,
  'cells' | 'cellMs' | 'top' | 'byConfig' | 'byScenario' | 'byMutant' | 'mutantCellsFrom'
> {
  const clean = report.cells.map((c) => ({ ...c, mutant: null }));
  const mutant = journal ? journal.filter((c) => c.mutant) : [];
  const all = [...clean, ...mutant];
  const cellMs = all.reduce((a, c) => a + c.elapsedMs, 0);
  const top = [...all]
    .sort((a, b) => b.elapsedMs - a.elapsedMs)
    .slice(0, 10)
    .map((c) => ({ ...c, share: cellMs ? c.elapsedMs / cellMs : 0 }));
  // Without a journal the mutant cells are known only by number (each account counts its cells).
  const mutantCount = journal
    ? mutant.length
    : (report.mutants ?? []).reduce((a, m) => a + m.cells, 0);
  return {
    cells: clean.length + mutantCount,
    cellMs: Math.round(cellMs),
    top,
    byConfig: group(all, (c) => c.arch),
    byScenario: group(all, (c) => c.scenario),
    byMutant: group(all, (c) => c.mutant ?? null),
    mutantCellsFrom: journal ? 'journal' : 'not recorded (the CLI has no --resume journal)',
  };
}

export interface SuiteOptions {
  /** Extra arguments to `ptlab conformance`. */
  readonly args?: readonly string[];
  /** Ask the CLI for a journal (--resume), for the mutant cells' times. */
  readonly journal?: boolean;
  readonly onLine?: (s: string) => void;
  /** Keep the report (and journal) in this directory instead of deleting them. */
  readonly keep?: string;
}

/** Run the built CLI's default conformance once and measure it. */
export async function runSuite(o: SuiteOptions = {}): Promise<SuiteFigures> {
  const bin = join(REPO, 'tools/cli/dist/bin.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run pnpm build first`);
  const dir = mkdtempSync(join(tmpdir(), 'ptlab-bench-suite-'));
  const json = join(dir, 'report.json');
  const journal = join(dir, 'journal.jsonl');
  const timeFile = join(dir, 'time.txt');
  const cli = [
    bin,
    'conformance',
    '--no-progress',
    '--json',
    json,
    '--traces',
    join(dir, 'traces'),
    ...(o.journal ? ['--resume', journal] : []),
    ...(o.args ?? []),
  ];
  const useTime = existsSync(TIME);
  const [cmd, argv] = useTime
    ? [TIME, ['-f', '%e %U %S', '-o', timeFile, process.execPath, ...cli]]
    : [process.execPath, cli];
  const t0 = performance.now();
  const p = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = sampleTree(p.pid as number);
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
    o.onLine?.(d.toString());
  };
  p.stdout.on('data', keep);
  p.stderr.on('data', keep);
  const exitCode = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  const wallMs = Math.round(performance.now() - t0);
  const tree = sampler.stop();
  let cpuMs: number | null = null;
  if (useTime && existsSync(timeFile)) {
    const f = readFileSync(timeFile, 'utf8').trim().split('\n').pop()?.split(' ').map(Number);
    if (f && f.length === 3 && f.every(Number.isFinite))
      cpuMs = Math.round(((f[1] ?? 0) + (f[2] ?? 0)) * 1000);
  }
  if (!existsSync(json))
    throw new Error(`ptlab conformance wrote no report (exit ${exitCode}):\n${tail}`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    cells: TimedCell[];
    counts?: Record<string, number>;
  };
  const counts = report.counts ?? {};
  const applicable = Object.entries(counts)
    .filter(([k]) => k !== 'n/a')
    .reduce((n, [, v]) => n + v, 0);
  const a = analyse(report, o.journal ? journalCells(journal) : null);
  if (o.keep) {
    mkdirSync(o.keep, { recursive: true });
    for (const f of [json, journal]) if (existsSync(f)) copyFileSync(f, join(o.keep, basename(f)));
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    command: `node ${cli.map((x) => x.replace(dir, '$TMP').replace(REPO, '')).join(' ')}`,
    exitCode,
    wallMs,
    cpuMs,
    tree,
    ...a,
    cellsPerS: a.cells / (wallMs / 1000),
    counts,
    verifiedFraction: applicable ? (counts.verified ?? 0) / applicable : 0,
  };
}
