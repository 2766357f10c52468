/**
 * The engine section's measurement, in a process of its own (engine-run.ts
 * starts it): the bench itself runs with the "source" condition, which would
 * resolve a checkout's packages to their TypeScript, but users run the built
 * ones (dist/, kernel paths flattened by the build). Prints one JSON line:
 * { engine, generators }.
 *
 *   node --import tsx engine-child.ts ROOT LABEL SCHEDULES REPEATS GENERATOR_STEPS
 */
import { measureEngine, measureGenerators } from './engine.js';
import { workloadFrom } from './workload.js';

const [root, label, schedules, repeats, generatorSteps] = process.argv.slice(2);
if (!root || !label) throw new Error('engine-child: ROOT and LABEL are required');
const api = await workloadFrom(root, label);
const engine = measureEngine(api, { schedules: Number(schedules), repeats: Number(repeats) });
const generators = measureGenerators(Number(generatorSteps), Number(repeats));
process.stdout.write(`${JSON.stringify({ engine, generators })}\n`);
