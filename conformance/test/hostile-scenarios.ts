/**
 * Hostile scenario input for the loader tests and the fuzz test: a catalogue
 * of known-invalid edits of a real scenario, each with the refusal it must
 * get, and an oracle that checks the documented rules (docs/writing-scenarios.md)
 * on whatever loads, written apart from the loader so that a rule the loader
 * forgets shows up as "garbage accepted".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS } from '@ptlab/core';
import { PATHS, SCENARIO_DIR, type ValidScenario } from '../src/index.js';

/** A scenario file as plain JSON data to edit. */
// biome-ignore lint/suspicious/noExplicitAny: JSON edited by the tests, any shape on purpose
export type Raw = Record<string, any>;

/** The suite's scenario files, parsed. */
export function suiteScenarios(): { file: string; raw: Raw }[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, raw: JSON.parse(readFileSync(join(SCENARIO_DIR, file), 'utf8')) }));
}

/** Set an own enumerable key (even `__proto__`) the way JSON.parse would. */
export function setOwn(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An edit that makes a scenario break one documented rule; false when it does not apply to this one. */
export interface InvalidEdit {
  readonly name: string;
  /** Edit `s` in place; false if the scenario has nothing to edit this way. */
  readonly edit: (s: Raw) => boolean;
  /** The refusal's message must match. */
  readonly expect: RegExp;
}

const PROTO_NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];
const RESERVED = ['rcu', 'kworker', 'teardown', 'boot', 'cpu0', 'cpu12'];

/** A file with a THP that no pte of the scenario maps (so it may be locked), or undefined. */
const unmappedThpFile = (s: Raw): Raw | undefined =>
  (s.files as Raw[]).find(
    (f) =>
      f.thp &&
      !(s.mms as Raw[]).some((m) =>
        (m.vmas as Raw[]).some((v) => v.file === f.id && (v.ptes ?? []).length > 0),
      ),
  );

const threadWith = (s: Raw, arg: string) =>
  (s.threads as Raw[]).find((t) => typeof t[arg] === 'string');

