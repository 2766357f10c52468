/**
 * Timing for the bench: wall time and this process's CPU time
 * (process.cpuUsage(), user + system) side by side. CPU time is what the
 * figures are computed from: on a machine shared with other processes the
 * wall time also counts the time spent waiting for a core.
 */

export interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export function timed<T>(fn: () => T): { value: T } & Timing {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

export async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T } & Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** A rate (things per second) from a count and a time in ms, both clocks. */
export interface Rate {
  /** Per CPU second: the figure to compare. */
  readonly cpu: number;
  /** Per wall second. */
  readonly wall: number;
}

export const rate = (n: number, t: Timing): Rate => ({
  cpu: n / (t.cpuMs / 1000),
  wall: n / (t.wallMs / 1000),
});

/** The median of each clock over repeated runs, and the spread of the CPU one. */
export interface Repeated {
  readonly repeats: number;
  readonly cpuMs: number;
  readonly wallMs: number;
  /** Fastest and slowest run, CPU ms. */
  readonly cpuMsRange: readonly [number, number];
}

export function repeat(n: number, fn: () => void): Repeated {
  const ts: Timing[] = [];
  for (let i = 0; i < n; i++) ts.push(timed(fn));
  const cpu = ts.map((t) => t.cpuMs);
  return {
    repeats: n,
    cpuMs: median(cpu),
    wallMs: median(ts.map((t) => t.wallMs)),
    cpuMsRange: [Math.min(...cpu), Math.max(...cpu)],
  };
}

/** 1234567 -> "1.23M", 51234 -> "51.2K". */
export function si(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(x / 1e3).toPrecision(3)}K`;
  return x.toPrecision(3);
}
