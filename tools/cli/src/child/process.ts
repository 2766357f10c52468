/**
 * One child process of the CLI: it loads ptlab's own ports or one arch module
 * (never both), then runs jobs one at a time under the per-cell time and
 * memory limits. Its answers are data the parent checks; its death, its
 * silence and its exit code are reported as what they are, never as a verdict.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COVERAGE_ENV } from '../coverage/collect.js';
import type { CellProgress } from '../jobs.js';
import type { ArchModuleRef } from '../resolve-module.js';
import type { FromChild, Job, LoadSpec, PortInfo, ToChild } from './protocol.js';

export interface Limits {
  /** A module still running a cell after this long is killed; a built-in one is reported as slow. */
  readonly cellTimeoutMs: number;
  /** Heap limit of a child (--max-old-space-size), and the most resident memory it may use. */
  readonly cellMemoryMb: number;
  /** Children write V8 coverage here (NODE_V8_COVERAGE) when they exit; see close(). */
  readonly coverageDir?: string | undefined;
}

/** Who a child runs code for. Cells of one domain never share a process with another's. */
export interface Domain {
  readonly key: string;
  readonly spec: LoadSpec;
  /** "arch module ./x.mjs", or "ptlab's built-in ports". */
  readonly label: string;
  /** ptlab's own code: a time limit only reports it as slow. */
  readonly trusted: boolean;
}

export const BUILTIN_DOMAIN: Domain = {
  key: 'builtin',
  spec: { builtin: true },
  label: "ptlab's built-in ports",
  trusted: true,
};

export const moduleDomain = (m: ArchModuleRef): Domain => ({
  key: `module:${m.entry}`,
  spec: { module: m },
  label: `arch module ${m.spec}`,
  trusted: false,
});

export type FailureKind = 'exit' | 'timeout' | 'error' | 'tamper' | 'protocol' | 'interrupted';
export interface Failure {
  readonly kind: FailureKind;
  readonly code: string;
  readonly message: string;
}
export type Reply<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: Failure };

export interface RunHooks {
  /** The cell's latest progress (rate-limited by the child). */
  readonly onProgress?: (p: CellProgress) => void;
  /** A trusted job ran past the time limit (called again each further period). */
  readonly onSlow?: (elapsedMs: number, last: CellProgress | null) => void;
}

const fromSource = import.meta.url.endsWith('.ts');
/** How long a child may take to load ptlab itself, before any arch module code runs. */
const STARTUP_MS = 60_000;
const TS_FILE = /\.[cm]?tsx?$/;

function childCommand(limits: Limits): { file: string; execArgv: string[] } {
  const conditions = process.execArgv.filter((a) => a.startsWith('--conditions='));
  const heap = `--max-old-space-size=${limits.cellMemoryMb}`;
  if (fromSource) {
    // From source (pnpm ptlab:dev, tests): the child needs tsx and the "source" condition too.
    const tsx = createRequire(import.meta.url).resolve('tsx');
    return {
      file: fileURLToPath(new URL('./entry.ts', import.meta.url)),
      execArgv: [
        ...new Set([...conditions, '--conditions=source']),
        '--import',
        pathToFileURL(tsx).href,
        heap,
      ],
    };
  }
  return {
    file: fileURLToPath(new URL('./child.js', import.meta.url)),
    execArgv: [...conditions, heap],
  };
}

/** Resident memory of a process in MB, from /proc (Linux); null elsewhere. */
function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const live = new Set<Child>();
let watchdog: NodeJS.Timeout | null = null;
/** Commands that handle SIGINT/SIGTERM themselves (conformance writes its partial report). */
let signalHandlers = 0;

/**
 * While any child is alive, SIGINT and SIGTERM kill the children first (a
 * module may ignore both). When no command handles the signal itself, it is
 * then raised again, so the CLI dies of it as it would have without children.
 */
function onSignal(sig: NodeJS.Signals): void {
  for (const c of live) c.interrupt();
  if (signalHandlers === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.kill(process.pid, sig);
  }
}

/** Held by a command that stops on SIGINT/SIGTERM itself; call the result to let go. */
export function handleSignals(): () => void {
  signalHandlers++;
  return () => {
    signalHandlers--;
  };
}

