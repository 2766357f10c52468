/**
 * Resource use of a whole process tree on Linux, read from /proc: the CLI
 * runs its cells in child processes, so the parent's own figures (and
 * `/usr/bin/time -v`, whose maximum RSS is one process's) leave most of it out.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux). */
function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** One reading of a process: resident set (kB) and CPU time so far (clock ticks). */
interface ProcReading {
  readonly rssKb: number;
  readonly ticks: number;
}

/** pid -> ppid, utime+stime for every process that is readable now. */
function allProcesses(): Map<number, { ppid: number; ticks: number }> {
  const out = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: read after the last ')'.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // f[0] is the state (field 3); ppid is field 4, utime 14, stime 15.
      out.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone between readdir and read
    }
  }
  return out;
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process `root` and its descendants now, each with its reading. */
export function treeReading(root: number): Map<number, ProcReading> {
  const all = allProcesses();
  const kids = new Map<number, number[]>();
  for (const [pid, p] of all) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), pid]);
  const out = new Map<number, ProcReading>();
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop() as number;
    const p = all.get(pid);
    if (!p) continue;
    out.set(pid, { rssKb: rssKb(pid), ticks: p.ticks });
    todo.push(...(kids.get(pid) ?? []));
  }
  return out;
}

export interface TreeSampler {
  /** Stop sampling; the peaks seen. */
  stop(): TreePeaks;
}

export interface TreePeaks {
  /** Largest sum of resident sets over the tree at one sampling instant (MB). */
  readonly peakTreeRssMb: number;
  /** Largest resident set of any one process of the tree (MB). */
  readonly peakProcessRssMb: number;
  /** Most processes alive in the tree at once. */
  readonly peakProcesses: number;
  /** Processes seen in the tree over the run. */
  readonly processes: number;
  /**
   * User + system CPU of every process seen, as of its last sample: short of
   * the truth by at most one interval per process.
   */
  readonly cpuMs: number;
  readonly samples: number;
  readonly intervalMs: number;
}

/** Sample the tree under `root` every `intervalMs` until stopped. */
export function sampleTree(root: number, intervalMs = 100): TreeSampler {
  let peakTree = 0;
  let peakOne = 0;
  let peakN = 0;
  let samples = 0;
  const ticks = new Map<number, number>();
  const tick = () => {
    const r = treeReading(root);
    let sum = 0;
    for (const [pid, p] of r) {
      sum += p.rssKb;
      peakOne = Math.max(peakOne, p.rssKb);
      ticks.set(pid, Math.max(ticks.get(pid) ?? 0, p.ticks));
    }
    peakTree = Math.max(peakTree, sum);
    peakN = Math.max(peakN, r.size);
    samples++;
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return {
        peakTreeRssMb: Math.round(peakTree / 1024),
        peakProcessRssMb: Math.round(peakOne / 1024),
        peakProcesses: peakN,
        processes: ticks.size,
        cpuMs: Math.round(([...ticks.values()].reduce((a, t) => a + t, 0) * 1000) / clockTicks()),
        samples,
        intervalMs,
      };
    },
  };
}
