/** A built conformance report as the terminal shows it, and as JUnit XML. */
import { type MutantAccount, mutantVerdictText } from '@ptlab/conformance';
import { cliInvocation } from './invocation.js';
import { junitXml } from './junit.js';
import type { colours } from './output.js';
import { portLabel } from './registry.js';
import type { BuiltReport, CellRecord } from './report.js';

type Colours = ReturnType<typeof colours>;

/** How a clean cell shows in the matrix (5 columns). */
function matrixCell(r: CellRecord | undefined, c: Colours): string {
  if (!r) return c.dim('?'.padStart(5));
  switch (r.verdict) {
    case 'verified':
      return c.green('ok'.padStart(5));
    case 'verified-bounded':
      return c.green(`≤${r.bound ?? '?'}`.padStart(5));
    case 'sampled':
      return c.yellow('smp'.padStart(5));
    case 'n/a':
      return c.dim('-'.padStart(5));
    case 'error':
      return c.red('ERR'.padStart(5));
    default:
      return c.red('FAIL'.padStart(5));
  }
}

function mutantLine(m: MutantAccount, c: Colours): string {
  const text = mutantVerdictText(m);
  if (m.verdict === 'not-run') return c.dim(text);
  return m.ok ? text : c.red(text);
}

/** The matrix, failing cells, mutants, known findings and the verdict, line by line. */
export function renderReport(b: BuiltReport, c: Colours, out: (s: string) => void): void {
  const { plan, summary, base, findings, meta } = b;
  const { scenarios, configs, catalogue } = plan;
  const mutants = summary.mutants;
  const cols = configs.map((x) => x.config.id);
  const w = Math.max(...scenarios.map((s) => s.id.length), 8);
  out(
    `ptlab conformance: ${scenarios.length} scenarios x ${cols.length} arch configs${plan.options.mutants ? ` + ${catalogue.length} mutants` : ''}, seed ${plan.options.seed}, ${b.cellsRun} cells in ${(meta.elapsedMs / 1000).toFixed(1)} s`,
  );
  if (meta.shard)
    out(
      `shard ${meta.shard}: ${meta.unitsTotal} of the plan's ${plan.units.length} units (balanced by expected cost)`,
    );
  out('');
  for (const [i, x] of configs.entries())
    out(
      `  [${String(i + 1).padStart(2)}] ${x.config.id}${'module' in x.p.ref ? `  (${portLabel(x.p.ref)})` : ''}`,
    );
  out('');
  out(`${''.padEnd(w)} ${cols.map((_, i) => String(i + 1).padStart(5)).join('')}`);
  for (const s of scenarios) {
    const row = cols.map((id) =>
      matrixCell(
        base.find((x) => x.arch === id && x.scenario === s.id),
        c,
      ),
    );
    out(`${s.id.padEnd(w)} ${row.join('')}`);
  }
  out(
    `  (ok: verified, every interleaving up to equivalence; ≤k: verified within k preemptions; smp: sampled, no proof; -: not applicable; FAIL: a check fired; ERR: the cell could not run${meta.interrupted || b.unitsOutside ? '; ?: not run (interrupted, or in another shard)' : ''})`,
  );
  if (summary.failing.length) {
    out('');
    out('Failing cells:');
    for (const r of base.filter((x) => x.verdict === 'fail' || x.verdict === 'error'))
      out(
        `  ${c.red(r.verdict === 'error' ? 'ERR ' : 'FAIL')} ${r.arch} x ${r.scenario}: ${r.reason ?? r.result}${r.trace ? `\n       trace: ${r.trace} (${cliInvocation()} replay ${r.trace})` : ''}`,
      );
  }
  if (plan.options.mutants && meta.shard) {
    out('');
    out(
      `mutants: judged by ptlab merge over every shard (shard ${meta.shard} ran ${b.cellsRun - base.length} of their cells; a mutant may be killed in another shard)`,
    );
  } else if (plan.options.mutants) {
    out('');
    const mw = Math.max(...mutants.map((m) => m.id.length), 6);
    out(`${'mutant'.padEnd(mw)}  expect  verdict`);
    for (const m of mutants) out(`${m.id.padEnd(mw)}  ${m.expect.padEnd(6)}  ${mutantLine(m, c)}`);
  }
  if (findings.length) {
    out('');
    out(
      'Known kernel findings (mainline model, no fix; reported apart, not a conformance failure):',
    );
    for (const f of findings)
      out(
        `  ${f.status === 'reproduces' ? c.yellow('reproduces') : f.status === 'gone' ? c.cyan('GONE') : c.red('ERROR')} ${f.id} on ${f.config} x ${f.scenario}${f.status === 'gone' ? ` (no longer fires: ${f.detail}; update conformance/src/findings.ts)` : f.status === 'error' ? `: ${f.detail}` : ''}\n       fix: ${f.fix}; ${f.upstream.split(';')[0]}${f.trace ? `\n       trace: ${f.trace}` : ''}`,
      );
  }
  const cut = base.filter((r) => r.truncated);
  if (cut.length) {
    out(
      `note: ${cut.length} cell(s) had schedules cut off by the step budget, so they are at best sampled: ${cut.map((r) => `${r.arch} x ${r.scenario} (${r.truncated})`).join(', ')}`,
    );
  }
  for (const e of meta.scenarioErrors) out(`\nscenario error: ${e}`);
  const n = summary.counts;
  const applicable = base.length - n['n/a'];
  out('');
  if (meta.interrupted)
    out(
      c.yellow(
        `interrupted (${meta.interrupted}): ${meta.unitsFinished}/${meta.unitsTotal} units finished; the verdicts above cover only those`,
      ),
    );
  out(
    `clean cells: ${n.verified} verified, ${n['verified-bounded']} verified-bounded, ${n.sampled} sampled, ${n.fail} failed, ${n.error} errors (${applicable} applicable; ${n['n/a']} not applicable)`,
  );
  if (plan.options.mutants && !meta.shard) {
    const mc = summary.mutantCounts;
    out(
      `mutants: ${mc.killed} killed, ${mc['not-killed']} not killed, ${mc.passes} correct variants pass, ${mc['wrongly-fails']} wrongly fail, ${mc['not-run']} not run`,
    );
  }
}

