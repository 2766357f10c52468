export type { Domain, Limits } from './child/process.js';
export type { CellOutcome, CellTask } from './jobs.js';
export { junitXml } from './junit.js';
export type { Io } from './main.js';
export { runCli } from './main.js';
export type { LoadedPort, PortRef } from './registry.js';
export { BUILTIN_PORTS, builtinPorts, findConfig } from './registry.js';
export type { ArchModuleRef } from './resolve-module.js';
export { resolveArchModule } from './resolve-module.js';
