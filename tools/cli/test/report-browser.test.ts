/**
 * The HTML report and trace viewer in a real browser: Debian's chromium
 * driven by playwright-core (never a downloaded browser). Skipped, loudly,
 * only where no chromium can be had; .ci/run installs it with apt.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

const CHROMIUM = process.env.PTLAB_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `\n*** SKIPPED: the browser tests of the HTML report need chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set PTLAB_CHROMIUM). .ci/run installs it when it can. ***\n`,
  );

/** Screenshots, kept as test artefacts (gitignored). */
export const ARTEFACTS = join(__dirname, '..', 'test-artifacts');

const tmp = mkdtempSync(join(tmpdir(), 'ptlab-browser-'));
const traceFile = join(tmp, 'rcu.json');
const viewFile = join(tmp, 'rcu.html');
const reportDir = join(tmp, 'report');

interface Opened {
  readonly page: Page;
  readonly errors: string[];
  /** Requests for anything that is not the page's own file (there must be none). */
  readonly outside: string[];
  readonly ms: number;
}

describe.skipIf(!haveChromium)('the HTML report in chromium', () => {
  let browser: Browser;
  let trace: {
    schedule: { task: string }[];
    found?: { task: string }[];
    finding: { step: number; message: string };
  };

  beforeAll(async () => {
    const w = await cli(
      'check',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-lockless-walkers',
      '--mutant',
      'pte-offset-map-without-rcu',
      '--strategy',
      'pct',
      '--trace-out',
      traceFile,
    );
    expect(w.code).toBe(1);
    trace = JSON.parse(readFileSync(traceFile, 'utf8'));
    const v = await cli('view', traceFile, '-o', viewFile);
    expect(v.code, v.err).toBe(0);
    const c = await cli(
      'conformance',
      '--arch',
      'x86-64',
      '--scenario',
      'retract-vs-exit',
      '--scenario',
      'torn-pmd-read',
      '--workers',
      '0',
      '--html',
      reportDir,
      '--traces',
      join(tmp, 'traces'),
      '--no-progress',
    );
    expect(c.err).toMatch(/HTML report: .*index\.html \(\d+ trace pages\)/);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(ARTEFACTS, { recursive: true });
    console.info(
      `trace viewer page: ${(statSync(viewFile).size / 1024).toFixed(1)} KiB for a ${trace.schedule.length}-step trace (${trace.found?.length ?? 0} steps as found)`,
    );
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const errors: string[] = [];
    const outside: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    const self = pathToFileURL(file).href;
    await page.route('**/*', (r) => {
      const url = r.request().url();
      if (url === self) return r.continue();
      outside.push(url);
      return r.abort();
    });
    const t0 = performance.now();
    await page.goto(self);
    await page.waitForLoadState('load');
    return { page, errors, outside, ms: performance.now() - t0 };
  }

  it('the trace viewer loads with no console errors and asks for nothing outside the file', async () => {
    const o = await open(viewFile);
    await o.page.waitForSelector('#swimlane tbody tr');
    const render = await o.page.evaluate(() => {
      type Nav = { loadEventEnd: number; startTime: number };
      const p = performance as unknown as { getEntriesByType(t: string): Nav[] };
      const n = p.getEntriesByType('navigation')[0] as Nav;
      return n.loadEventEnd - n.startTime;
    });
    console.info(
      `trace viewer: loaded and drawn in ${render.toFixed(0)} ms (${o.ms.toFixed(0)} ms from goto)`,
    );
    expect(o.errors).toEqual([]);
    expect(o.outside).toEqual([]);
    await o.page.screenshot({ path: join(ARTEFACTS, 'trace-viewer.png') });
    await o.page.screenshot({ path: join(ARTEFACTS, 'trace-viewer-full.png'), fullPage: true });
    await o.page.close();
  });

  it('the swimlane has one column per CPU in the trace, for the minimised and the found schedule', async () => {
    const o = await open(viewFile);
    const cols = await o.page.$$eval('th.cpu-col', (e) => e.map((x) => x.getAttribute('data-cpu')));
    expect(cols.length).toBe(new Set(trace.schedule.map((c) => c.task)).size);
    expect(new Set(cols).size).toBe(cols.length);
    // Every step's cell sits in its CPU's column.
    const misplaced = await o.page.$$eval(
      '#swimlane tbody tr',
      (rows) => rows.filter((r) => r.querySelectorAll('td.act').length !== 1).length,
    );
    expect(misplaced).toBe(0);
    expect(trace.found).toBeDefined();
    await o.page.keyboard.press('m');
    const found = await o.page.$$eval('th.cpu-col', (e) => e.length);
    expect(found).toBe(new Set(trace.found?.map((c) => c.task)).size);
    expect(await o.page.$$eval('#swimlane tbody tr', (r) => r.length)).toBe(trace.found?.length);
    await o.page.screenshot({ path: join(ARTEFACTS, 'trace-viewer-found.png') });
    expect(o.errors).toEqual([]);
    await o.page.close();
  });

  it('stepping moves the highlight, with the keys and the buttons', async () => {
    const o = await open(viewFile);
    const current = () =>
      o.page.$eval('#swimlane tr.current', (r) => Number(r.getAttribute('data-step')));
    const detail = () => o.page.$eval('#current-step', (d) => Number(d.getAttribute('data-step')));
    const last = trace.schedule.length - 1;
    // It opens at the failing step.
    expect(await current()).toBe(trace.finding.step);
    await o.page.keyboard.press('ArrowUp');
    expect(await current()).toBe(last - 1);
    expect(await detail()).toBe(last - 1);
    await o.page.keyboard.press('k');
    expect(await current()).toBe(last - 2);
    await o.page.keyboard.press('j');
    expect(await current()).toBe(last - 1);
    await o.page.keyboard.press('Home');
    expect(await current()).toBe(0);
    await o.page.keyboard.press('ArrowLeft');
    expect(await current()).toBe(0);
    await o.page.click('#next');
    expect(await current()).toBe(1);
    await o.page.keyboard.press('End');
    expect(await current()).toBe(last);
    await o.page.keyboard.press('Home');
    await o.page.keyboard.press('f');
    expect(await current()).toBe(trace.finding.step);
    expect(await o.page.$$eval('#swimlane tr.current', (r) => r.length)).toBe(1);
    expect(o.errors).toEqual([]);
    await o.page.close();
  });

  it('the lifeline marks the bad access: on the freed table the failing step touched, at that step', async () => {
    const o = await open(viewFile);
    const bad = await o.page.$$eval('#swimlane .access.bad', (e) =>
      e.map((x) => ({
        step: Number(x.getAttribute('data-step')),
        table: x.getAttribute('data-table'),
      })),
    );
    expect(bad.length).toBeGreaterThan(0);
    for (const b of bad) {
      expect(b.step).toBe(trace.finding.step);
      // The table the finding names, under the same name in the lifeline.
      expect(await o.page.$eval('#outcome', (e) => e.textContent)).toContain(b.table as string);
    }
    // The lifeline of that table shows it freed before the access, and other accesses unringed.
    const table = bad[0]?.table as string;
    const state = await o.page.$eval(
      `#swimlane tr[data-step="${trace.finding.step}"] td.pt[data-table="${table}"]`,
      (td) => td.className,
    );
    expect(state).toMatch(/s-(freed|page-freed)/);
    expect(await o.page.$$eval('#swimlane .access:not(.bad)', (e) => e.length)).toBeGreaterThan(0);
    // The racing events are named: what set the bug up and what hit it.
    const racing = await o.page.$eval('#racing', (e) => e.textContent ?? '');
    expect(racing).toMatch(/set up by.*step \d+.*free .*hit by.*step \d+/);
    expect(/hit by.*step (\d+)/.exec(racing)?.[1]).toBe(String(trace.finding.step));
    expect(o.errors).toEqual([]);
    await o.page.close();
  });

  it('links are well-formed: each step to its kernel function at v6.6 on Elixir, each citation to lore by Message-ID', async () => {
    const o = await open(viewFile);
    const hrefs = await o.page.$$eval('a[href]', (a) =>
      a.map((x) => (x as unknown as { href: string }).href),
    );
    expect(hrefs.length).toBeGreaterThan(10);
    for (const h of hrefs)
      expect(h).toMatch(
        /^https:\/\/(elixir\.bootlin\.com\/linux\/v6\.6\/C\/ident\/[A-Za-z_][A-Za-z0-9_]*|lore\.kernel\.org\/(r\/[^/\s]+@[^/\s]+\/(T\/)?|all\/\?q=\S+))$/,
      );
    // Every step of a kernel function has its link in the swimlane.
    const unlinked = await o.page.$$eval(
      '#swimlane td.act',
      (tds) =>
        tds.filter((td) => !td.querySelector('a.fn') && !/: return$/.test(td.textContent ?? ''))
          .length,
    );
    expect(unlinked).toBe(0);
    const seed = await o.page.$$eval('#seed-links a', (a) =>
      a.map((x) => (x as unknown as { href: string }).href),
    );
    expect(seed.length).toBeGreaterThan(0);
    for (const s of seed) expect(s).toMatch(/^https:\/\/lore\.kernel\.org\/r\/[^/\s]+@[^/\s]+\//);
    await o.page.close();
  });

  it('the struct page slots at the failing step show which union member holds the storage', async () => {
    const o = await open(viewFile);
    const holders = await o.page.$$eval('.slot .member.holds', (e) => e.map((x) => x.textContent));
    expect(holders).toContain('pt_rcu_head');
    await o.page.close();
  });

  it('the conformance report: the matrix with verdict kinds, coverage, mutants; its trace pages load', async () => {
    const index = join(reportDir, 'index.html');
    const o = await open(index);
    expect(o.errors).toEqual([]);
    expect(o.outside).toEqual([]);
    const verdicts = await o.page.$$eval('table.matrix td[data-verdict]', (t) =>
      t.map((x) => x.getAttribute('data-verdict')),
    );
    expect(verdicts.sort()).toEqual(['n/a', 'verified']);
    expect(await o.page.$eval('#coverage', (e) => e.textContent)).toMatch(/no coverage summary/);
    expect(await o.page.$$eval('#mutants tr', (r) => r.length)).toBeGreaterThan(10);
    await o.page.screenshot({ path: join(ARTEFACTS, 'conformance-report.png'), fullPage: true });
    const pages = await o.page.$$eval('a[href^="traces/"]', (a) =>
      a.map((x) => x.getAttribute('href')),
    );
    expect(pages.length).toBeGreaterThan(0);
    await o.page.close();
    for (const p of new Set(pages)) {
      const t = await open(join(reportDir, p as string));
      await t.page.waitForSelector('#swimlane tbody tr');
      expect(t.errors, p as string).toEqual([]);
      expect(t.outside).toEqual([]);
      await t.page.close();
    }
  });
});
