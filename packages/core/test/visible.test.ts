/** visible(): input text in error messages, with invisible characters spelled out. */
import { describe, expect, it } from 'vitest';
import { hasInvisible, visible } from '../src/index.js';

describe('visible', () => {
  it('leaves ordinary text alone', () => {
    for (const s of ['gup_fast', 'a b', 'café', 'cpu0 → rcu — ok', '日本', '🙂'])
      expect([visible(s), hasInvisible(s)]).toEqual([s, false]);
  });

  it('escapes BOM, zero-width, bidi, control, NBSP and other spaces, separators, lone surrogates', () => {
    expect(visible('\uFEFF{')).toBe('\\uFEFF{');
    expect(visible('shm\u200B')).toBe('shm\\u200B');
    expect(visible('a\u202Eb')).toBe('a\\u202Eb');
    expect(visible('x\u0000\u0007\n\t\u007F\u009B')).toBe(
      'x\\u0000\\u0007\\u000A\\u0009\\u007F\\u009B',
    );
    expect(visible('a\u00A0b\u3000c\u2009d')).toBe('a\\u00A0b\\u3000c\\u2009d');
    expect(visible('\u2028\u2029')).toBe('\\u2028\\u2029');
    expect(visible('\uD800x')).toBe('\\uD800x');
    for (const c of ['\uFEFF', '\u200B', '\u00A0', '\u0007', '\uD800'])
      expect(hasInvisible(`a${c}`)).toBe(true);
  });
});
