export { configProblem, loadArchModule, validatePort } from './arch-module.js';
export type {
  CheckFindingOptions,
  FindingCheck,
  KernelFinding,
  KernelSource,
} from './findings.js';
export {
  checkKnownFinding,
  FINDINGS_DIR,
  findingStory,
  KERNEL_FINDINGS,
  knownFixes,
  matchKnownFinding,
} from './findings.js';
export {
  mutantCanChange,
  type ReachCrossCheck,
  reachCrossCheck,
  unreachedResult,
} from './mutant-reach.js';
export type { Mutant } from './mutants.js';
export { CHECK_REQUIRES, mutantCatalogue, mutantNotApplicable, mutantOrder } from './mutants.js';
export { addrSchema, scenarioAddr } from './paths/common.js';
export { PATHS } from './paths/index.js';
export type { PathDef, PathRef, World } from './paths/types.js';
export { definePath } from './paths/types.js';
export type { ProgramOptions } from './program.js';
export { scenarioProgram } from './program.js';
export type {
  BudgetStep,
  CellOptions,
  CellProgress,
  CellResult,
  CellSearch,
  CellSearcher,
  CellSearchResult,
  CellVerdict,
  PhaseResult,
} from './runner.js';
export {
  CLEAN_BUDGET,
  cellKey,
  guardedCreate,
  hasCapability,
  MUTANT_BUDGET,
  mutantApplies,
  notApplicable,
  QUICK_BUDGET,
  QUICK_MUTANT_BUDGET,
  runCell,
  runCellWith,
  VARIANT_BUDGET,
} from './runner.js';
export type {
  Capability,
  Scenario,
  ScenarioInput,
  ThreadSpec,
  ValidScenario,
} from './scenario-schema.js';
export {
  CAPABILITIES,
  isReservedTaskName,
  parseScenario,
  RESERVED_TASK_NAMES,
  scenarioSchema,
  threadRuns,
} from './scenario-schema.js';
export type { ScenarioLoad } from './scenarios.js';
export {
  GENERATED_SCENARIO_DIR,
  loadScenarioFile,
  loadScenarios,
  SCENARIO_DIR,
  SUITE_SCENARIO_DIRS,
  scenarioById,
} from './scenarios.js';
export type {
  MutantAccount,
  MutantKill,
  MutantVerdict,
  RunSummary,
  SummaryCell,
  VerdictCounts,
} from './summary.js';
export {
  accountMutant,
  countVerdicts,
  mutantVerdictText,
  summariseRun,
  VERDICT_KINDS,
  verdictLabel,
} from './summary.js';
