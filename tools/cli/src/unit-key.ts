/** A plan unit's key: what the journal, the cost table and shard assignment name a unit by. */
export type UnitKind = 'clean' | 'mutant' | 'finding';

export const unitKey = (kind: UnitKind, a: string, b: string): string =>
  JSON.stringify([kind, a, b]);
