/**
 * Where an error was thrown, for messages: its first stack frame outside
 * node itself. A frame in a built file with a source map beside it (ptlab's
 * own dist/ chunks) is named by its source instead (src/...ts:line): a chunk
 * line tells a user nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { PtlabError } from '@ptlab/core';

/** Source maps read so far (only when an error is reported), by generated file. */
const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let m = maps.get(file);
  if (m === undefined) {
    m = null;
    try {
      if (existsSync(`${file}.map`))
        m = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      // An unreadable map: name the built file.
    }
    maps.set(file, m);
  }
  return m;
}

/** `file:line` of a generated position, through the file's source map when it has one. */
export function sourceOf(file: string, line: number, column: number): string {
  const e = mapOf(file)?.findEntry(line - 1, column - 1);
  if (e && 'originalSource' in e && typeof e.originalSource === 'string')
    return `${resolve(dirname(file), e.originalSource.replace(/^file:\/\//, ''))}:${e.originalLine + 1}`;
  return `${file}:${line}`;
}

/** The file and line `e` was thrown at, or null when its stack names none. */
export function thrownAt(e: Error): string | null {
  let stack: string;
  try {
    // An arch module's error may have a `stack` that is a getter, and one that throws.
    stack = String(e.stack ?? '');
  } catch {
    return null;
  }
  for (const line of stack.split('\n').slice(1)) {
    // A path or file URL after `at ` or `(`: not the tail of node:internal/... .
    const m = /(?:^at |\()((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/.exec(line.trim());
    if (m) return sourceOf((m[1] as string).replace(/^file:\/\//, ''), Number(m[2]), Number(m[3]));
  }
  return null;
}

/**
 * For a ptlab error that wraps what an arch module threw (its cause: the
 * module could not be imported), ` (thrown at file:line)` of that; else ''.
 */
export function causeAt(e: unknown): string {
  const c = e instanceof PtlabError ? e.cause : undefined;
  const at = c instanceof Error && !(c instanceof PtlabError) ? thrownAt(c) : null;
  return at ? ` (thrown at ${at})` : '';
}
