export type { ExhaustiveOptions, ExhaustiveResult } from './dpor.js';
export { conflicts, ExhaustiveSearch } from './dpor.js';
export type { Choice, Chooser, ExecOptions, Execution, Program, StepRecord } from './execution.js';
export { execute, labelOf, pendingFootprint, Run } from './execution.js';
export type {
  ExploreOptions,
  ExploreResult,
  SplitFigures,
  StrategyName,
  VerdictKind,
} from './explore.js';
export {
  explore,
  exploreSplit,
  STRATEGIES,
  VERDICT_KINDS,
} from './explore.js';
export type { Citation, SeedMessage } from './links.js';
export {
  citations,
  citationText,
  citedSubjects,
  ELIXIR,
  kernelSourceUrl,
  LORE,
  messageUrl,
  SEED_MESSAGES,
  stepFunction,
} from './links.js';
export type { MinimiseResult } from './minimise.js';
export { countPreemptions, minimise } from './minimise.js';
export { StableNames } from './names.js';
export type {
  CpuState,
  PageLife,
  PageSlots,
  StepObservation,
  TableEvent,
  TableEventKind,
  TableInfo,
  Touch,
  World,
} from './observe.js';
export { Prng, scheduleSeed } from './prng.js';
export type { NotReproduced, ReplayResult, Reproduced } from './replay.js';
export { replaySchedule, replayTrace } from './replay.js';
export type {
  PrefixAdditions,
  RunTasks,
  RunTasksSync,
  SplitOptions,
  SplitResult,
  SubtreeHooks,
  SubtreeOptions,
  SubtreeResult,
  SubtreeTask,
} from './split.js';
export {
  exploreSubtree,
  inProcessRunner,
  MAX_ROUND_TASKS,
  SMALL_TASK_EXECUTIONS,
  splitSearch,
  splitSearchSync,
  TASK_EXECUTIONS,
} from './split.js';
export type { StoryOptions } from './story.js';
export { renderStory } from './story.js';
export { guidedChooser, pctChooser, randomChooser } from './strategies.js';
export type { Trace } from './trace.js';
export {
  MAX_SEED,
  makeTrace,
  parseTrace,
  TRACE_FORMAT,
  TRACE_VERSION,
  traceSchema,
} from './trace.js';
export { traceKey } from './trace-key.js';
