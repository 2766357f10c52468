const esc = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // XML 1.0 cannot carry most C0 control characters at all.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export interface JunitCase {
  readonly classname: string;
  readonly name: string;
  readonly timeMs: number;
  readonly failure?: string | undefined;
  readonly skipped?: string | undefined;
  readonly output?: string | undefined;
}

/** JUnit XML as CI systems read it: one <testsuite> per group, one <testcase> per cell or mutant. */
export function junitXml(suites: readonly { name: string; cases: readonly JunitCase[] }[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="ptlab">'];
  for (const s of suites) {
    const failures = s.cases.filter((c) => c.failure).length;
    const skipped = s.cases.filter((c) => c.skipped).length;
    const time = s.cases.reduce((a, c) => a + c.timeMs, 0) / 1000;
    out.push(
      `  <testsuite name="${esc(s.name)}" tests="${s.cases.length}" failures="${failures}" skipped="${skipped}" time="${time.toFixed(3)}">`,
    );
    for (const c of s.cases) {
      out.push(
        `    <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${(c.timeMs / 1000).toFixed(3)}">`,
      );
      if (c.failure)
        out.push(
          `      <failure message="${esc(c.failure.split('\n')[0] ?? '')}">${esc(c.failure)}</failure>`,
        );
      if (c.skipped) out.push(`      <skipped message="${esc(c.skipped)}"/>`);
      if (c.output) out.push(`      <system-out>${esc(c.output)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
