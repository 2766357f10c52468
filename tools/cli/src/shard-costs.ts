import type { CostTable } from './shard.js';

/** Expected unit costs for --shard (none measured yet: every unit is estimated). */
export const SHARD_COSTS: CostTable = {
  measured: 'nothing yet',
  unit: 'steps + schedules',
  costs: {},
};
