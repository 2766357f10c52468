import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killRate, readCoverageSummary, suiteFigureLines } from '../src/suite-figures.js';

describe('suite figures', () => {
  it('kill rate names the mutants not killed', () => {
    const k = killRate([
      { id: 'a', killed: true },
      { id: 'b', killed: false },
    ]);
    expect(k).toEqual({ killed: 1, total: 2, missed: ['b'] });
    expect(suiteFigureLines(k, null, 'x/coverage-summary.json')[0]).toMatch(
      /1\/2 killed \(50\.0%\).*b/,
    );
  });

  it('prints branch coverage per package from a summary, or how to get one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptlab-bench-'));
    const p = join(dir, 'coverage-summary.json');
    expect(readCoverageSummary(p)).toBeNull();
    expect(suiteFigureLines(killRate([]), null, p)[1]).toMatch(/--coverage/);
    writeFileSync(
      p,
      JSON.stringify({
        perPackage: {
          '@ptlab/mm': { branches: { found: 4, hit: 3 }, functions: { found: 2, hit: 2 } },
        },
      }),
    );
    expect(suiteFigureLines(killRate([]), readCoverageSummary(p), p).join('\n')).toMatch(
      /@ptlab\/mm.*3\/4\s+75\.0%/,
    );
  });
});
