export { junitXml } from './junit.js';
export type { Io } from './main.js';
export { runCli } from './main.js';
export type { LoadedPort, PortRef } from './registry.js';
export { BUILTIN_PORTS, builtinPorts, findConfig, resolvePorts } from './registry.js';
