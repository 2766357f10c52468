import { CHECKS, type Finding } from '@ptlab/core';
import type { StepRecord } from './execution.js';
import { citations, citationText, kernelSourceUrl, stepFunction } from './links.js';
import { StableNames } from './names.js';
import type { World } from './observe.js';

export interface StoryOptions {
  readonly title: string;
  /** The seed message that explains this kind of bug, if the scenario or mutant names one. */
  readonly seedRef?: string | undefined;
  /** Show the grace-period/workqueue daemons' idle bookkeeping too. */
  readonly verbose?: boolean | undefined;
  /** The kernel release the arch config models (ArchConfig.kernel, `v6.6`): the story links the kernel source there. */
  readonly kernel?: string | undefined;
  /** The run's objects (Execution.world): every page table goes by one name. */
  readonly world?: World | undefined;
}

function ctxOf(r: StepRecord, names: StableNames): string {
  const parts: string[] = [];
  if (r.locks.length) parts.push(`holds ${r.locks.map((l) => names.text(l, r.n)).join(', ')}`);
  if (r.rcu > 0) parts.push(`rcu_read_lock x${r.rcu}`);
  if (r.irqsOff) parts.push('irqs off');
  return parts.length ? `[${parts.join('; ')}]` : '';
}

/**
 * A counterexample as a kernel developer would tell it: one line per step,
 * naming the CPU, the call chain, what it did, the locks it held, whether it
 * was inside an RCU read-side section or had interrupts off; then the check
 * that fired, the events that set it up, and the seed message that explains it.
 */
export function renderStory(
  records: readonly StepRecord[],
  finding: Finding | null,
  opts: StoryOptions,
): string {
  const out: string[] = [];
  const names = new StableNames(opts.world);
  const say = (text: string, step: number) => names.text(text, step);
  out.push(opts.title);
  const cpus = [...new Map(records.map((r) => [r.cpu, r.task])).entries()];
  out.push(`CPUs: ${cpus.map(([c, t]) => `${c} = ${t}`).join(', ')}`);
  out.push('');
  const related = new Set(finding?.related.map((e) => e.step) ?? []);
  for (const r of records) {
    const mark = finding && r.n === finding.step ? '>>' : related.has(r.n) ? ' *' : '  ';
    const fn = r.stack.length ? r.stack.join(' > ') : r.task;
    const c = ctxOf(r, names);
    out.push(
      `${mark}${String(r.n).padStart(4)}  ${r.cpu.padEnd(8)} ${fn}: ${say(r.what, r.n)}${c ? `  ${c}` : ''}`,
    );
    for (const n of r.notes) out.push(`${' '.repeat(16)}- ${say(n, r.n)}`);
  }
  out.push('');
  if (!finding) out.push('No check fired.');
  else {
    out.push(`FINDING ${finding.check} at step ${finding.step} on ${finding.cpu} (${finding.fn}):`);
    out.push(`  ${say(finding.message, finding.step)}`);
    for (const e of finding.related)
      out.push(`  set up at step ${e.step}: ${e.cpu} ${e.fn}: ${say(e.what, e.step)}`);
    out.push(`  check: ${CHECKS[finding.check].description}`);
    if (opts.seedRef) {
      out.push(`  see: ${citationText(opts.seedRef)}`);
      for (const c of citations(opts.seedRef))
        out.push(
          `       ${c.url}${c.how === 'thread' ? ' (its thread)' : c.how === 'search' ? ' (subject search)' : ''}  ${c.subject}`,
        );
    }
  }
  if (opts.kernel) out.push(...sourceLinks(records, opts.kernel));
  return out.join('\n');
}

/** Each kernel function the steps model, once, with its source at the config's release. */
function sourceLinks(records: readonly StepRecord[], kernel: string): string[] {
  const fns: string[] = [];
  for (const r of records) {
    const fn = stepFunction(r);
    if (fn && !fns.includes(fn) && kernelSourceUrl(fn, kernel)) fns.push(fn);
  }
  if (!fns.length) return [];
  const w = Math.max(...fns.map((f) => f.length));
  return [
    '',
    `kernel source (${kernel}, elixir.bootlin.com):`,
    ...fns.map((f) => `  ${f.padEnd(w)}  ${kernelSourceUrl(f, kernel)}`),
  ];
}
