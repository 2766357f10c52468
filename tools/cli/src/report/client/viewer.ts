/**
 * The trace viewer, run in the browser from the page it is inlined in. It
 * reads the page's JSON (view-schema.ts) and draws: a per-CPU swimlane (a
 * column per CPU that steps, a row per step, bands for locks held, RCU
 * nesting, interrupts off, softirq and pending IPIs), each page table's
 * lifeline beside it on the same rows (its state, its events, every access,
 * the bad one ringed), the struct page slots at the failing step, and the
 * two racing events. Keys step through it. Every string from the data goes
 * in as text, and only links to Elixir and lore are made links.
 */
import type { CpuStateView, TraceView, ViewRun, ViewStep } from '../view-schema.js';

const LINK = /^https:\/\/(elixir\.bootlin\.com\/linux|lore\.kernel\.org)\/[^\s"'<>]*$/;

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** A link to kernel source or a list archive, or plain text when the URL is anything else. */
function link(text: string, url: string | null | undefined, cls?: string): HTMLElement {
  if (url && LINK.test(url))
    return h('a', { href: url, class: cls, target: '_blank', rel: 'noopener noreferrer' }, text);
  return h('span', { class: cls }, text);
}

const IDLE: CpuStateView = { locks: [], rcu: 0, irqsOff: false, softirq: false, ipis: [] };

/** A stable colour per lock name: blues and greys, so no lock looks like the RCU, irq or IPI bands. */
function lockColour(name: string): string {
  let x = 0;
  for (let i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${190 + (x % 60)} ${25 + ((x >>> 8) % 40)}% ${30 + ((x >>> 16) % 30)}%)`;
}

/** Each CPU's context before each step: the initial one, then what the earlier steps changed. */
function statesBefore(run: ViewRun): Map<string, CpuStateView>[] {
  const now = new Map<string, CpuStateView>(Object.entries(run.initial));
  const out: Map<string, CpuStateView>[] = [];
  for (const s of run.steps) {
    out.push(new Map(now));
    for (const [cpu, st] of Object.entries(s.cpus)) now.set(cpu, st);
  }
  return out;
}

const STATE_OF: Record<string, string> = {
  allocated: 'alloc',
  populated: 'live',
  retracted: 'detached',
  deferred: 'deferred',
  'rcu-queued': 'queued',
  'grace-period': 'gp',
  freed: 'freed',
  'page-freed': 'page-freed',
  reused: 'gone',
};
const EVENT_MARK: Record<string, string> = {
  allocated: 'alloc',
  populated: 'pmd→',
  retracted: 'retract',
  deferred: 'defer',
  'rcu-queued': 'call_rcu',
  'grace-period': 'GP end',
  freed: 'free',
  'page-freed': 'page free',
  reused: 'reused',
};

/** Each table's state before each step (from its events), by table name. */
function tableStates(run: ViewRun): Map<string, string>[] {
  const now = new Map<string, string>();
  for (const t of run.tables) now.set(t.name, 'none');
  for (const e of run.setup) now.set(e.table, STATE_OF[e.kind] ?? 'live');
  const out: Map<string, string>[] = [];
  for (const s of run.steps) {
    out.push(new Map(now));
    for (const e of s.events) {
      // A page freed after its table is freed stays "freed"; reuse ends the lifeline.
      if (e.kind === 'page-freed' && now.get(e.table) === 'freed') now.set(e.table, 'page-freed');
      else now.set(e.table, STATE_OF[e.kind] ?? 'live');
    }
  }
  return out;
}

function bands(st: CpuStateView): HTMLElement {
  const b = h('div', { class: 'bands' });
  for (let i = 0; i < st.rcu; i++)
    b.append(h('span', { class: 'b-rcu', title: `rcu_read_lock() x${st.rcu}` }));
  if (st.irqsOff) b.append(h('span', { class: 'b-irq', title: 'interrupts off' }));
  if (st.softirq) b.append(h('span', { class: 'b-soft', title: 'RCU callback (softirq)' }));
  for (const l of st.locks) {
    const s = h('span', { class: 'b-lock', title: `holds ${l}` });
    s.style.setProperty('--c', lockColour(l));
    b.append(s);
  }
  if (st.ipis.length)
    b.append(h('span', { class: 'b-ipi', title: `IPI pending: ${st.ipis.join(', ')}` }));
  return b;
}

function context(st: CpuStateView): string {
  const parts: string[] = [];
  if (st.locks.length) parts.push(`holds ${st.locks.join(', ')}`);
  if (st.rcu) parts.push(`rcu_read_lock x${st.rcu}`);
  if (st.irqsOff) parts.push('irqs off');
  if (st.softirq) parts.push('in an RCU callback');
  if (st.ipis.length) parts.push(`IPI pending: ${st.ipis.join(', ')}`);
  return parts.length ? parts.join('; ') : 'nothing held';
}

class Viewer {
  private readonly data: TraceView;
  private run = 0;
  private index = 0;
  private rows: HTMLElement[] = [];
  private readonly lanes: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly slots: HTMLElement;
  private readonly racing: HTMLElement;
  private readonly summary: HTMLElement;
  private before: Map<string, CpuStateView>[] = [];

  constructor(root: HTMLElement, data: TraceView) {
    this.data = data;
    this.lanes = h('div', { class: 'scroll', id: 'lanes' });
    this.detail = h('div', { id: 'detail' });
    this.slots = h('div', { class: 'slots', id: 'slots' });
    this.racing = h('div', { class: 'racing', id: 'racing' });
    this.summary = h('div', { id: 'outcome' });
    root.append(
      this.header(),
      h(
        'main',
        {},
        this.summary,
        this.racing,
        this.controls(),
        h('div', { class: 'layout' }, this.lanes, h('aside', {}, this.detail, this.legend())),
        h('h2', {}, 'struct page at the failing step'),
        h(
          'p',
          { class: 'muted' },
          'Words 1-2 and 4 of struct page (struct ptdesc) are unions: the member that wrote them last holds them; the others read garbage.',
        ),
        this.slots,
      ),
      this.footer(),
    );
    document.addEventListener('keydown', (e) => this.key(e));
    this.show(0);
  }

  private get r(): ViewRun {
    return this.data.runs[this.run] as ViewRun;
  }

  private header(): HTMLElement {
    const d = this.data;
    return h(
      'header',
      {},
      h('h1', {}, d.title),
      h(
        'div',
        { class: 'muted' },
        `${d.arch} (Linux ${d.kernel}) · ${d.origin} · trace ${d.trace}`,
      ),
    );
  }

  private controls(): HTMLElement {
    const c = h('div', { class: 'controls' });
    if (this.data.runs.length > 1) {
      const group = h('span', { role: 'radiogroup', 'aria-label': 'schedule' }, 'schedule: ');
      for (const [i, r] of this.data.runs.entries()) {
        const id = `run-${r.label}`;
        const input = h('input', {
          type: 'radio',
          name: 'run',
          id,
          value: String(i),
          checked: i === 0,
        }) as HTMLInputElement;
        input.addEventListener('change', () => this.show(i));
        group.append(
          input,
          h(
            'label',
            { for: id },
            `${r.label === 'minimised' ? 'minimised' : 'as found'} (${r.steps.length} steps) `,
          ),
        );
      }
      c.append(group);
    } else
      c.append(
        h('span', { class: 'muted' }, 'schedule: minimised (the search found this one as it is)'),
      );
    const prev = h('button', { id: 'prev', title: 'previous step (← or k)' }, '◀ prev');
    const next = h('button', { id: 'next', title: 'next step (→ or j)' }, 'next ▶');
    const fin = h('button', { id: 'to-finding', title: 'the failing step (f)' }, 'finding');
    prev.addEventListener('click', () => this.go(this.index - 1));
    next.addEventListener('click', () => this.go(this.index + 1));
    fin.addEventListener('click', () => this.goStep(this.r.finding?.step ?? 0));
    c.append(
      prev,
      next,
      fin,
      h(
        'span',
        { class: 'muted' },
        'keys: ',
        h('span', { class: 'kbd' }, '←'),
        ' ',
        h('span', { class: 'kbd' }, '→'),
        ' (or k j) step, ',
        h('span', { class: 'kbd' }, 'Home'),
        ' ',
        h('span', { class: 'kbd' }, 'End'),
        ', ',
        h('span', { class: 'kbd' }, 'f'),
        ' finding, ',
        h('span', { class: 'kbd' }, 'm'),
        ' minimised / as found',
      ),
    );
    return c;
  }

  private legend(): HTMLElement {
    const item = (cls: string, text: string) => h('span', {}, h('i', { class: cls }), text);
    return h(
      'div',
      { class: 'panel legend' },
      h('h3', {}, 'bands (left of each CPU column)'),
      item('b-rcu', 'rcu_read_lock (one per level)'),
      item('b-irq', 'interrupts off'),
      item('b-soft', 'RCU callback'),
      item('b-ipi', 'IPI pending'),
      h(
        'span',
        {},
        h('i', { style: 'background:hsl(215 40% 40%)' }),
        'a lock held, one bar each (hover for its name)',
      ),
      h('h3', {}, 'page-table lifelines'),
      h('span', {}, h('i', { style: 'background:#e8eefb' }), 'allocated'),
      h('span', {}, h('i', { style: 'background:#c9d8f5' }), 'a pmd points to it'),
      h(
        'span',
        {},
        h('i', { style: 'background:repeating-linear-gradient(45deg,#c9d8f5 0 3px,#fff 3px 6px)' }),
        'retracted',
      ),
      h(
        'span',
        {},
        h('i', { style: 'background:#fde9b8' }),
        'deferred / waiting for a grace period',
      ),
      h('span', {}, h('i', { style: 'background:#d4efd9' }), 'grace period ended'),
      h('span', {}, h('i', { style: 'background:#e4e4e4' }), 'freed'),
      h('span', {}, h('i', { class: 'access' }), 'read'),
      h('span', {}, h('i', { class: 'access w' }), 'write'),
      h('span', {}, h('i', { class: 'access bad' }), 'the access that fired the check'),
    );
  }

  private footer(): HTMLElement {
    const d = this.data;
    const f = h('footer', {});
    f.append(h('h2', {}, `check ${d.check.id}`), h('p', {}, d.check.description));
    if (d.seed.text || d.seed.links.length) {
      f.append(h('h2', {}, 'why this is a bug: the mailing-list messages'));
      if (d.seed.text) f.append(h('p', {}, d.seed.text));
      const ul = h('ul', { id: 'seed-links' });
      for (const l of d.seed.links)
        ul.append(
          h(
            'li',
            {},
            link(l.subject, l.url),
            l.how === 'message' ? '' : l.how === 'thread' ? ' (its thread)' : ' (subject search)',
          ),
        );
      f.append(ul);
    }
    const fns = new Map<string, string | null>();
    for (const r of d.runs)
      for (const s of r.steps) if (s.fn && !fns.has(s.fn)) fns.set(s.fn, s.src);
    if (fns.size) {
      f.append(h('h2', {}, `kernel source (Linux ${d.kernel}, elixir.bootlin.com)`));
      const ul = h('ul', { id: 'source-links' });
      for (const [fn, src] of fns) ul.append(h('li', {}, link(fn, src, 'mono')));
      f.append(ul);
    }
    return f;
  }

  private show(run: number): void {
    this.run = run;
    const r = this.r;
    this.before = statesBefore(r);
    const tstates = tableStates(r);
    const stepping = new Set(r.steps.map((s) => s.cpu));
    const cpus = r.cpus.filter((c) => stepping.has(c.name));
    const finding = r.finding;
    const badStep = finding?.step;
    const failing = r.steps.find((s) => s.n === badStep);
    const badTables = new Set((failing?.touches ?? []).flatMap((t) => t.tables ?? []));
    const racers = new Set((finding?.related ?? []).map((e) => e.step));
    if (r.racing?.first) racers.add(r.racing.first.step);

    const head = h('tr', {}, h('th', {}, 'step'));
    for (const c of cpus)
      head.append(
        h(
          'th',
          { class: 'cpu-col', 'data-cpu': c.name, scope: 'col' },
          c.name,
          h('span', { class: 'muted' }, c.task !== c.name ? ` ${c.task}` : ''),
        ),
      );
    for (const t of r.tables)
      head.append(
        h(
          'th',
          {
            class: 'pt-col',
            'data-table': t.name,
            scope: 'col',
            title: `${t.kind} table ${t.label}${t.mm ? ` of mm ${t.mm}` : ''} at pfn ${t.pfn}${t.offset ? ` +0x${t.offset.toString(16)}` : ''}, ${t.entries} entries`,
          },
          t.name,
          h(
            'span',
            { class: 'muted' },
            ` pfn ${t.pfn}${t.offset ? `+${t.offset.toString(16)}` : ''}`,
          ),
        ),
      );
    const body = h('tbody', {});
    this.rows = r.steps.map((s, i) => {
      const tr = h('tr', {
        'data-step': s.n,
        class:
          [s.n === badStep ? 'finding' : '', racers.has(s.n) ? 'racer' : ''].join(' ').trim() ||
          undefined,
      });
      tr.append(
        h('td', { class: 'n' }, `${s.n === badStep ? '>> ' : racers.has(s.n) ? '* ' : ''}${s.n}`),
      );
      const st = this.before[i] as Map<string, CpuStateView>;
      for (const c of cpus) {
        const td = h('td', { class: `lane${c.name === s.cpu ? ' act' : ''}`, 'data-cpu': c.name });
        td.append(bands(st.get(c.name) ?? IDLE));
        if (c.name === s.cpu) {
          td.append(link(s.fn ?? s.task, s.src, 'fn'), h('span', {}, `: ${s.what}`));
          if (s.preempts) td.append(h('span', { class: 'note' }, `(preempts ${s.preempts})`));
          for (const n of s.notes) td.append(h('span', { class: 'note' }, `- ${n}`));
        }
        tr.append(td);
      }
      const ts = tstates[i] as Map<string, string>;
      for (const t of r.tables) {
        const td = h('td', { class: `pt s-${ts.get(t.name) ?? 'none'}`, 'data-table': t.name });
        for (const e of s.events)
          if (e.table === t.name)
            td.append(h('span', { class: 'ev', title: e.detail }, EVENT_MARK[e.kind] ?? e.kind));
        const hits = s.touches.filter((x) => x.tables?.includes(t.name));
        if (hits.length) {
          const w = hits.some((x) => x.write);
          const bad = s.n === badStep && badTables.has(t.name);
          td.append(
            h('span', {
              class: `access${w ? ' w' : ''}${bad ? ' bad' : ''}`,
              'data-step': s.n,
              'data-table': t.name,
              title: hits.map((x) => `${x.write ? 'writes' : 'reads'} ${x.obj}`).join('; '),
            }),
          );
        }
        tr.append(td);
      }
      tr.addEventListener('click', () => this.go(i));
      body.append(tr);
      return tr;
    });
    this.lanes.replaceChildren(
      h('table', { class: 'lanes', id: 'swimlane' }, h('thead', {}, head), body),
    );
    this.summary.replaceChildren(
      h('div', { class: `banner ${r.reproduced ? 'bad' : 'warn'}`, id: 'outcome-line' }, r.outcome),
      finding
        ? h(
            'p',
            {},
            h('strong', {}, `FINDING ${finding.check}`),
            ` at step ${finding.step} on ${finding.cpu} (${finding.fn}): ${finding.message}`,
          )
        : h('p', {}, 'No check fired on this schedule.'),
    );
    this.racing.replaceChildren();
    if (r.racing) {
      const row = (
        label: string,
        e: { step: number; cpu: string; fn: string; what: string } | null,
      ) => {
        if (!e)
          return [h('strong', {}, label), h('span', { class: 'muted' }, 'not named by the check')];
        const b = h('button', { class: 'jump', 'data-step': e.step }, `step ${e.step}`);
        b.addEventListener('click', () => this.goStep(e.step));
        return [h('strong', {}, label), h('span', {}, b, ` ${e.cpu} ${e.fn}: ${e.what}`)];
      };
      this.racing.append(...row('set up by', r.racing.first), ...row('hit by', r.racing.second));
    }
    this.drawSlots();
    const at = finding ? r.steps.findIndex((s) => s.n === finding.step) : -1;
    this.go(Math.max(at, 0));
  }

  private drawSlots(): void {
    const r = this.r;
    this.slots.replaceChildren();
    const LRU = ['lru', 'pt_list', 'pt_rcu_head', 'pmd_huge_pte'];
    const INDEX = ['index', 'pt_mm', 'pt_frag_refcount'];
    const members = (
      all: string[],
      w: { holder: string | null; at?: { step: number; what: string } | undefined },
    ) =>
      h(
        'td',
        {},
        ...all.map((m) => h('span', { class: `member${w.holder === m ? ' holds' : ''}` }, m)),
        w.at ? h('span', { class: 'note' }, `written at step ${w.at.step}: ${w.at.what}`) : '',
      );
    for (const s of r.slots)
      this.slots.append(
        h(
          'div',
          { class: 'slot', 'data-pfn': s.pfn },
          h(
            'h3',
            {},
            `${s.name}`,
            h(
              'span',
              { class: 'muted' },
              ` (pfn ${s.pfn}, ${s.allocated ? 'allocated' : 'free'}: ${s.owner})`,
            ),
          ),
          h(
            'table',
            {},
            h(
              'tr',
              {},
              h('td', {}, 'flags'),
              h('td', {}, s.flags.length ? s.flags.map((f) => `PG_${f}`).join(' ') : '-'),
            ),
            h(
              'tr',
              {},
              h('td', {}, '_refcount'),
              h('td', { class: 'mono' }, `0x${(s.refcount >>> 0).toString(16)}`),
            ),
            h('tr', {}, h('td', {}, 'words 1-2'), members(LRU, s.lru)),
            h('tr', {}, h('td', {}, 'word 4'), members(INDEX, s.index)),
            h('tr', {}, h('td', {}, 'ptl'), h('td', { class: 'mono' }, s.ptl ?? '-')),
            ...s.words.map((w) =>
              h(
                'tr',
                {},
                h('td', {}, `${w.table} [0..${w.tags.length - 1}]`),
                h('td', { class: 'mono' }, w.tags.join(' · ')),
              ),
            ),
          ),
        ),
      );
    if (!r.slots.length)
      this.slots.append(h('p', { class: 'muted' }, 'No page table in this run.'));
  }

  private goStep(n: number): void {
    const i = this.r.steps.findIndex((s) => s.n === n);
    if (i >= 0) this.go(i);
  }

  private go(i: number): void {
    const n = this.r.steps.length;
    if (!n) return;
    const j = Math.max(0, Math.min(n - 1, i));
    this.rows[this.index]?.classList.remove('current');
    this.rows[this.index]?.removeAttribute('aria-current');
    this.index = j;
    const row = this.rows[j];
    row?.classList.add('current');
    row?.setAttribute('aria-current', 'step');
    if (row) this.reveal(row);
    this.drawDetail(
      this.r.steps[j] as ViewStep,
      this.before[j]?.get((this.r.steps[j] as ViewStep).cpu) ?? IDLE,
    );
  }

  /** Scroll the swimlane (not the page) so the row is in view, below the sticky header. */
  private reveal(row: HTMLElement): void {
    const box = this.lanes;
    const head = box.querySelector('thead')?.getBoundingClientRect().height ?? 0;
    const top = row.offsetTop;
    if (top - head < box.scrollTop) box.scrollTop = top - head;
    else if (top + row.offsetHeight > box.scrollTop + box.clientHeight)
      box.scrollTop = top + row.offsetHeight - box.clientHeight;
  }

  private drawDetail(s: ViewStep, st: CpuStateView): void {
    const chain = h('div', { class: 'mono' });
    for (const [i, f] of s.stack.entries()) chain.append(i ? ' > ' : '', link(f.fn, f.src));
    if (!s.stack.length) chain.append(s.task);
    this.detail.replaceChildren(
      h(
        'div',
        { class: 'panel', id: 'current-step', 'data-step': s.n },
        h('h3', {}, `step ${s.n} · ${s.cpu} (${s.task})`),
        chain,
        h('div', { class: 'what' }, s.what),
        ...s.notes.map((n) => h('div', { class: 'note' }, `- ${n}`)),
        h('h3', {}, 'context before the step'),
        h('div', {}, context(st)),
        s.touches.length ? h('h3', {}, 'touches') : '',
        s.touches.length
          ? h(
              'ul',
              {},
              ...s.touches.map((t) =>
                h(
                  'li',
                  { class: 'mono' },
                  `${t.write ? 'writes' : 'reads'} ${t.obj}${t.tables ? ` (${t.tables.join(', ')})` : ''}`,
                ),
              ),
            )
          : '',
        s.events.length ? h('h3', {}, 'page tables') : '',
        s.events.length
          ? h('ul', {}, ...s.events.map((e) => h('li', {}, `${e.table}: ${e.kind}, ${e.detail}`)))
          : '',
      ),
    );
  }

  private key(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target as HTMLElement | null;
    if (
      t &&
      (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA') &&
      (t as HTMLInputElement).type !== 'radio'
    )
      return;
    const k = e.key;
    if (k === 'ArrowDown' || k === 'ArrowRight' || k === 'j') this.go(this.index + 1);
    else if (k === 'ArrowUp' || k === 'ArrowLeft' || k === 'k') this.go(this.index - 1);
    else if (k === 'Home') this.go(0);
    else if (k === 'End') this.go(this.r.steps.length - 1);
    else if (k === 'f') this.goStep(this.r.finding?.step ?? 0);
    else if (k === 'm' && this.data.runs.length > 1) {
      const next = (this.run + 1) % this.data.runs.length;
      const radio = document.getElementById(
        `run-${(this.data.runs[next] as ViewRun).label}`,
      ) as HTMLInputElement | null;
      if (radio) radio.checked = true;
      this.show(next);
    } else return;
    e.preventDefault();
  }
}

const el = document.getElementById('ptlab-data');
const root = document.getElementById('app');
if (el && root) new Viewer(root, JSON.parse(el.textContent ?? '{}') as TraceView);
