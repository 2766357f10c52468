import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTrace } from '@ptlab/explore';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-replay-'));
/** A trace of the mm mutant pte-offset-map-without-rcu (pte_offset_map() without rcu_read_lock()). */
const rcuTrace = join(tmp, 'rcu.json');
/** The mainline model's known kernel finding on powerpc 64K (pte_frag_destroy() frees a PG_active page). */
const fragTrace = join(tmp, 'frag.json');

beforeAll(async () => {
  const a = await cli(
    'check',
    '--arch',
    'x86-64',
    '--scenario',
    'retract-vs-lockless-walkers',
    '--mutant',
    'pte-offset-map-without-rcu',
    '--strategy',
    'pct',
    '--trace-out',
    rcuTrace,
  );
  expect(a.code).toBe(1);
  const b = await cli(
    'check',
    '--arch',
    'ppc64-hash-64k',
    '--scenario',
    'deferred-fragment-freed-at-exit',
    '--strategy',
    'exhaustive',
    '--trace-out',
    fragTrace,
  );
  expect(b.code).toBe(1);
}, 120_000);

describe('ptlab replay says what the recorded schedule does on the code as it is', () => {
  it('still failing (exit 1): the same code gives the same finding', async () => {
    const r = await cli('replay', rcuTrace);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /^still failing: replay of .* same finding reproduced \(use-after-free at step \d+\)/,
    );
    expect(r.out).toMatch(/FINDING use-after-free/);
  });

  it('diverged at step N (exit 3): the fixed model (no mutant) takes another path, and says which', async () => {
    const r = await cli('replay', rcuTrace, '--mutant', 'none');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      // The walker the counterexample races (whichever it is) now takes rcu_read_lock() in pte_offset_map*().
      /^diverged at step \d+: replay of .*\(no mutant instead of the trace's mutant pte-offset-map-without-rcu\): recorded (\w+) "[^"]+", the model now does \1 "pte_offset_map\w*: rcu_read_lock\(\)"; --continue goes on/,
    );
  });

  it('--continue: the diverged replay goes on, and no check fires on the fixed model (still exit 3)', async () => {
    const r = await cli('replay', rcuTrace, '--mutant', 'none', '--continue');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      /^diverged at step \d+: .*continued .*: no check fired in \d+ more step\(s\), to the end of the run/,
    );
    // On the mutant itself the same trace is still failing: --continue changes nothing there.
    expect((await cli('replay', rcuTrace, '--continue')).code).toBe(1);
  });

  it('finding gone (exit 0): the known finding replayed with its fix runs to its end, no check fires', async () => {
    const r = await cli('replay', fragTrace, '--mutant', 'powerpc-frag-destroy-clear-active');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^finding gone: replay of .* on ppc64-hash-64k .*\(mutant powerpc-frag-destroy-clear-active instead of the trace's mainline model\): the recorded schedule ran to its end \(\d+ steps\) and no check fired/,
    );
    // Without the fix, the same file is still failing.
    expect((await cli('replay', fragTrace)).code).toBe(1);
  });

  it('a tampered or invalid trace is still refused by name (exit 2), never "gone"', async () => {
    const t = JSON.parse(readFileSync(fragTrace, 'utf8'));
    const bad = join(tmp, 'tampered.json');
    // An edited schedule, as someone might try to make a finding "go away".
    writeFileSync(bad, JSON.stringify({ ...t, schedule: t.schedule.slice(0, 3) }));
    const r = await cli('replay', bad, '--mutant', 'powerpc-frag-destroy-clear-active');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/digest does not match/);
    expect(r.out).toBe('');
    // Re-signed, a cut schedule no longer ends with its finding: refused as a trace.
    const { digest: _d, format: _f, version: _v, ...rest } = t;
    writeFileSync(bad, JSON.stringify(makeTrace({ ...rest, schedule: rest.schedule.slice(0, 3) })));
    const c = await cli('replay', bad);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/before its finding/);
    // An unknown mutant to replay on is bad usage, named.
    const m = await cli('replay', fragTrace, '--mutant', 'no-such-mutant');
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/unknown mutant "no-such-mutant"/);
  });
});
