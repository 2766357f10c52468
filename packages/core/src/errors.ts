/**
 * One place for every error ptlab raises about its *input* (scenario files,
 * arch modules, traces, command lines). Bugs found in the simulated kernel are
 * not errors: they are findings (see checks.ts).
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_UNKNOWN_ARCH'
  | 'E_UNKNOWN_SCENARIO'
  | 'E_UNKNOWN_MUTANT'
  | 'E_SCENARIO_INVALID'
  | 'E_ARCH_MODULE'
  | 'E_ARCH_TIMEOUT'
  | 'E_TRACE_INVALID'
  | 'E_TRACE_MISMATCH'
  | 'E_MODEL';

/** Base error: a stable `code`, a message prefixed with where it comes from. */
export class PtlabError extends Error {
  readonly code: ErrorCode;
  readonly where: string;
  constructor(code: ErrorCode, where: string, message: string, options?: { cause?: unknown }) {
    super(`[${where}] ${message}`, options);
    this.name = new.target.name;
    this.code = code;
    this.where = where;
  }
}

/** The command line or an API call was malformed. */
export class UsageError extends PtlabError {
  constructor(message: string, where = 'ptlab') {
    super('E_USAGE', where, message);
  }
}

/** A scenario file does not match the schema or refers to things that do not exist. */
export class ScenarioError extends PtlabError {
  constructor(where: string, message: string, options?: { cause?: unknown }) {
    super('E_SCENARIO_INVALID', where, message, options);
  }
}

/** An arch module threw, never returned, or returned nonsense. */
export class ArchModuleError extends PtlabError {
  constructor(where: string, message: string, options?: { cause?: unknown }) {
    super('E_ARCH_MODULE', where, message, options);
  }
}

/** A trace file is not a valid trace, or does not match the code it is replayed on. */
export class TraceError extends PtlabError {
  constructor(
    code: 'E_TRACE_INVALID' | 'E_TRACE_MISMATCH',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, 'trace', message, options);
  }
}

/** The model itself was driven into a state it does not support (a bug in ptlab or a port). */
export class ModelError extends PtlabError {
  constructor(where: string, message: string) {
    super('E_MODEL', where, message);
  }
}
