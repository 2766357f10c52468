/**
 * Self-contained HTML: every page carries its stylesheet, its data and its
 * script inline, and a Content-Security-Policy that forbids loading anything
 * (no network, no other file), so a report opens the same anywhere, offline.
 */
import type { MutantAccount } from '@ptlab/conformance';
import type { Report } from '../report-schema.js';
import { STYLE } from './style.js';
import type { TraceView } from './view-schema.js';
import { VIEWER_JS } from './viewer-bundle.js';

/** Nothing may be fetched; inline style and script only; links may be followed. */
export const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export const esc = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** JSON inside <script type="application/json">: nothing in it can close the element. */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ptlab">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
${script}
</body>
</html>
`;
}

/** One counterexample in the trace viewer. */
export function tracePage(view: TraceView): string {
  const data = `<script type="application/json" id="ptlab-data">${scriptJson(view)}</script>`;
  const js = `<script>${VIEWER_JS.replace(/<\/script/gi, '<\\/script')}</script>`;
  return page(
    `ptlab: ${view.title}`,
    `<div id="app"></div><noscript><p>The trace viewer needs JavaScript; the same counterexample as text: ptlab replay ${esc(view.trace)}</p></noscript>`,
    `${data}\n${js}`,
  );
}

const VERDICT_TEXT: Record<string, string> = {
  verified: 'ok',
  sampled: 'smp',
  fail: 'FAIL',
  error: 'ERR',
  'n/a': '-',
};

const kindClass = (v: string) => `v-${v === 'n/a' ? 'na' : v}`;

type Cell = Report['cells'][number];

function cellHtml(
  c: Cell | undefined,
  page: string | undefined,
  cov: { reached: number; total: number } | undefined,
): string {
  if (!c) return '<td class="muted">?</td>';
  const text =
    c.verdict === 'verified-bounded'
      ? `≤${c.bound ?? '?'}`
      : (VERDICT_TEXT[c.verdict] ?? c.verdict);
  const title = [
    c.verdict === 'verified-bounded' ? `verified within ${c.bound} preemptions` : c.verdict,
    `${c.schedules} executions`,
    c.reason,
    c.error?.message,
  ]
    .filter(Boolean)
    .join(' · ');
  const badge = `<span class="pill ${kindClass(c.verdict)}" title="${esc(title)}">${esc(text)}</span>`;
  const link = page ? ` <a href="${esc(page)}" title="open the trace viewer">trace</a>` : '';
  const covText = cov
    ? `<span class="cov" title="branches of the kernel model reached">${cov.reached}/${cov.total}</span>`
    : '';
  return `<td data-verdict="${esc(c.verdict)}">${badge}${link}${covText}</td>`;
}

function mutantRow(
  m: MutantAccount | Report['mutants'][number],
  pages: ReadonlyMap<string, string>,
  text: string,
): string {
  const k = m.kills[0] ?? m.otherFailures[0];
  const page = k?.trace ? pages.get(k.trace) : undefined;
  const cls = m.verdict === 'not-run' ? 'v-na' : m.ok ? 'v-verified' : 'v-fail';
  return `<tr><td class="mono">${esc(m.id)}</td><td>${esc(m.layer)}</td><td>${esc(m.expect)}</td><td><span class="pill ${cls}">${esc(m.verdict)}</span></td><td>${esc(text)}${page ? ` <a href="${esc(page)}">trace</a>` : ''}</td></tr>`;
}

export interface IndexInput {
  readonly report: Report;
  /** Kernel release of each config id. */
  readonly kernels: ReadonlyMap<string, string>;
  /** Trace file path -> the page that shows it (relative to the index). */
  readonly pages: ReadonlyMap<string, string>;
  /** One line per mutant (mutantVerdictText), by id. */
  readonly mutantText: ReadonlyMap<string, string>;
}

const pctOf = (c: { found: number; hit: number }): string =>
  c.found ? ((100 * c.hit) / c.found).toFixed(1) : '100.0';

/** The mm + arch-* figures and the per-package table of a --coverage run's summary. */
function coverageTarget(cov: NonNullable<IndexInput['report']['coverage']>): string {
  const t = cov.target;
  const head = t
    ? `<p>mm and arch-*: ${t.branches.hit} of ${t.branches.found} branches reached (${pctOf(t.branches)}%); of the ${t.correctCode.found} that correct code can take, ${t.correctCode.hit} (${pctOf(t.correctCode)}%; the target is 95%). Unreached, by kind: ${Object.entries(
        t.unreachedByKind,
      )
        .map(([k, n]) => `${n} ${esc(k)}`)
        .join(', ')} (docs/coverage.md).</p>`
    : '';
  const pkgs = Object.entries(cov.perPackage ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const table = pkgs.length
    ? `<table class="grid"><tr><th>package</th><th>branches reached</th><th>%</th></tr>${pkgs
        .map(
          ([p, c]) =>
            `<tr><td class="mono">${esc(p)}</td><td>${c.branches.hit} / ${c.branches.found}</td><td>${pctOf(c.branches)}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  return head + table;
}

/** The conformance run: the matrix with verdict kinds and coverage, the mutants, the known kernel findings. */
export function indexPage(i: IndexInput): string {
  const r = i.report;
  const n = r.counts;
  const cov = r.coverage;
  const covOf = (arch: string, scenario: string) =>
    cov?.cells?.find((c) => c.arch === arch && c.scenario === scenario);
  const rows = r.scenarios
    .map((s) => {
      const cells = r.archConfigs
        .map((a) => {
          const c = r.cells.find((x) => x.arch === a && x.scenario === s);
          const p = c?.trace ? i.pages.get(c.trace) : undefined;
          const v = covOf(a, s);
          return cellHtml(c, p, v ? { reached: v.reached, total: v.total } : undefined);
        })
        .join('');
      return `<tr><td class="scen mono">${esc(s)}</td>${cells}</tr>`;
    })
    .join('\n');
  const head = r.archConfigs
    .map(
      (a) =>
        `<th class="mono" title="Linux ${esc(i.kernels.get(a) ?? '?')}">${esc(a)}<span class="cov">${esc(i.kernels.get(a) ?? '')}</span></th>`,
    )
    .join('');
  const coverage = cov
    ? `<section id="coverage"><h2>Coverage of the kernel model</h2><p>${cov.reached !== undefined && cov.total !== undefined ? `${cov.reached} of ${cov.total} branches reached` : 'coverage summary present'}${cov.cells ? '; per cell under each verdict above' : ''}.</p>${coverageTarget(cov)}${
        cov.gaps?.length
          ? `<table class="grid"><tr><th>not reached</th><th>why</th></tr>${cov.gaps.map((g) => `<tr><td class="mono">${esc(g.id)}</td><td>${esc(g.reason)}</td></tr>`).join('')}</table>`
          : ''
      }</section>`
    : '<section id="coverage"><h2>Coverage of the kernel model</h2><p class="muted">This report has no coverage summary: the run did not measure coverage.</p></section>';
  const mutants = r.mutants.length
    ? `<section id="mutants"><h2>Mutants: historical bugs the suite must catch, and designs that must pass</h2>
<table class="grid"><tr><th>mutant</th><th>layer</th><th>expect</th><th>verdict</th><th></th></tr>
${r.mutants.map((m) => mutantRow(m, i.pages, i.mutantText.get(m.id) ?? '')).join('\n')}
</table>
<p class="muted">${Object.entries(r.mutantCounts)
        .map(([k, v]) => `${v} ${esc(k)}`)
        .join(', ')}</p></section>`
    : '';
  const findings = r.knownFindings.length
    ? `<section id="known-findings"><h2>Known kernel findings (mainline model, no fix; reported apart, not a conformance failure)</h2>
<table class="grid"><tr><th>finding</th><th>config</th><th>scenario</th><th>status</th><th>fix</th><th>upstream</th></tr>
${r.knownFindings
  .map((f) => {
    const p = f.trace ? i.pages.get(f.trace) : undefined;
    return `<tr><td><span class="mono">${esc(f.id)}</span><br>${esc(f.title)}</td><td class="mono">${esc(f.config)}</td><td class="mono">${esc(f.scenario)}</td><td><span class="pill ${f.status === 'reproduces' ? 'v-sampled' : f.status === 'gone' ? 'v-na' : 'v-fail'}">${esc(f.status)}</span>${p ? ` <a href="${esc(p)}">trace</a>` : ''}</td><td class="mono">${esc(f.fix)}</td><td>${esc(f.upstream)}</td></tr>`;
  })
  .join('\n')}
</table></section>`
    : '';
  const errors = r.scenarioErrors.length
    ? `<section><h2>Scenario files that could not be loaded</h2><ul>${r.scenarioErrors.map((e) => `<li class="mono">${esc(e)}</li>`).join('')}</ul></section>`
    : '';
  const interrupted = r.interrupted
    ? `<div class="banner warn">Interrupted (${esc(r.interrupted)}): ${r.unitsFinished}/${r.unitsTotal} units finished; the verdicts cover only those.</div>`
    : '';
  const body = `<header><h1>ptlab conformance: ${r.scenarios.length} scenarios × ${r.archConfigs.length} arch configs</h1>
<div class="muted">seed ${r.seed} · ${(r.elapsedMs / 1000).toFixed(1)} s · report format ptlab ${r.ptlab}</div></header>
<main>
${interrupted}
<div class="banner ${r.ok ? 'ok' : 'bad'}" id="verdict">${r.ok ? 'CONFORMANT' : 'NOT CONFORMANT'}: clean cells ${n.verified} verified, ${n['verified-bounded']} verified-bounded, ${n.sampled} sampled, ${n.fail} failed, ${n.error} errors, ${n['n/a']} not applicable</div>
<section id="matrix"><h2>Scenarios × arch configs</h2>
<table class="grid matrix"><tr><th>scenario</th>${head}</tr>
${rows}
</table>
<p class="legend"><span><span class="pill v-verified">ok</span> verified: every interleaving up to equivalence</span>
<span><span class="pill v-verified-bounded">≤k</span> verified within k preemptions</span>
<span><span class="pill v-sampled">smp</span> sampled, no proof</span>
<span><span class="pill v-fail">FAIL</span> a check fired</span>
<span><span class="pill v-error">ERR</span> the cell could not run</span>
<span><span class="pill v-na">-</span> not applicable</span></p>
</section>
${coverage}
${mutants}
${findings}
${errors}
</main>`;
  return page('ptlab conformance', body);
}