function watch(c: Child): void {
  if (live.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  live.add(c);
  watchdog ??= setInterval(() => {
    for (const x of live) x.checkMemory();
  }, 100);
  watchdog.unref();
}
function unwatch(c: Child): void {
  live.delete(c);
  if (live.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (watchdog) clearInterval(watchdog);
    watchdog = null;
  }
}

interface Pending {
  readonly id: number;
  readonly resolve: (r: Reply<unknown>) => void;
  readonly hooks: RunHooks;
  readonly what: string;
  last: CellProgress | null;
}

export class Child {
  readonly domain: Domain;
  ports: readonly PortInfo[] = [];
  private readonly proc: ChildProcess;
  private readonly limits: Limits;
  private stderrTail = '';
  private overMemory = false;
  private interrupted = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private pending: Pending | null = null;
  private loading: ((r: Reply<Child>) => void) | null = null;
  private nextId = 1;
  private readySeen = false;
  private readonly key = randomBytes(16).toString('hex');
  private timer: NodeJS.Timeout | null = null;

  private constructor(domain: Domain, limits: Limits) {
    this.domain = domain;
    this.limits = limits;
    const { file, execArgv } = childCommand(limits);
    this.proc = fork(file, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      ...(limits.coverageDir
        ? {
            env: {
              ...process.env,
              NODE_V8_COVERAGE: join(limits.coverageDir, 'v8'),
              [COVERAGE_ENV]: limits.coverageDir,
            },
          }
        : {}),
    });
    // A module's console output is shown on stderr, never mixed into the CLI's stdout.
    const forward = (chunk: Buffer) => {
      const s = chunk.toString('utf8');
      this.stderrTail = (this.stderrTail + s).slice(-4096);
      if (!domain.trusted || process.env.PTLAB_DEBUG_CHILD)
        process.stderr.write(s.replace(/^(?=.)/gm, `[${domain.label}] `));
    };
    this.proc.stdout?.on('data', forward);
    this.proc.stderr?.on('data', forward);
    this.proc.on('message', (m: unknown) => this.onMessage(m));
    this.proc.on('error', () => {}); // reported through 'exit'
    this.proc.on('exit', (code, signal) => this.onExit(code, signal));
    if (this.proc.pid !== undefined) watch(this);
  }

  /** Start a child and load its domain's ports; a module that fails to load is a failure, named. */
  static start(domain: Domain, limits: Limits): Promise<Reply<Child>> {
    const c = new Child(domain, limits);
    return new Promise((resolve) => {
      c.loading = (r) => {
        // A child whose load failed has nothing more to do.
        if (!r.ok) c.kill();
        resolve(r);
      };
      // The child says 'ready' once it has loaded ptlab itself; then it is sent what to load,
      // and the time limit on loading starts. Until then only a generous start-up limit applies.
      c.arm('start-up', {}, Math.max(STARTUP_MS, limits.cellTimeoutMs));
    });
  }

  /** Run one job; resolves with its value, or with why there is none. */
  run<T>(job: Job, what: string, hooks: RunHooks = {}): Promise<Reply<T>> {
    if (this.exit) return Promise.resolve({ ok: false, failure: this.exitFailure(what) });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending = {
        id,
        resolve: resolve as (r: Reply<unknown>) => void,
        hooks,
        what,
        last: null,
      };
      this.arm(what, hooks);
      this.send({ t: 'job', id, job });
    });
  }

  get alive(): boolean {
    return this.exit === null;
  }

  kill(): void {
    if (!this.exit) this.proc.kill('SIGKILL');
  }

  /**
   * Let the child exit by itself (it exits when the IPC channel closes), so
   * that it writes its V8 coverage; killed after `ms` if it does not.
   */
  close(ms = 10_000): Promise<void> {
    if (this.exit) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.kill(), ms);
      this.proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        this.proc.disconnect();
      } catch {
        this.kill();
      }
    });
  }

  /** Stop this child when its work is done: close() when it collects coverage, else kill(). */
  finish(): Promise<void> {
    if (this.limits.coverageDir) return this.close();
    this.kill();
    return Promise.resolve();
  }

  /** Stop for SIGINT/SIGTERM: pending work resolves as interrupted, not as a failure of the module. */
  interrupt(): void {
    this.interrupted = true;
    this.kill();
  }

  checkMemory(): void {
    if (this.exit || this.proc.pid === undefined) return;
    const mb = rssMb(this.proc.pid);
    if (mb !== null && mb > this.limits.cellMemoryMb) {
      this.overMemory = true;
      this.kill();
    }
  }

  private send(m: ToChild): void {
    try {
      this.proc.send(m);
    } catch {
      // the child is gone; 'exit' reports it
    }
  }

  private arm(what: string, hooks: RunHooks, ms = this.limits.cellTimeoutMs): void {
    this.disarm();
    const t0 = performance.now();
    const tick = () => {
      if (this.domain.trusted && what !== 'start-up') {
        hooks.onSlow?.(performance.now() - t0, this.pending?.last ?? null);
        this.timer = setTimeout(tick, this.limits.cellTimeoutMs);
        return;
      }
      this.settle({
        ok: false,
        failure: {
          kind: 'timeout',
          code: 'E_ARCH_TIMEOUT',
          message: `${this.domain.label} did not finish ${what} within ${ms} ms; its process was killed`,
        },
      });
      this.kill();
    };
    this.timer = setTimeout(tick, ms);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private settle(r: Reply<unknown>): void {
    this.disarm();
    if (this.loading) {
      const done = this.loading;
      this.loading = null;
      done(r.ok ? { ok: true, value: this } : r);
    } else if (this.pending) {
      const p = this.pending;
      this.pending = null;
      p.resolve(r);
    }
  }

  private protocol(detail: string): void {
    this.settle({
      ok: false,
      failure: {
        kind: 'protocol',
        code: 'E_ARCH_MODULE',
        message: `${this.domain.label} broke the CLI's protocol (${detail}); its process was killed`,
      },
    });
    this.kill();
  }

  private onMessage(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null || typeof (raw as { t?: unknown }).t !== 'string') {
      this.protocol('a message that is not a ptlab message');
      return;
    }
    const m = raw as FromChild;
    if (m.t !== 'ready' && m.k !== this.key) {
      this.protocol(`an unsigned "${m.t}" message: not from ptlab's own code`);
      return;
    }
    if (this.loading) this.onLoadMessage(m);
    else this.onJobMessage(m);
  }

  private onLoadMessage(m: FromChild): void {
    if (m.t === 'ready') {
      if (this.readySeen) {
        this.protocol('a second "ready"');
        return;
      }
      this.readySeen = true;
      this.arm('loading', {});
      const spec = this.domain.spec;
      const tsx = !fromSource && 'module' in spec && TS_FILE.test(spec.module.entry);
      this.send({ t: 'load', spec, tsx, key: this.key });
    } else if (m.t === 'loaded' && Array.isArray(m.ports)) {
      this.ports = m.ports;
      this.settle({ ok: true, value: this });
    } else if (m.t === 'load-error') {
      this.settle({
        ok: false,
        failure: {
          kind: 'error',
          code: String(m.code),
          message: `${this.domain.label}: ${String(m.message)}`,
        },
      });
    } else if (m.t === 'tampered') {
      this.settle({ ok: false, failure: this.tamperFailure(m.names, 'loading') });
      this.kill();
    } else this.protocol(`"${m.t}" while loading`);
  }

  private onJobMessage(m: FromChild): void {
    const p = this.pending;
    if (!p || !('id' in m) || m.id !== p.id) {
      this.protocol(`"${m.t}" for no job it was given`);
      return;
    }
    switch (m.t) {
      case 'progress':
        p.last = m.p;
        p.hooks.onProgress?.(m.p);
        break;
      case 'done':
        this.settle({ ok: true, value: m.value });
        break;
      case 'failed':
        this.settle({
          ok: false,
          failure: {
            kind: 'error',
            code: String(m.code),
            message: `${this.domain.label}: ${String(m.message)} (during ${p.what})`,
          },
        });
        break;
      case 'tampered':
        this.settle({ ok: false, failure: this.tamperFailure(m.names, p.what) });
        this.kill();
        break;
      default:
        this.protocol(`an unexpected "${(m as { t: string }).t}" message`);
    }
  }

  private tamperFailure(names: readonly string[], what: string): Failure {
    return {
      kind: 'tamper',
      code: 'E_ARCH_MODULE',
      message: `${this.domain.label} modified objects ptlab froze (during ${what}): ${[...names].map(String).join(', ')}`,
    };
  }

  private exitFailure(what: string): Failure {
    if (this.interrupted)
      return { kind: 'interrupted', code: 'E_INTERRUPTED', message: `interrupted during ${what}` };
    const e = this.exit ?? { code: null, signal: null };
    const label = this.domain.label;
    let how: string;
    if (this.overMemory)
      how = `used more than ${this.limits.cellMemoryMb} MB of memory and was killed`;
    else if (/heap out of memory|Reached heap limit|Allocation failed/.test(this.stderrTail))
      how = `ran out of memory (heap limit ${this.limits.cellMemoryMb} MB)`;
    else if (e.signal) how = `was killed by signal ${e.signal}`;
    else how = `exited (code ${e.code})`;
    return { kind: 'exit', code: 'E_ARCH_MODULE', message: `${label} ${how} during ${what}` };
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exit = { code, signal };
    unwatch(this);
    const what = this.loading ? 'loading' : (this.pending?.what ?? 'no job');
    if (this.loading || this.pending) this.settle({ ok: false, failure: this.exitFailure(what) });
  }
}