/** The verdict kind of a cell in words, as JUnit's system-out shows it. */
function verdictWords(r: CellRecord): string {
  const kind =
    r.verdict === 'verified-bounded'
      ? `verified-bounded (every interleaving within ${r.bound} preemptions)`
      : r.verdict === 'verified'
        ? 'verified (every interleaving up to equivalence)'
        : r.verdict === 'sampled'
          ? 'sampled (no proof)'
          : r.verdict;
  return `verdict: ${kind}, ${r.schedules} executions${r.trace ? `\ntrace: ${r.trace}` : ''}`;
}

/**
 * JUnit XML (valid against junit-10.xsd): one suite of clean cells, one of
 * mutants. A fired check is a failure, a cell that could not run an error,
 * n/a skipped; each case's system-out starts with its verdict kind.
 */
export function reportJunit(b: BuiltReport): string {
  return junitXml([
    {
      name: 'conformance',
      cases: b.base.map((r) => ({
        classname: r.arch,
        name: r.scenario,
        timeMs: r.elapsedMs,
        ...(r.verdict === 'error'
          ? { error: { message: r.error?.message ?? r.reason ?? 'error', type: r.error?.code } }
          : r.verdict === 'fail'
            ? {
                failure: {
                  message: r.reason ?? 'a check fired',
                  type: r.finding?.check,
                  text: `${r.reason ?? ''}${r.story ? `\n\n${r.story}` : ''}`,
                },
              }
            : {}),
        ...(r.verdict === 'n/a' ? { skipped: r.reason ?? 'not applicable' } : {}),
        output: verdictWords(r),
      })),
    },
    {
      name: 'mutants',
      cases: b.summary.mutants.map((m) => {
        const text = mutantVerdictText(m);
        return {
          classname: `mutant.${m.layer}`,
          name: m.id,
          timeMs: 0,
          ...(m.verdict === 'not-run'
            ? { skipped: text }
            : m.ok
              ? {}
              : m.kills.length === 0 && m.errors.length > 0 && m.errors.length >= m.cells
                ? { error: { message: text, type: 'not-run' } }
                : { failure: { message: text, type: m.verdict } }),
          output: `verdict: ${m.verdict} (expect ${m.expect})\n${text}`,
        };
      }),
    },
  ]);
}
