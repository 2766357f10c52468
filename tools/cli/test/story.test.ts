import {
  guardedCreate,
  loadScenarios,
  mutantCatalogue,
  SCENARIO_DIR,
  scenarioProgram,
} from '@ptlab/conformance';
import {
  citations,
  citationText,
  citedSubjects,
  execute,
  explore,
  guidedChooser,
  kernelSourceUrl,
  messageUrl,
  renderStory,
  SEED_MESSAGES,
  StableNames,
  stepFunction,
  type World,
} from '@ptlab/explore';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PORTS } from '../src/registry.js';

const scenarios = loadScenarios(SCENARIO_DIR).scenarios;
const scenario = (id: string) => {
  const s = scenarios.find((x) => x.id === id);
  if (!s) throw new Error(id);
  return s;
};
const port = (config: string) => {
  const p = BUILTIN_PORTS.find((x) => x.configs.some((c) => c.id === config));
  const c = p?.configs.find((x) => x.id === config);
  if (!p || !c) throw new Error(config);
  return { port: p, config: c };
};
const program = (config: string, scen: string, variants: string[] = [], archVariant?: string) => {
  const { port: p, config: c } = port(config);
  return scenarioProgram(scenario(scen), { arch: guardedCreate(p, c, archVariant), variants });
};

/** The seed citations of every scenario, mutant and arch variant ptlab ships. */
const seeds = [
  ...new Set([
    ...scenarios.map((s) => s.seed),
    ...mutantCatalogue(BUILTIN_PORTS).map((m) => m.seed),
  ]),
];

const MESSAGE_ID = /^[A-Za-z0-9._=+-]+@[A-Za-z0-9.-]+\.[a-z]+$/;
const LORE_URL =
  /^https:\/\/lore\.kernel\.org\/(r\/[A-Za-z0-9._=+-]+@[A-Za-z0-9.-]+\/(T\/)?|all\/\?q=s%3A%22[A-Za-z0-9%._~-]+%22)$/;

describe('seed citations link to the mailing-list message, by Message-ID', () => {
  it('every subject a citation quotes is in the catalogue (a new citation must add its message)', () => {
    const unknown = seeds.flatMap((s) =>
      citedSubjects(s).filter((q) => !citations(`"${q}"`).length),
    );
    expect(unknown).toEqual([]);
  });

  it('every citation of ptlab data resolves to a link or names the kernel source it rests on; every link is well-formed', () => {
    // A scenario written from kernel source alone cites the file (and function) at a release; the
    // story links the kernel functions its steps model (elixir), so it needs no message link.
    const KERNEL_SOURCE = /\b(mm|arch|include|kernel|fs|lib)\/[\w/.-]+\.[ch]\b.*\(v6\.\d+\)/;
    for (const s of seeds) {
      const links = citations(s);
      if (!links.length)
        expect(s, 'neither a message nor kernel source at a release').toMatch(KERNEL_SOURCE);
      for (const l of links) expect(l.url, l.subject).toMatch(LORE_URL);
    }
    // It fires on a citation of neither kind.
    expect('a blog post').not.toMatch(KERNEL_SOURCE);
    expect(citations('a blog post')).toEqual([]);
  });

  it('Message-IDs look like Message-IDs; the links say which are the message, its thread or a search', () => {
    for (const m of SEED_MESSAGES) {
      if (m.messageId) expect(m.messageId).toMatch(MESSAGE_ID);
      if (m.thread) expect(m.thread).toMatch(MESSAGE_ID);
      if (m.messageId || m.thread) expect(m.source, m.subject).toBeTruthy();
    }
    const byHow = (how: string) => SEED_MESSAGES.filter((m) => messageUrl(m).how === how).length;
    // Recorded so that a change in how many resolve is seen: see docs/reading-traces.md.
    expect({ message: byHow('message'), thread: byHow('thread'), search: byHow('search') }).toEqual(
      {
        message: 6,
        thread: 39,
        search: 7,
      },
    );
  });

  it('a seed file cited by path links to its message, and the path is not printed', () => {
    const c = citations(
      'seeds/000: "[07/12] s390: add pte_free_defer(), with use of mmdrop_async()"',
    );
    expect(c).toEqual([
      {
        subject: '[07/12] s390: add pte_free_defer(), with use of mmdrop_async()',
        url: 'https://lore.kernel.org/r/6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com/',
        how: 'message',
      },
    ]);
    expect(
      citationText(
        'seeds/004: "[PATCH v3 01/13] mm/pgtable: add rcu_read_lock() and rcu_read_unlock()s"',
      ),
    ).toBe('"[PATCH v3 01/13] mm/pgtable: add rcu_read_lock() and rcu_read_unlock()s"');
    expect(citationText('a quote; seeds/001')).toBe('a quote');
    // A quote of message text is no subject: nothing to link, nothing invented.
    expect(citations('"one of the grossest patches I\'ve ever posted"')).toEqual([]);
  });
});

