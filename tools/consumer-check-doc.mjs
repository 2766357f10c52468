// @ts-check
/**
 * docs/porting-an-arch.md against a scaffold `ptlab init-arch` wrote. The doc
 * marks what it claims about the generated package:
 *
 *   <!-- scaffold-files -->      the next code block lists every generated
 *                                file, one path per line (after the first
 *                                word, a comment may follow)
 *   <!-- scaffold: src/x.ts -->  the next code block appears, line for line
 *                                and contiguous, in that generated file
 *
 * The doc uses the arch name DOC_ARCH. Used by tools/consumer-check.mjs (on the
 * scaffold the packed CLI writes) and tools/cli/test/init-arch.test.ts (on the
 * one the source writes).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The arch name the doc's examples are written for. */
export const DOC_ARCH = 'myarch';
export const DOC_PATH = join(import.meta.dirname, '..', 'docs', 'porting-an-arch.md');

/**
 * The doc's marked code blocks.
 * @param {string} text
 * @returns {{ kind: 'files' | 'file', path?: string, lines: string[], line: number }[]}
 */
export function markedBlocks(text) {
  const lines = text.split('\n');
  /** @type {{ kind: 'files' | 'file', path?: string, lines: string[], line: number }[]} */
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!-- scaffold(-files|: (\S+)) -->$/.exec(lines[i]?.trim() ?? '');
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && (lines[j] ?? '').trim() === '') j++;
    if (!/^```/.test(lines[j] ?? ''))
      throw new Error(`${DOC_PATH}:${i + 1}: a scaffold marker not followed by a code block`);
    const start = j + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    if (end >= lines.length) throw new Error(`${DOC_PATH}:${j + 1}: unterminated code block`);
    const body = lines.slice(start, end);
    out.push(
      m[1] === '-files'
        ? { kind: 'files', lines: body, line: i + 1 }
        : { kind: 'file', path: m[2], lines: body, line: i + 1 },
    );
    i = end;
  }
  return out;
}

/** @param {string} dir @returns {string[]} */
function filesUnder(dir, base = dir) {
  /** @type {string[]} */
  const out = [];
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'package-lock.json' || e === '.npmrc') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, base));
    else out.push(relative(base, p));
  }
  return out.sort();
}

/**
 * Every way the doc and the scaffold in `dir` (written for DOC_ARCH) differ.
 * `files`: the scaffold's files (default: read from `dir`).
 * @param {string} dir
 * @param {{ doc?: string, read?: (path: string) => string | undefined, files?: string[] }} [o]
 * @returns {string[]}
 */
export function docProblems(dir, o = {}) {
  const doc = o.doc ?? readFileSync(DOC_PATH, 'utf8');
  const read =
    o.read ??
    ((/** @type {string} */ p) => {
      try {
        return readFileSync(join(dir, p), 'utf8');
      } catch {
        return undefined;
      }
    });
  const files = o.files ?? filesUnder(dir);
  const problems = [];
  const blocks = markedBlocks(doc);
  if (!blocks.some((b) => b.kind === 'files'))
    problems.push('the doc has no <!-- scaffold-files --> block');
  if (!blocks.some((b) => b.kind === 'file'))
    problems.push('the doc shows no generated file (<!-- scaffold: path -->)');
  for (const b of blocks) {
    const where = `docs/porting-an-arch.md:${b.line}`;
    if (b.kind === 'files') {
      const listed = b.lines
        .map((l) => l.trim().split(/\s+/)[0] ?? '')
        .filter(Boolean)
        .sort();
      const missing = files.filter((f) => !listed.includes(f));
      const extra = listed.filter((f) => !files.includes(f));
      if (missing.length) problems.push(`${where}: the file list lacks ${missing.join(', ')}`);
      if (extra.length)
        problems.push(
          `${where}: the file list names ${extra.join(', ')}, which init-arch does not write`,
        );
      continue;
    }
    const path = /** @type {string} */ (b.path);
    const text = read(path);
    if (text === undefined) {
      problems.push(`${where}: shows ${path}, which init-arch does not write`);
      continue;
    }
    if (!containsLines(text.split('\n'), b.lines))
      problems.push(
        `${where}: the block shown for ${path} is not in the generated file (line for line, contiguous)`,
      );
  }
  return problems;
}

/** @param {string[]} hay @param {string[]} needle */
function containsLines(hay, needle) {
  if (needle.length === 0) return false;
  for (let i = 0; i + needle.length <= hay.length; i++)
    if (needle.every((l, k) => hay[i + k] === l)) return true;
  return false;
}
