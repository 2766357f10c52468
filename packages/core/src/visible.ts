/**
 * Input text shown in an error message: characters a reader cannot see or
 * tell apart from a space (a BOM, zero-width and bidi formatting characters,
 * control characters, NBSP and the other Unicode spaces, lone surrogates)
 * are written as \uXXXX escapes, so "unknown file "shm\u200B"" says what is wrong.
 */

/** Control (Cc), format (Cf), lone surrogate (Cs), line/paragraph separator and every space but U+0020. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Zs}]/gu;

/** Whether `s` holds a character that `visible()` would escape (other than a plain space). */
export function hasInvisible(s: string): boolean {
  return visible(s) !== s;
}

/** `s` with every invisible or look-alike-space character written as \uXXXX. */
export function visible(s: string): string {
  return s.replace(INVISIBLE, (c) =>
    c === ' ' ? c : `\\u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}
