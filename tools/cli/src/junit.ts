/**
 * JUnit XML as CI systems read it, valid against the junit-10.xsd that
 * Jenkins' xunit plugin validates with (test/fixtures/junit-10.xsd): one
 * <testsuite> per group with tests, failures, errors, skipped and time, one
 * <testcase> per cell or mutant. A check that fired is a <failure>, a cell
 * that could not run an <error>, a cell that does not apply <skipped>.
 */

/** Text XML 1.0 can carry: no C0 controls but tab/newline/return, no lone surrogates, no U+FFFE/U+FFFF. */
function xmlText(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  );
}

const esc = (s: string): string =>
  xmlText(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An attribute value: also quotes, and line breaks kept as character references. */
const attr = (s: string): string =>
  esc(s)
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');

/** A failure or error: its one-line message, its type (a check id, an error code) and the full text. */
export interface JunitProblem {
  readonly message: string;
  readonly type?: string | undefined;
  readonly text?: string | undefined;
}

export interface JunitCase {
  readonly classname: string;
  readonly name: string;
  readonly timeMs: number;
  /** A check fired (the test's assertion failed). */
  readonly failure?: JunitProblem | undefined;
  /** The test could not run (not a verdict on what it tests). */
  readonly error?: JunitProblem | undefined;
  readonly skipped?: string | undefined;
  /** Shown as system-out: the verdict kind, the executions, where the trace is. */
  readonly output?: string | undefined;
}

export interface JunitSuite {
  readonly name: string;
  readonly cases: readonly JunitCase[];
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

function problem(tag: 'failure' | 'error', p: JunitProblem): string {
  const type = p.type ? ` type="${attr(p.type)}"` : '';
  return `      <${tag} message="${attr(p.message)}"${type}>${esc(p.text ?? p.message)}</${tag}>`;
}

export function junitXml(suites: readonly JunitSuite[]): string {
  const total = { tests: 0, failures: 0, errors: 0, ms: 0 };
  const body: string[] = [];
  for (const s of suites) {
    const failures = s.cases.filter((c) => c.failure).length;
    const errors = s.cases.filter((c) => c.error).length;
    const skipped = s.cases.filter((c) => c.skipped !== undefined).length;
    const ms = s.cases.reduce((a, c) => a + c.timeMs, 0);
    total.tests += s.cases.length;
    total.failures += failures;
    total.errors += errors;
    total.ms += ms;
    body.push(
      `  <testsuite name="${attr(s.name)}" tests="${s.cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(ms)}">`,
    );
    for (const c of s.cases) {
      body.push(
        `    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}" time="${seconds(c.timeMs)}">`,
      );
      if (c.failure) body.push(problem('failure', c.failure));
      if (c.error) body.push(problem('error', c.error));
      if (c.skipped !== undefined) body.push(`      <skipped message="${attr(c.skipped)}"/>`);
      if (c.output) body.push(`      <system-out>${esc(c.output)}</system-out>`);
      body.push('    </testcase>');
    }
    body.push('  </testsuite>');
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ptlab" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" time="${seconds(total.ms)}">`,
    ...body,
    '</testsuites>',
    '',
  ].join('\n');
}
