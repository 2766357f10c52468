import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSP, indexPage, tracePage } from '../src/report/html.js';
import { type TraceView, TraceViewSchema } from '../src/report/view-schema.js';
import { bundleViewer } from '../src/report/viewer-build.js';
import { VIEWER_JS } from '../src/report/viewer-bundle.js';
import type { Report } from '../src/report-schema.js';
import { cli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-html-'));
const traceFile = join(tmp, 't.json');
let view: TraceView;

beforeAll(async () => {
  const w = await cli(
    'check',
    '--arch',
    'x86-64',
    '--scenario',
    'retract-vs-lockless-walkers',
    '--mutant',
    'retract-frees-immediately',
    '--strategy',
    'random',
    '--schedules',
    '200',
    '--seed',
    '7',
    '--trace-out',
    traceFile,
  );
  expect(w.code).toBe(1);
  const v = await cli('view', traceFile);
  expect(v.code, v.err).toBe(0);
  const html = readFileSync(join(tmp, 't.html'), 'utf8');
  const m = /<script type="application\/json" id="ptlab-data">(.*?)<\/script>/s.exec(html);
  view = TraceViewSchema.parse(JSON.parse(m?.[1] ?? 'null'));
}, 60_000);

describe('the trace viewer page', () => {
  it('inlines a viewer bundle that is what client/viewer.ts builds to now (pnpm --filter @ptlab/cli viewer)', async () => {
    expect(await bundleViewer()).toBe(VIEWER_JS);
  });

  it('is self-contained: a CSP that loads nothing, no src= or <link>, style and script inline', () => {
    const html = tracePage(view);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${CSP.replace(/'/g, '&#39;')}">`,
    );
    expect(CSP).toMatch(/^default-src 'none'/);
    expect(html).not.toMatch(/\ssrc=|<link\b|@import|url\(http/i);
    expect(html).toContain('<style>');
    expect(html).toContain(VIEWER_JS.slice(0, 200));
  });

  it('carries the view as data nothing in it can break out of', () => {
    const evil = { ...view, title: '</script><script>alert(1)</script>' };
    const html = tracePage(evil);
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).toContain('\\u003c/script>\\u003cscript>alert(1)\\u003c/script>');
    expect(html.match(/<\/script>/g)?.length).toBe(2);
  });

  it('names the step functions and the citations with links only to Elixir and lore', () => {
    const run = view.runs[0];
    expect(
      run?.steps.some((s) => s.src?.startsWith('https://elixir.bootlin.com/linux/v6.6/C/ident/')),
    ).toBe(true);
    expect(view.seed.links.length).toBeGreaterThan(0);
    // A view whose links go elsewhere (from a hostile module's process, say) is refused.
    const bad = structuredClone(view) as { seed: { links: { url: string }[] } };
    (bad.seed.links[0] as { url: string }).url = 'javascript:alert(1)';
    expect(TraceViewSchema.safeParse(bad).success).toBe(false);
  });

  it('ptlab view refuses a file that is not a trace (exit 2) and writes nothing', async () => {
    const r = await cli('view', join(tmp, 'missing.json'), '-o', join(tmp, 'missing.html'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot read/);
    expect(existsSync(join(tmp, 'missing.html'))).toBe(false);
  });
});

const report = (over: Partial<Report> = {}): Report => ({
  ptlab: 2,
  seed: 1,
  elapsedMs: 1000,
  interrupted: null,
  unitsFinished: 2,
  unitsTotal: 2,
  archConfigs: ['x86-64', '<b>evil</b>'],
  scenarios: ['retract-vs-exit'],
  counts: { verified: 1, 'verified-bounded': 0, sampled: 0, fail: 1, error: 0, 'n/a': 0 },
  cells: [
    {
      arch: 'x86-64',
      scenario: 'retract-vs-exit',
      result: 'pass',
      verdict: 'verified',
      schedules: 3,
      steps: 9,
      elapsedMs: 1,
    },
    {
      arch: '<b>evil</b>',
      scenario: 'retract-vs-exit',
      result: 'fail',
      verdict: 'fail',
      reason: 'use-after-free: <script>',
      trace: '/t/evil.json',
      schedules: 1,
      steps: 9,
      elapsedMs: 1,
    },
  ],
  mutants: [],
  mutantCounts: { killed: 0, 'not-killed': 0, passes: 0, 'wrongly-fails': 0, 'not-run': 0 },
  knownFindings: [],
  scenarioErrors: [],
  verdictKinds: ['verified', 'verified-bounded', 'sampled', 'fail', 'error', 'n/a'],
  ok: false,
  ...over,
});

describe('the conformance report page', () => {
  const base = {
    kernels: new Map([['x86-64', 'v6.6']]),
    pages: new Map([['/t/evil.json', 'traces/evil.html']]),
    mutantText: new Map<string, string>(),
  };

  it('escapes every name, shows each verdict kind and links a failing cell to its trace page', () => {
    const html = indexPage({ report: report(), ...base });
    expect(html).not.toContain('<b>evil</b>');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;b&gt;evil&lt;/b&gt;');
    expect(html).toMatch(/data-verdict="verified"/);
    expect(html).toMatch(
      /data-verdict="fail"><span class="pill v-fail"[^>]*>FAIL<\/span> <a href="traces\/evil\.html"/,
    );
    expect(html).toMatch(/NOT CONFORMANT/);
  });

  it('reads a coverage summary when the report has one, and says so when it has none', () => {
    const none = indexPage({ report: report(), ...base });
    expect(none).toMatch(/has no coverage summary/);
    const cov = indexPage({
      report: report({
        coverage: {
          reached: 40,
          total: 50,
          cells: [{ arch: 'x86-64', scenario: 'retract-vs-exit', reached: 12, total: 20 }],
          gaps: [{ id: 'pgtable.ts:pmd_clear_bad', reason: 'no scenario makes a bad pmd' }],
        },
      }),
      ...base,
    });
    expect(cov).toMatch(/40 of 50 branches reached/);
    expect(cov).toMatch(/<span class="cov"[^>]*>12\/20<\/span>/);
    expect(cov).toContain('no scenario makes a bad pmd');
  });
});
