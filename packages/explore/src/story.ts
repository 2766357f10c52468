import { CHECKS, type Finding } from '@ptlab/core';
import type { StepRecord } from './execution.js';

export interface StoryOptions {
  readonly title: string;
  /** The seed message that explains this kind of bug, if the scenario or mutant names one. */
  readonly seedRef?: string | undefined;
  /** Show the grace-period/workqueue daemons' idle bookkeeping too. */
  readonly verbose?: boolean | undefined;
}

function ctxOf(r: StepRecord): string {
  const parts: string[] = [];
  if (r.locks.length) parts.push(`holds ${r.locks.join(', ')}`);
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
  out.push(opts.title);
  const cpus = [...new Map(records.map((r) => [r.cpu, r.task])).entries()];
  out.push(`CPUs: ${cpus.map(([c, t]) => `${c} = ${t}`).join(', ')}`);
  out.push('');
  const related = new Set(finding?.related.map((e) => e.step) ?? []);
  for (const r of records) {
    const mark = finding && r.n === finding.step ? '>>' : related.has(r.n) ? ' *' : '  ';
    const fn = r.stack.length ? r.stack.join(' > ') : r.task;
    const c = ctxOf(r);
    out.push(
      `${mark}${String(r.n).padStart(4)}  ${r.cpu.padEnd(8)} ${fn}: ${r.what}${c ? `  ${c}` : ''}`,
    );
    for (const n of r.notes) out.push(`${' '.repeat(16)}- ${n}`);
  }
  out.push('');
  if (!finding) {
    out.push('No check fired.');
    return out.join('\n');
  }
  out.push(`FINDING ${finding.check} at step ${finding.step} on ${finding.cpu} (${finding.fn}):`);
  out.push(`  ${finding.message}`);
  for (const e of finding.related)
    out.push(`  set up at step ${e.step}: ${e.cpu} ${e.fn}: ${e.what}`);
  out.push(`  check: ${CHECKS[finding.check].description}`);
  if (opts.seedRef) out.push(`  see: ${opts.seedRef}`);
  return out.join('\n');
}