function nest(depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Every known-invalid edit, one per rule (several spellings where the rule has several). */
export const INVALID_EDITS: readonly InvalidEdit[] = [
  ...PROTO_NAMES.map((p) => ({
    name: `thread path "${p}"`,
    edit: (s: Raw) => {
      s.threads[0].path = p;
      return true;
    },
    expect: /threads\.0\.path: unknown path/,
  })),
  ...PROTO_NAMES.map((p) => ({
    name: `vma file "${p}"`,
    edit: (s: Raw) => {
      const v = s.mms[0]?.vmas[0];
      if (!v) return false;
      v.file = p;
      return true;
    },
    expect: /mms\.0\.vmas\.0\.file: (unknown file|names are)/,
  })),
  ...PROTO_NAMES.map((p) => ({
    name: `thread mm "${p}"`,
    edit: (s: Raw) => {
      const t = threadWith(s, 'mm');
      if (!t) return false;
      t.mm = p;
      return true;
    },
    expect: /threads\.\d+(\.mm: unknown mm| \(\w+\): mm: names are)/,
  })),
  ...PROTO_NAMES.map((p) => ({
    name: `thp.lockedBy "${p}"`,
    edit: (s: Raw) => {
      const f = unmappedThpFile(s);
      if (!f) return false;
      f.thp.lockedBy = p;
      return true;
    },
    expect: /lockedBy|names are/,
  })),
  ...['top', 'thread', 'vma', 'file', 'addr'].map((where) => ({
    name: `"__proto__" key in ${where}`,
    edit: (s: Raw) => {
      const target =
        where === 'top'
          ? s
          : where === 'thread'
            ? s.threads[0]
            : where === 'vma'
              ? s.mms[0]?.vmas[0]
              : where === 'file'
                ? s.files[0]
                : (s.threads as Raw[]).find((t) => t.addr)?.addr;
      if (!target) return false;
      setOwn(target, '__proto__', { polluted: true });
      return true;
    },
    expect: /__proto__.*not allowed/,
  })),
  ...RESERVED.map((n) => ({
    name: `thread named "${n}"`,
    edit: (s: Raw) => {
      s.threads[0].name = n;
      for (const f of s.files as Raw[]) if (f.thp?.lockedBy) f.thp.lockedBy = n;
      return true;
    },
    expect: /threads\.0\.name: .*reserved/,
  })),
  {
    name: 'two threads with one name',
    edit: (s) => {
      s.threads.push({ ...s.threads[0] });
      return true;
    },
    expect: /threads\.\d+\.name: ".*" is also threads\.0/,
  },
  {
    name: 'two mms with one id',
    edit: (s) => {
      if (!s.mms[0]) return false;
      s.mms.push(structuredClone(s.mms[0]));
      return true;
    },
    expect: /mms\.\d+\.id: mm id ".*" is also mms\.0/,
  },
  {
    name: 'two files with one id',
    edit: (s) => {
      if (!s.files[0]) return false;
      s.files.push({ id: s.files[0].id });
      return true;
    },
    expect: /files\.\d+\.id: file id ".*" is also files\.0/,
  },
  {
    name: 'overlapping vmas',
    edit: (s) => {
      const m = s.mms[0];
      if (!m?.vmas[0]) return false;
      m.vmas.push({ ...structuredClone(m.vmas[0]), ptes: [] });
      return true;
    },
    expect: /mms\.0\.vmas\.\d+\.pmd: pmd slots .* overlap vmas\.0/,
  },
  {
    name: 'a pte listed twice',
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v) return false;
      Object.assign(v, { ptes: [2, 2], pteTable: true, hugetlb: false });
      return true;
    },
    expect: /mms\.0\.vmas\.0\.ptes\.1: pte 2 is listed twice/,
  },
  {
    name: 'ptes without a pte table',
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v) return false;
      Object.assign(v, { ptes: [1], pteTable: false });
      return true;
    },
    expect: /mms\.0\.vmas\.0\.ptes: ptes need pteTable/,
  },
  {
    name: 'ptes in a hugetlb vma',
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v || v.file === undefined) return false; // an anonymous vma is refused hugetlb first
      Object.assign(v, { ptes: [1], pteTable: true, hugetlb: true });
      return true;
    },
    expect: /mms\.0\.vmas\.0\.ptes: a hugetlb vma/,
  },
  {
    name: 'hugetlbPage without hugetlb',
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v) return false;
      Object.assign(v, { ptes: [], hugetlb: false, hugetlbPage: 'pte' });
      s.requires = ['hugetlb-pte'];
      return true;
    },
    expect: /mms\.0\.vmas\.0\.hugetlbPage: hugetlbPage needs hugetlb/,
  },
  {
    name: 'hugetlbPage without its capability',
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v || v.file === undefined) return false; // a hugetlb vma needs its file
      Object.assign(v, { ptes: [], tables: 1, hugetlb: true, hugetlbPage: 'pmd', pteTable: false });
      s.requires = [];
      return true;
    },
    expect: /mms\.0\.vmas\.0\.hugetlbPage: "pmd" hugetlb pages need "hugetlb-pmd"/,
  },
  {
    name: 'a pte table under a PMD-sized hugetlb page',
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v || v.file === undefined) return false; // a hugetlb vma needs its file
      Object.assign(v, { ptes: [], hugetlb: true, hugetlbPage: 'pmd', pteTable: true });
      s.requires = ['hugetlb-pmd'];
      return true;
    },
    expect: /mms\.0\.vmas\.0\.pteTable: a PMD-sized hugetlb page is mapped by the pmd itself/,
  },
  {
    name: 'a pte of a page the file does not have',
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v) return false;
      const f = (s.files as Raw[]).find((x) => x.id === v.file);
      if (!f) return false;
      Object.assign(v, { ptes: [9], pteTable: true, hugetlb: false, pgoffPmds: 1000 });
      delete f.thp;
      f.small = [];
      return true;
    },
    expect: /mms\.0\.vmas\.0\.ptes\.0: maps page 9 of extent 1000/,
  },
  {
    name: 'a pte mapping a THP that a thread holds locked',
    edit: (s) => {
      const f = (s.files as Raw[]).find((x) => x.thp?.lockedBy);
      if (!f) return false;
      for (const m of s.mms as Raw[])
        for (const v of m.vmas as Raw[])
          if (v.file === f.id && (v.pgoffPmds ?? 0) === f.thp.pmdIndex && !v.hugetlb) {
            Object.assign(v, { ptes: [0], pteTable: true });
            return true;
          }
      return false;
    },
    expect: /mms\.\d+\.vmas\.\d+\.ptes\.0: maps the THP of .* holds locked/,
  },
  {
    name: 'a small folio listed twice',
    edit: (s) => {
      if (!s.files[0]) return false;
      s.files[0].small = [
        { pmd: 900, pte: 1 },
        { pmd: 900, pte: 1 },
      ];
      return true;
    },
    expect: /files\.0\.small\.1: the same page as small\.0/,
  },
  {
    name: 'a small folio inside the THP extent',
    edit: (s) => {
      const f = (s.files as Raw[]).find((x) => x.thp);
      if (!f) return false;
      f.small = [{ pmd: f.thp.pmdIndex, pte: 1 }];
      return true;
    },
    expect: /files\.\d+\.small\.0: a small folio inside the THP extent/,
  },
  ...(
    [
      ['shared', true, /mms\.\d+\.vmas\.\d+\.shared: a shared anonymous mapping is shmem/],
      ['hugetlb', true, /mms\.\d+\.vmas\.\d+\.hugetlb: a hugetlb vma maps a hugetlbfs file/],
      ['pgoffPmds', 1, /mms\.\d+\.vmas\.\d+\.pgoffPmds: an anonymous vma has no file offset/],
    ] as const
  ).map(([field, value, expect]) => ({
    name: `an anonymous vma with ${field}`,
    edit: (s: Raw) => {
      const v = (s.mms as Raw[]).flatMap((m) => m.vmas as Raw[]).find((x) => x.file === undefined);
      if (!v) return false;
      v[field] = value;
      if (field === 'hugetlb') v.ptes = [];
      return true;
    },
    expect,
  })),
  {
    name: 'a vma of an unknown file',
    edit: (s) => {
      if (!s.mms[0]?.vmas[0]) return false;
      s.mms[0].vmas[0].file = 'no-such-file';
      return true;
    },
    expect: /mms\.0\.vmas\.0\.file: unknown file "no-such-file"/,
  },
  {
    name: 'a thread in an unknown mm',
    edit: (s) => {
      const t = threadWith(s, 'mm');
      if (!t) return false;
      t.mm = 'no-such-mm';
      return true;
    },
    expect: /threads\.\d+\.mm: unknown mm "no-such-mm"/,
  },
  {
    name: 'a thread on an unknown file',
    edit: (s) => {
      const t = threadWith(s, 'file');
      if (!t) return false;
      t.file = 'no-such-file';
      return true;
    },
    expect: /threads\.\d+\.file: unknown file "no-such-file"/,
  },
  {
    name: 'a THP path on a file without THP',
    edit: (s) => {
      const t = (s.threads as Raw[]).find(
        (x) => x.path === 'collapse_file' || x.path === 'rmap_walk',
      );
      const f = t && (s.files as Raw[]).find((x) => x.id === t.file);
      if (!f) return false;
      delete f.thp;
      for (const m of s.mms as Raw[])
        for (const v of m.vmas as Raw[]) if (v.file === f.id) v.ptes = [];
      return true;
    },
    expect: /threads\.\d+\.file: (collapse_file|rmap_walk) needs a THP in the page cache/,
  },
  {
    name: 'a THP locked by a thread that does not exist',
    edit: (s) => {
      const f = unmappedThpFile(s);
      if (!f) return false;
      f.thp.lockedBy = 'nobody';
      return true;
    },
    expect: /(files\.\d+\.thp\.lockedBy: no thread named "nobody"|set files\.\d+\.thp\.lockedBy)/,
  },
  {
    name: 'a THP locked by a thread that does not hold it',
    edit: (s) => {
      const f = unmappedThpFile(s);
      const t = (s.threads as Raw[]).find((x) => x.path !== 'collapse_file');
      if (!f || !t) return false;
      f.thp.lockedBy = t.name;
      return !(s.threads as Raw[]).some((x) => x.path === 'collapse_file' && x.file === f.id);
    },
    expect: /files\.\d+\.thp\.lockedBy: ".*" \(\w+\) does not run with this THP locked/,
  },
  {
    name: 'collapse_file without the THP lock',
    edit: (s) => {
      const t = (s.threads as Raw[]).find((x) => x.path === 'collapse_file');
      const f = t && (s.files as Raw[]).find((x) => x.id === t.file);
      if (!f?.thp) return false;
      delete f.thp.lockedBy;
      return true;
    },
    expect: /threads\.\d+\.file: collapse_file runs with the THP of .* locked/,
  },
  {
    name: 'an IOMMU on an mm without secondaryMmu',
    edit: (s) => {
      const m = s.mms[0];
      if (!m) return false;
      m.secondaryMmu = false;
      s.threads.push({ name: 'dev', path: 'iommu_dma', mm: m.id, addrs: [{ pmd: 0, pte: 0 }] });
      return true;
    },
    expect: /threads\.\d+\.mm: mm ".*" has no secondaryMmu/,
  },
  {
    name: 'a warm address the scenario does not map',
    edit: (s) => {
      const m = s.mms[0];
      if (!m) return false;
      s.threads.push({
        name: 'warm_user',
        path: 'user_load',
        mm: m.id,
        addrs: [{ pmd: 7, pte: 15 }],
        warm: [{ pmd: 7, pte: 15 }],
      });
      return !(m.vmas as Raw[]).some((v) => v.pmd === 7);
    },
    expect: /threads\.\d+\.warm\.0: pmd 7 pte 15 of mm ".*" is not mapped by the scenario/,
  },
  {
    name: 'an mm exited twice',
    edit: (s) => {
      const m = s.mms[0];
      if (!m) return false;
      s.threads.push({ name: 'exit1', path: 'exit_mmap', mm: m.id });
      s.threads.push({ name: 'exit2', path: 'exit_mmap', mm: m.id });
      return !(s.threads as Raw[]).some(
        (t) => t.path === 'exit_mmap' && t.name !== 'exit1' && t.name !== 'exit2',
      );
    },
    expect: /threads\.\d+\.mm: mm ".*" is already exited by threads\.\d+/,
  },
  {
    name: 'an mm exited while a thread uses it',
    edit: (s) => {
      const t = (s.threads as Raw[]).find(
        (x) => typeof x.mm === 'string' && x.path !== 'iommu_dma' && x.path !== 'exit_mmap',
      );
      if (!t) return false;
      s.threads.push({ name: 'exiter', path: 'exit_mmap', mm: t.mm });
      return true;
    },
    expect: /threads\.\d+\.mm: uses mm ".*", which threads\.\d+ tears down with exit_mmap/,
  },
  {
    name: `more than ${LIMITS.threads} threads`,
    edit: (s) => {
      const t = s.threads[s.threads.length - 1];
      for (let i = s.threads.length; i <= LIMITS.threads; i++)
        s.threads.push({ ...t, name: `extra${i}` });
      return true;
    },
    expect: new RegExp(`threads: at most ${LIMITS.threads} threads \\(LIMITS\\.threads\\)`),
  },
  {
    name: `more than ${LIMITS.mms} mms`,
    edit: (s) => {
      for (let i = s.mms.length; i <= LIMITS.mms; i++) s.mms.push({ id: `extra${i}`, vmas: [] });
      return true;
    },
    expect: new RegExp(`mms: at most ${LIMITS.mms} mms \\(LIMITS\\.mms\\)`),
  },
  {
    name: `5000 mms`,
    edit: (s) => {
      for (let i = s.mms.length; i < 5000; i++) s.mms.push({ id: `extra${i}`, vmas: [] });
      return true;
    },
    expect: /mms: at most \d+ mms/,
  },
  {
    name: `more than ${LIMITS.files} files`,
    edit: (s) => {
      for (let i = s.files.length; i <= LIMITS.files; i++) s.files.push({ id: `extra${i}` });
      return true;
    },
    expect: new RegExp(`files: at most ${LIMITS.files} files \\(LIMITS\\.files\\)`),
  },
  {
    name: `more than ${LIMITS.vmasPerMm} vmas in an mm`,
    edit: (s) => {
      const m = s.mms[0];
      if (!m?.vmas[0]) return false;
      for (let i = m.vmas.length; i <= LIMITS.vmasPerMm; i++) m.vmas.push({ ...m.vmas[0] });
      return true;
    },
    expect: new RegExp(`mms\\.0\\.vmas: at most ${LIMITS.vmasPerMm} vmas per mm`),
  },
  {
    name: `more than ${LIMITS.ptesPerVma} ptes in a vma`,
    edit: (s) => {
      const v = s.mms[0]?.vmas[0];
      if (!v) return false;
      v.ptes = Array.from({ length: LIMITS.ptesPerVma + 1 }, (_, i) => i % LIMITS.addrPtes);
      return true;
    },
    expect: /mms\.0\.vmas\.0\.ptes: at most \d+ ptes per vma/,
  },
  ...(
    [
      ['pgoffPmds', (s: Raw) => s.mms[0]?.vmas[0], 'pgoffPmds', 4096],
      ['pgoffPmds', (s: Raw) => s.mms[0]?.vmas[0], 'pgoffPmds', 1e15],
      ['pmd', (s: Raw) => s.mms[0]?.vmas[0], 'pmd', LIMITS.addrPmdSlots],
      ['pmds', (s: Raw) => s.mms[0]?.vmas[0], 'pmds', LIMITS.vmaPmds + 1],
      ['thp.pmdIndex', (s: Raw) => (s.files as Raw[]).find((f) => f.thp)?.thp, 'pmdIndex', 1e9],
      ['addr.pte', (s: Raw) => (s.threads as Raw[]).find((t) => t.addr)?.addr, 'pte', 16],
      ['addr.pmd', (s: Raw) => (s.threads as Raw[]).find((t) => t.addr)?.addr, 'pmd', -1],
      ['exhaustiveSchedules', (s: Raw) => s, 'exhaustiveSchedules', 1e9],
      ['pmd (fraction)', (s: Raw) => s.mms[0]?.vmas[0], 'pmd', 1.5],
    ] as const
  ).map(([label, at, key, n]) => ({
    name: `${label} = ${n}`,
    edit: (s: Raw) => {
      const o = at(s);
      if (!o) return false;
      o[key] = n;
      return true;
    },
    expect: /Too (big|small)|expected int/,
  })),
  ...(
    [
      ['id', 42],
      ['threads', {}],
      ['mms', 'A'],
      ['checks', []],
      ['checks', ['no-such-check']],
      ['requires', ['wings']],
      ['inject', ['everything']],
      ['title', null],
    ] as const
  ).map(([key, v]) => ({
    name: `top-level ${key} = ${JSON.stringify(v)}`,
    edit: (s: Raw) => {
      s[key] = v;
      return true;
    },
    expect: new RegExp(`invalid scenario: ${key}`),
  })),
  {
    name: `more than ${LIMITS.addrsPerThread} addresses in a thread`,
    edit: (s) => {
      const t = (s.threads as Raw[]).find((x) => Array.isArray(x.addrs));
      if (!t) return false;
      t.addrs = Array.from({ length: LIMITS.addrsPerThread + 1 }, () => t.addrs[0]);
      return true;
    },
    expect: /threads\.\d+ \(\w+\): addrs: Too big/,
  },
  {
    name: 'a vma with shared = "yes"',
    edit: (s) => {
      if (!s.mms[0]?.vmas[0]) return false;
      s.mms[0].vmas[0].shared = 'yes';
      return true;
    },
    expect: /invalid scenario: mms\.0\.vmas\.0\.shared/,
  },
  {
    name: 'an unknown top-level key',
    edit: (s) => {
      s.colour = 'blue';
      return true;
    },
    expect: /invalid scenario: .*colour/,
  },
  {
    name: 'an unknown thread argument',
    edit: (s) => {
      s.threads[0].speed = 'fast';
      return true;
    },
    expect: /threads\.0 \(\w+\): .*speed/,
  },
  {
    name: 'a scenario id with spaces',
    edit: (s) => {
      s.id = 'Bad Id';
      return true;
    },
    expect: /invalid scenario: id: ids are lower-case words/,
  },
  ...(
    [
      ['BOM', '\uFEFF'],
      ['zero-width space', '\u200B'],
      ['NBSP', '\u00A0'],
      ['bell', '\u0007'],
      ['right-to-left override', '\u202E'],
      ['lone surrogate', '\uD800'],
    ] as const
  ).flatMap(([label, c]) => [
    {
      name: `${label} in a thread name`,
      edit: (s: Raw) => {
        s.threads[0].name = `${s.threads[0].name}${c}`;
        return true;
      },
      expect: new RegExp(
        `threads\\.0\\.name: ".*\\\\u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}" contains invisible characters`,
      ),
    },
    {
      name: `${label} in the title`,
      edit: (s: Raw) => {
        s.title = `a${c}b`;
        return true;
      },
      expect: /title: "a\\u[0-9A-F]{4}b" contains invisible/,
    },
  ]),
  {
    name: 'nesting 100 deep',
    edit: (s) => {
      s.title = nest(100);
      return true;
    },
    expect: /title(\.0)*: nested deeper than/,
  },
  {
    name: 'a huge description',
    edit: (s) => {
      s.description = 'x'.repeat(LIMITS.textLength + 1);
      return true;
    },
    expect: /invalid scenario: description: Too big/,
  },
  ...([null, 42, 'scenario', [], true] as const).map((v) => ({
    name: `top level ${JSON.stringify(v)}`,
    edit: (s: Raw) => {
      for (const k of Object.keys(s)) delete s[k];
      s.__replace = v;
      return true;
    },
    expect: /invalid scenario: \(top level\)/,
  })),
];

