/** Messages between the CLI and a child process (structured clone over the IPC channel). */
import type { ArchConfig, ArchVariant } from '@ptlab/core';
import type {
  CellOutcome,
  CellProgress,
  CellTask,
  CheckJob,
  CheckRun,
  ReplayJob,
  ReplayRun,
} from '../jobs.js';
import type { ArchModuleRef } from '../resolve-module.js';

/** What a child loads: ptlab's own ports, or one arch module. */
export type LoadSpec = { readonly builtin: true } | { readonly module: ArchModuleRef };

/** A port as data: what the CLI needs to list it and plan its cells, without its code. */
export interface PortInfo {
  readonly arch: string;
  readonly configs: readonly ArchConfig[];
  readonly variants: readonly ArchVariant[];
}

export type Job =
  | { readonly kind: 'cell'; readonly task: CellTask }
  /** `split`: the exhaustive search split across that many worker threads of the child. */
  | { readonly kind: 'check'; readonly job: CheckJob; readonly split?: number }
  | { readonly kind: 'replay'; readonly job: ReplayJob };

export interface JobResult {
  cell: CellOutcome;
  check: CheckRun;
  replay: ReplayRun;
}

export type ToChild =
  | {
      readonly t: 'load';
      readonly spec: LoadSpec;
      readonly tsx: boolean;
      /** A secret the child's answers carry; sent before any module code runs. */
      readonly key: string;
    }
  | { readonly t: 'job'; readonly id: number; readonly job: Job };

/** Every answer after 'ready' carries the key of its 'load' message (`k`). */
export type FromChild = (
  | { readonly t: 'ready' }
  | { readonly t: 'loaded'; readonly ports: readonly PortInfo[] }
  | { readonly t: 'load-error'; readonly code: string; readonly message: string }
  | { readonly t: 'progress'; readonly id: number; readonly p: CellProgress }
  | { readonly t: 'done'; readonly id: number; readonly value: unknown }
  | { readonly t: 'failed'; readonly id: number; readonly code: string; readonly message: string }
  | { readonly t: 'tampered'; readonly id: number | null; readonly names: readonly string[] }
) & { readonly k?: string };