describe('kernel source links', () => {
  it('name the release the config claims and the function, on Elixir', () => {
    expect(kernelSourceUrl('retract_page_tables', 'v6.6')).toBe(
      'https://elixir.bootlin.com/linux/v6.6/C/ident/retract_page_tables',
    );
    expect(kernelSourceUrl('pte_offset_map_lock()', 'v6.14')).toMatch(
      /v6\.14\/C\/ident\/pte_offset_map_lock$/,
    );
    // Not a C identifier, or not a release: no link rather than a wrong one.
    expect(kernelSourceUrl('(task)', 'v6.6')).toBeNull();
    expect(kernelSourceUrl('rcu_core', '6.6')).toBeNull();
    expect(stepFunction({ stack: [], task: 'rcu' })).toBe('rcu_core');
    expect(stepFunction({ stack: ['a', 'b'], task: 'x' })).toBe('b');
    expect(stepFunction({ stack: [], task: 'khugepaged' })).toBeNull();
  });
});

describe('one name per page table in a story', () => {
  it('x86-64: the table, its page and its pmd entry go by one name each (no "pfn 2" for pt#2)', () => {
    const r = explore(
      program('x86-64', 'retract-vs-lockless-walkers', ['pte-offset-map-without-rcu']),
      {
        strategy: 'pct',
        schedules: 2000,
        seed: 1,
      },
    );
    expect(r.finding).not.toBeNull();
    const story = renderStory(r.records, r.finding, { title: 't', world: r.world, kernel: 'v6.6' });
    expect(story).not.toMatch(/\bpfn \d+\b/);
    expect(story).not.toMatch(/pt#1\b/);
    expect(story).toMatch(/spin_lock\(ptl of pt#\d+\)/);
    expect(story).toMatch(/pmdp_huge_get_and_clear\(A\.pmd\[1\]\)/);
    expect(story).toMatch(/spin_lock\(ptl of A\.pmd\)/);
    expect(story).not.toMatch(/pmd ptl of mm/);
    expect(story).toMatch(/^kernel source \(v6\.6, elixir\.bootlin\.com\):$/m);
    // Without the run's objects the labels stay as the model wrote them.
    const raw = renderStory(r.records, r.finding, { title: 't' });
    expect(raw).toMatch(/ptl of pfn \d+/);
    expect(raw).not.toMatch(/kernel source/);
  });

  it('s390-2k: a page shared by two 2K tables keeps its pfn (it names the page, not a table)', () => {
    const m = mutantCatalogue(BUILTIN_PORTS).find((x) => x.id === 's390-v1-shared-rcu-head');
    const r = explore(program('s390-2k', 'sibling-tables-deferred-together', [], m?.id), {
      strategy: 'exhaustive',
      schedules: 2000,
      seed: 1,
    });
    expect(r.finding?.check).toBe('rcu-head-reused');
    const names = new StableNames(r.world);
    const shared = r.world?.pages.find((p) => p.tables.length === 2);
    expect(shared).toBeDefined();
    expect(names.text(`pt_rcu_head of pfn ${shared?.pfn}`, 20)).toBe(
      `pt_rcu_head of pfn ${shared?.pfn}`,
    );
    // A data page (a folio, no table in it) keeps its pfn too.
    expect(names.text('-> pfn 28672', 20)).toBe('-> pfn 28672');
  });

  it('a pfn allocated again is the new table from then on', () => {
    const world: World = {
      cpus: [],
      initial: {},
      tables: [
        {
          label: 'pt#2',
          kind: 'pte',
          pfn: 5,
          pa: 5 * 4096,
          offset: 0,
          entries: 512,
          mm: 'A',
          from: 1,
        },
        {
          label: 'pt#7',
          kind: 'pte',
          pfn: 5,
          pa: 5 * 4096,
          offset: 0,
          entries: 512,
          mm: 'A',
          from: 10,
        },
      ],
      pages: [
        { pfn: 5, gen: 1, from: 0, to: 9, tables: ['pt#2'] },
        { pfn: 5, gen: 2, from: 9, tables: ['pt#7'] },
      ],
      setup: [],
      slots: [],
      pageSize: 4096,
    };
    const n = new StableNames(world);
    expect(n.text('free pfn 5', 4)).toBe('free pt#2');
    expect(n.text('alloc pfn 5', 9)).toBe('alloc pt#7');
    expect(n.text('spin_lock(ptl of pfn 5)', 12)).toBe('spin_lock(ptl of pt#7)');
  });
});

describe('recorded runs observe what each step did; search runs do not', () => {
  it('a retracted table: allocated, populated, retracted, deferred, queued, grace period, freed; the bad access touches its page', () => {
    const r = explore(
      program('x86-64', 'retract-vs-lockless-walkers', ['pte-offset-map-without-rcu']),
      {
        strategy: 'pct',
        schedules: 2000,
        seed: 1,
      },
    );
    const w = r.world as World;
    const last = r.records[r.records.length - 1];
    const bad = last?.observed?.touches.find((t) => t.pfn !== undefined);
    expect(bad).toBeDefined();
    const table = w.tables.find((t) => t.pfn === bad?.pfn && t.kind === 'pte');
    expect(table).toBeDefined();
    const kinds = [...w.setup, ...r.records.flatMap((x) => x.observed?.events ?? [])]
      .filter((e) => e.table === table?.label)
      .map((e) => e.kind);
    for (const k of [
      'allocated',
      'populated',
      'retracted',
      'deferred',
      'rcu-queued',
      'grace-period',
      'freed',
      'page-freed',
    ])
      expect(kinds).toContain(k);
    // Context after each step: the walker took no rcu_read_lock() (the mutant), khugepaged held locks.
    expect(
      r.records.some((x) => Object.values(x.observed?.cpus ?? {}).some((c) => c.locks.length > 0)),
    ).toBe(true);
    expect(w.cpus.map((c) => c.name)).toEqual(expect.arrayContaining(['cpu0', 'rcu']));
    // struct page of the freed table: not allocated any more, its rcu_head written by call_rcu().
    const slots = w.slots.find((s) => s.pfn === table?.pfn);
    expect(slots?.allocated).toBe(false);
    expect(slots?.lru.holder).toBe('pt_rcu_head');
  });

  it('a run that does not record carries no observations and no world', () => {
    const ex = execute(program('x86-64', 'retract-vs-exit'), guidedChooser([]), {
      maxSteps: 5000,
      record: false,
    });
    expect(ex.records).toEqual([]);
    expect(ex.world).toBeUndefined();
    const rec = execute(program('x86-64', 'retract-vs-exit'), guidedChooser([]), {
      maxSteps: 5000,
      record: true,
    });
    expect(rec.world?.tables.length).toBeGreaterThan(0);
    expect(rec.records.every((x) => x.observed !== undefined)).toBe(true);
  });
});
