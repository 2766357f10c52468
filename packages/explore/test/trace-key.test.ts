import { describe, expect, it } from 'vitest';
import { traceKey } from '../src/index.js';

// Packed footprints: object * 2, plus 1 for a write.
const r = (o: number) => o * 2;
const w = (o: number) => o * 2 + 1;

describe('traceKey', () => {
  it('is the same for executions that differ by swapping independent steps', () => {
    const a = [
      { tid: 0, fp: [w(1)] },
      { tid: 1, fp: [r(2)] },
      { tid: 2, fp: [r(2)] },
    ];
    expect(traceKey([a[1], a[0], a[2]] as typeof a)).toBe(traceKey(a));
    // Two reads of one object commute too.
    expect(traceKey([a[0], a[2], a[1]] as typeof a)).toBe(traceKey(a));
  });

  it('differs when conflicting steps change order', () => {
    const writeThenRead = [
      { tid: 0, fp: [w(1)] },
      { tid: 1, fp: [r(1)] },
    ];
    const readThenWrite = [
      { tid: 1, fp: [r(1)] },
      { tid: 0, fp: [w(1)] },
    ];
    expect(traceKey(readThenWrite)).not.toBe(traceKey(writeThenRead));
    const writes = [
      { tid: 0, fp: [w(1)] },
      { tid: 1, fp: [w(1)] },
    ];
    expect(traceKey([writes[1], writes[0]] as typeof writes)).not.toBe(traceKey(writes));
  });
});
