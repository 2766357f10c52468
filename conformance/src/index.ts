export { loadArchModule, validatePort } from './arch-module.js';
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
export type { Mutant } from './mutants.js';
export { mutantCatalogue } from './mutants.js';
export { addrSchema, scenarioAddr } from './paths/common.js';
export { PATHS } from './paths/index.js';
export type { PathDef, World } from './paths/types.js';
export { definePath } from './paths/types.js';
export type { ProgramOptions } from './program.js';
export { scenarioProgram } from './program.js';
export type { BudgetStep, CellOptions, CellResult } from './runner.js';
export {
  DEFAULT_BUDGET,
  guardedCreate,
  hasCapability,
  mutantApplies,
  notApplicable,
  runCell,
} from './runner.js';
export type {
  Capability,
  Scenario,
  ScenarioInput,
  ThreadSpec,
  ValidScenario,
} from './scenario-schema.js';
export { CAPABILITIES, parseScenario, scenarioSchema, threadRuns } from './scenario-schema.js';
export { loadScenarioFile, loadScenarios, SCENARIO_DIR } from './scenarios.js';