/** The value an edit stands for (edits that replace the whole file store it in `__replace`). */
export function edited(s: Raw): unknown {
  return '__replace' in s ? s.__replace : s;
}

/**
 * The documented rules, checked on a loaded scenario independently of the
 * loader: the first rule it breaks, or null. A loaded file that breaks one is
 * garbage accepted.
 */
export function brokenRule(s: ValidScenario): string | null {
  const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
  const unique = (xs: readonly string[]) => new Set(xs).size === xs.length;
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(s.id)) return 'scenario id';
  if (s.threads.length < 1 || s.threads.length > LIMITS.threads) return 'thread count';
  if (s.mms.length > LIMITS.mms) return 'mm count';
  if (s.files.length > LIMITS.files) return 'file count';
  if (!unique(s.files.map((f) => f.id))) return 'duplicate file id';
  if (!unique(s.mms.map((m) => m.id))) return 'duplicate mm id';
  if (!unique(s.threads.map((t) => t.name))) return 'duplicate thread name';
  for (const x of [...s.files.map((f) => f.id), ...s.mms.map((m) => m.id)])
    if (!NAME.test(x)) return `bad name ${x}`;
  const files = new Map(s.files.map((f) => [f.id, f]));
  const mms = new Map(s.mms.map((m) => [m.id, m]));
  for (const f of s.files) {
    if (f.thp && (f.thp.pmdIndex < 0 || f.thp.pmdIndex >= LIMITS.fileExtents)) return 'thp extent';
    if (!unique(f.small.map((x) => `${x.pmd}:${x.pte}`))) return 'duplicate small folio';
    for (const x of f.small) {
      if (x.pmd >= LIMITS.fileExtents || x.pte >= LIMITS.addrPtes) return 'small folio range';
      if (f.thp && x.pmd === f.thp.pmdIndex) return 'small folio in THP';
    }
    if (f.thp?.lockedBy !== undefined) {
      const t = s.threads.find((x) => x.name === f.thp?.lockedBy);
      if (t?.path !== 'collapse_file' || (t.args as { file: string }).file !== f.id)
        return 'lockedBy names no collapse_file thread of this file';
    }
  }
  for (const m of s.mms) {
    if (m.vmas.length > LIMITS.vmasPerMm) return 'vma count';
    const slots = new Set<number>();
    for (const v of m.vmas) {
      const f = v.file === undefined ? null : files.get(v.file);
      if (f === undefined) return 'vma of unknown file';
      if (!f && (v.shared || v.hugetlb || v.pgoffPmds !== 0))
        return 'anonymous vma that is shared, hugetlb or has a file offset';
      if (v.pmd >= LIMITS.addrPmdSlots || v.pmds > LIMITS.vmaPmds) return 'vma range';
      if (v.pgoffPmds + v.pmds > LIMITS.fileExtents) return 'vma pgoff';
      for (let p = v.pmd; p < v.pmd + v.pmds; p++) {
        if (slots.has(p)) return 'overlapping vmas';
        slots.add(p);
      }
      if (!unique(v.ptes.map(String))) return 'duplicate pte';
      if (v.ptes.length && (!v.pteTable || v.hugetlb)) return 'ptes without a plain pte table';
      if (v.hugetlbPage && !v.hugetlb) return 'hugetlbPage without hugetlb';
      if (v.hugetlbPage && !s.requires.includes(`hugetlb-${v.hugetlbPage}`))
        return 'hugetlbPage without its capability';
      if (v.hugetlbPage === 'pmd' && v.pteTable)
        return 'a pte table under a PMD-sized hugetlb page';
      for (const p of v.ptes) {
        if (!f) continue; // an anonymous page of its own
        const thp = f.thp?.pmdIndex === v.pgoffPmds;
        if (thp && f.thp?.lockedBy) return 'pte maps a locked THP';
        if (!thp && !f.small.some((x) => x.pmd === v.pgoffPmds && x.pte === p))
          return 'pte maps no page';
      }
    }
    if (slots.size > LIMITS.pteTablesPerMm) return 'pte tables';
  }
  const exited = new Map<string, string>();
  for (const t of s.threads) {
    if (['rcu', 'kworker', 'teardown', 'boot'].includes(t.name) || /^cpu\d+$/.test(t.name))
      return 'reserved thread name';
    if (!NAME.test(t.name)) return `bad thread name ${t.name}`;
    if (!Object.hasOwn(PATHS, t.path)) return 'unknown path';
    const a = t.args as Record<string, unknown>;
    if (typeof a.mm === 'string' && !mms.has(a.mm)) return 'thread of unknown mm';
    if (typeof a.file === 'string' && !files.has(a.file)) return 'thread of unknown file';
    const f = typeof a.file === 'string' ? files.get(a.file) : undefined;
    if ((t.path === 'collapse_file' || t.path === 'rmap_walk') && !f?.thp)
      return 'THP path without THP';
    if (t.path === 'collapse_file' && f?.thp?.lockedBy !== t.name)
      return 'collapse_file without lock';
    if (t.path === 'iommu_dma' && !mms.get(a.mm as string)?.secondaryMmu)
      return 'iommu without smmu';
    if (t.path === 'user_load')
      for (const w of a.warm as { pmd: number; pte: number }[])
        if (!mms.get(a.mm as string)?.vmas.some((v) => v.pmd === w.pmd && v.ptes.includes(w.pte)))
          return 'warm address not mapped';
    if (t.path === 'exit_mmap') {
      if (exited.has(a.mm as string)) return 'mm exited twice';
      exited.set(a.mm as string, t.name);
    }
  }
  for (const t of s.threads) {
    const a = t.args as Record<string, unknown>;
    const ex = exited.get(a.mm as string);
    if (ex && ex !== t.name && t.path !== 'iommu_dma') return 'mm used while it exits';
  }
  return null;
}
