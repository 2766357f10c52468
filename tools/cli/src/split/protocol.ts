/**
 * Messages between a split search and its worker threads (plain data). They
 * go over a channel private to ptlab's code (SplitWorkerData.reply), never
 * over the worker's parentPort, which an arch module loaded there can reach.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Mutant, ValidScenario } from '@ptlab/conformance';
import type { SubtreeOptions, SubtreeResult, SubtreeTask } from '@ptlab/explore';
import type { ArchModuleRef } from '../resolve-module.js';

/** An arch module a worker loads as the child that starts it did (child/load.ts). */
export interface SplitModule {
  readonly ref: ArchModuleRef;
  /** Register tsx before importing it (a TypeScript module, from the built CLI). */
  readonly tsx: boolean;
}

/** What a worker rebuilds the program from, and the search options. */
export interface SplitWorkerData {
  /** The config's arch module; none: ptlab's own ports. */
  readonly module?: SplitModule | undefined;
  readonly configId: string;
  readonly scenario: ValidScenario;
  readonly mutant: Mutant | null;
  readonly patches: readonly string[];
  /** Report the variant ids the kernels ask about (a conformance cell's mutant-reach record). */
  readonly consulted?: boolean;
  readonly options: SubtreeOptions;
}

export interface ToWorker {
  readonly id: number;
  readonly task: SubtreeTask;
}

export type FromWorker =
  /** Sent once, when the program is built: the worker is ready for tasks. */
  | { readonly ready: true }
  | {
      readonly id: number;
      readonly ok: true;
      readonly result: SubtreeResult;
      /** With SplitWorkerData.consulted: every variant id asked about so far. */
      readonly consulted?: readonly string[];
    }
  | {
      readonly id: number;
      readonly ok: false;
      /** The error's code and message, placed where it was thrown, in the worker (jobError()). */
      readonly code: string;
      readonly message: string;
    };

/** SplitWorkerData as a worker receives it: with its end of the private channel. */
export type SplitWorkerStart = SplitWorkerData & { readonly reply: MessagePort };
