/**
 * The kernel findings catalogue (src/findings.ts) as data: every entry names a
 * scenario of the suite, a real check, its kernel sources, a fix variant and a
 * captured story that shows its check firing; matchKnownFinding() tells the
 * finding from another one with the same check. (Reproduction on the real
 * arch port, and the fix passing, run in that port's package through
 * runConformance().)
 */
import { CHECKS, type Finding } from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import {
  findingStory,
  KERNEL_FINDINGS,
  knownFixes,
  loadScenarios,
  matchKnownFinding,
} from '../src/index.js';

const { scenarios } = loadScenarios();

const finding = (check: Finding['check'], message: string): Finding => ({
  check,
  message,
  step: 1,
  cpu: 'cpu0',
  fn: 'x',
  related: [],
});

describe('kernel findings catalogue', () => {
  it.each(KERNEL_FINDINGS.map((f) => [f.id, f] as const))('%s is complete', (_id, f) => {
    expect(f.check in CHECKS).toBe(true);
    expect(scenarios.some((s) => s.id === f.scenario)).toBe(true);
    expect(f.configs.length).toBeGreaterThan(0);
    expect(f.source.length).toBeGreaterThan(0);
    for (const s of f.source)
      for (const v of [s.file, s.fn, s.version, s.what]) expect(v).not.toBe('');
    expect(f.fix.variant).toMatch(/^[a-z0-9-]+$/);
    // The captured story ends in the finding, raised by this check, with a message the entry matches.
    const story = findingStory(f);
    expect(story).toContain(`FINDING ${f.check} at step`);
    const at = story.split('\n').findIndex((l) => l.startsWith(`FINDING ${f.check}`));
    const msg = story.split('\n')[at + 1] ?? '';
    expect(new RegExp(f.message).test(msg)).toBe(true);
  });

  it('matchKnownFinding() matches config, check and message, nothing less', () => {
    const f = KERNEL_FINDINGS.find((x) => x.id === 'powerpc-frag-destroy-active');
    if (!f) throw new Error('entry missing');
    const hit = finding(
      'bad-page-state',
      'cpu3 pte_frag_destroy: BUG: Bad page state in process cpu3  pfn:2 (pte fragments) flags:(active) page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set',
    );
    expect(matchKnownFinding('ppc64-hash-64k', hit)).toBe(f);
    expect(matchKnownFinding('ppc64-radix-4k', hit)).toBeUndefined();
    expect(matchKnownFinding('ppc64-hash-64k', { ...hit, check: 'page-leak' })).toBeUndefined();
    // Bad page state from another path (here: PG_reserved, pte_free_now) is not this finding.
    expect(
      matchKnownFinding(
        'ppc64-hash-64k',
        finding(
          'bad-page-state',
          'cpu0 pte_free_now: BUG: Bad page state ... flags:(reserved) ...',
        ),
      ),
    ).toBeUndefined();
  });

  it('knownFixes() names the fixes to apply per config', () => {
    expect(knownFixes('ppc64-radix-64k')).toEqual(['powerpc-frag-destroy-clear-active']);
    expect(knownFixes('x86-64')).toEqual([]);
  });
});
