/** Messages between `ptlab check --split` and its worker threads (plain data). */
import type { Mutant, ValidScenario } from '@ptlab/conformance';
import type { SubtreeOptions, SubtreeResult, SubtreeTask } from '@ptlab/explore';

/** What a worker rebuilds the program from (ptlab's own configs only), and the search options. */
export interface SplitWorkerData {
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
  | { readonly id: number; readonly ok: false; readonly message: string };
