/**
 * `vaat report -d DIR --html`: the static site over the fixtures' reports, opened in Debian's
 * chromium (puppeteer-core, headless, no network). Every page loads without console errors or
 * network requests, its charts and graph are drawn with non-zero sizes, the wait-for graph of the
 * cgroup_mutex scenarios has the truth's waiters → cgroup_mutex → owner, and the task list keeps
 * only the visible rows in the DOM. Screenshots go to test-output/html/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { projectRoot, truth, type Json } from './fixtures.js';
import { makeFleetDir, type FleetDir } from './fleet-dir.js';
import { vaatJson } from './cli.js';
import { CHROMIUM, haveChromium, launchChromium, openPage } from './browser.js';
import { renderDumpPage } from '../src/report/html/index.js';
import { copyAssets } from '../src/report/html/assets.js';

const shots = join(projectRoot, 'test-output', 'html');

interface Loaded { errors: string[]; requests: string[] }

/** open a page from disk: nothing may leave file:// */
async function open(browser: Browser, file: string): Promise<{ page: Page } & Loaded> {
  return openPage(browser, pathToFileURL(file).href, (u) => u.startsWith('file:'));
}

/** every chart container: whether it holds a drawn SVG, and its size */
async function charts(page: Page): Promise<{ key: string; svg: boolean; w: number; h: number; label: string }[]> {
  return page.$$eval('[data-chart]', (els) => els.map((el) => {
    const svg = el.querySelector('svg');
    const r = svg?.getBoundingClientRect();
    return { key: (el as HTMLElement).dataset.chart ?? '', svg: !!svg && svg.querySelectorAll('path, rect').length > 0, w: r?.width ?? 0, h: r?.height ?? 0, label: el.getAttribute('aria-label') ?? '' };
  }));
}

describe('vaat report --html in chromium', () => {
  let fd: FleetDir;
  let tmp: string;
  let out: string;
  let browser: Browser;
  let close: () => Promise<void>;
  let summaries: Json[];

  beforeAll(async () => {
    if (!haveChromium()) throw new Error(`no browser at ${CHROMIUM}: scripts/setup.sh --with-test-tools installs Debian's chromium`);
    fd = makeFleetDir();
    tmp = mkdtempSync(join(tmpdir(), 'vaat-html-'));
    out = join(tmp, 'site');
    const r = await vaatJson(['report', '-d', fd.root, '--html', '-o', out]);
    expect(r.html.index).toBe(join(out, 'index.html'));
    summaries = readdirSync(out).filter((d) => existsSync(join(out, d, 'summary.json'))).map((d) => JSON.parse(readFileSync(join(out, d, 'summary.json'), 'utf8')));
    mkdirSync(shots, { recursive: true });
    ({ browser, close } = await launchChromium());
  }, 600_000);

  afterAll(async () => {
    await close?.();
    rmSync(tmp, { recursive: true, force: true });
    rmSync(fd.root, { recursive: true, force: true });
  });

  it('writes a page per opened dump, the fleet page and the bundled assets', () => {
    expect(existsSync(join(out, 'assets', 'vaat-report.js'))).toBe(true);
    expect(existsSync(join(out, 'assets', 'vaat-report.css'))).toBe(true);
    const opened = summaries.filter((s) => !s.openError);
    // every fixture, and vmcore-incomplete as far as it reads
    expect(opened.length).toBe(fd.links.length + 1);
    for (const s of opened) expect(existsSync(join(out, s.dir, 'index.html')), s.dir).toBe(true);
    // no page asks the network for anything
    for (const f of [join(out, 'index.html'), ...opened.map((s) => join(out, s.dir, 'index.html'))]) {
      expect(readFileSync(f, 'utf8')).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it('the fleet page draws its charts and links every bucket member to its page', async () => {
    const { page, errors, requests } = await open(browser, join(out, 'index.html'));
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const cs = await charts(page);
      expect(cs.map((c) => c.key).sort()).toEqual(['hosts', 'kernels', 'time']);
      for (const c of cs) {
        expect(c.svg, c.key).toBe(true);
        expect(c.w * c.h, c.key).toBeGreaterThan(0);
        expect(c.label.length, c.key).toBeGreaterThan(20);
      }
      // every dump that opened is a member of exactly one bucket, linked to its page
      const members = await page.$$eval('details.bucket li a', (as) => as.map((a) => (a as HTMLAnchorElement).href));
      const opened = summaries.filter((s) => !s.openError);
      for (const s of opened) expect(members.filter((h) => h.endsWith(`/${encodeURIComponent(s.dir)}/index.html`)), s.dir).toHaveLength(1);
      // the two NULL-dereference dumps are the same bug (fixtures' MANIFEST): one bucket
      const dirOf = (scenario: string): string => summaries.find((s) => realpathSync(s.path) === realpathSync(fd.links.find((l) => l.fixture.scenario === scenario)!.path))!.dir;
      const bucketOf = (dir: string): Promise<string> => page.$eval(`details.bucket:has(a[href="${encodeURIComponent(dir)}/index.html"])`, (d) => d.id);
      expect(await bucketOf(dirOf('oops-null-a'))).toBe(await bucketOf(dirOf('oops-null-b')));
      await page.screenshot({ path: join(shots, 'fleet.png'), fullPage: true });
    } finally { await page.close(); }
  });

  it('every dump page loads without errors, with its charts drawn', async () => {
    let pages = 0;
    for (const s of summaries.filter((x) => !x.openError)) {
      const { page, errors, requests } = await open(browser, join(out, s.dir, 'index.html'));
      try {
        expect(errors, s.dir).toEqual([]);
        expect(requests, s.dir).toEqual([]);
        const ok = (f: string): boolean => s.analyses.some((a: Json) => a.file === f && a.ok);
        const cs = await charts(page);
        const want = [...(ok('ps') ? ['states'] : []), ...(ok('runq') ? ['runq', 'runtime'] : []), ...(ok('log') ? ['log'] : [])];
        for (const k of want) expect(cs.map((c) => c.key), `${s.dir} ${k}`).toContain(k);
        for (const c of cs) {
          expect(c.svg, `${s.dir} ${c.key}`).toBe(true);
          expect(c.w, `${s.dir} ${c.key}`).toBeGreaterThan(100);
          expect(c.h, `${s.dir} ${c.key}`).toBeGreaterThan(50);
        }
        // a failed analysis leaves its section saying so, the page still whole
        for (const [f, id] of [['ps', 'tasks'], ['cgroupinfo', 'cgroups'], ['log', 'log']]) {
          const text = await page.$eval(`#${id}`, (e) => e.textContent ?? '');
          if (!ok(f)) expect(text, `${s.dir} ${id}`).toMatch(/Not available/);
        }
        if (ok('bt-a') && ok('sys')) {
          const frames = await page.$$eval('#panic ol.stack li.frame', (ls) => ls.length);
          expect(frames, s.dir).toBeGreaterThan(0);
        }
        await page.screenshot({ path: join(shots, `${s.dir.replace(/[^\w.-]/g, '_')}.png`) });
        pages++;
      } finally { await page.close(); }
    }
    expect(pages).toBe(fd.links.length + 1);
  });

  it('the wait-for graph of the cgroup_mutex scenarios is waiters → cgroup_mutex → owner, as in the truth', async () => {
    const scenarios = [...new Set(fd.links.map((l) => l.fixture.scenario))].filter((sc) => truth(sc).cgroup_mutex?.owner);
    let checked = 0;
    for (const sc of scenarios) {
      const link = fd.links.find((l) => l.fixture.scenario === sc && l.fixture.primary) ?? fd.links.find((l) => l.fixture.scenario === sc)!;
      const s = summaries.find((x) => realpathSync(x.path) === realpathSync(link.path));
      expect(s, sc).toBeTruthy();
      const locksOk = s.analyses.some((a: Json) => a.file === 'lockinfo-blocked' && a.ok);
      const { page, errors } = await open(browser, join(out, s.dir, 'index.html'));
      try {
        expect(errors).toEqual([]);
        if (!locksOk) {
          expect(await page.$eval('#waits', (e) => e.textContent ?? '')).toMatch(/Not available/);
          continue;
        }
        const t = truth(sc).cgroup_mutex;
        const nodes = await page.$$eval('svg.waitgraph [data-node]', (gs) => gs.map((g) => {
          const r = g.getBoundingClientRect();
          return { id: g.getAttribute('data-node') ?? '', text: g.textContent ?? '', w: r.width, h: r.height, href: g.parentElement?.getAttribute('href') ?? null };
        }));
        const edges = await page.$$eval('svg.waitgraph .edge', (es) => es.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}`));
        const lock = nodes.find((n) => n.text.startsWith('cgroup_mutex'));
        expect(lock, sc).toBeTruthy();
        const owner = `task:${t.owner.pid}`;
        expect(nodes.find((n) => n.id === owner)?.text, sc).toContain(t.owner.comm);
        expect(edges, sc).toContain(`${lock!.id}>${owner}`);
        for (const w of t.waiters) {
          const n = nodes.find((x) => x.id === `task:${w.pid}`);
          expect(n?.text, `${sc} waiter ${w.pid}`).toContain(w.comm);
          expect(edges, sc).toContain(`task:${w.pid}>${lock!.id}`);
          // each task node links to its stack on the page
          expect(n?.href, `${sc} ${w.pid}`).toMatch(/^#(stack|trace)-/);
          expect(await page.$(n!.href!.replace(/^#/, '#')), `${sc} ${n!.href}`).not.toBeNull();
        }
        // blocked tasks, the lock, the owner: nothing else for this scenario
        expect(nodes.length, sc).toBe(t.waiters.length + 2);
        for (const n of nodes) expect(n.w * n.h, n.id).toBeGreaterThan(0);
        const box = await page.$('#waits');
        await box!.screenshot({ path: join(shots, `waits-${sc}.png`) });
        checked++;
      } finally { await page.close(); }
    }
    // the x86_64 6.1 scenario must be among those drawn
    expect(scenarios).toContain('cgroup-mutex-hung');
    expect(checked).toBeGreaterThanOrEqual(1);
  });

  it('the task list keeps only visible rows in the DOM and filters', async () => {
    const s = summaries.find((x) => x.dir === 'db2-2026-11-21-21:47__vmcore');
    const ps = JSON.parse(readFileSync(join(out, s.dir, 'ps.json'), 'utf8'));
    const { page, errors } = await open(browser, join(out, s.dir, 'index.html'));
    try {
      expect(errors).toEqual([]);
      const rows = await page.$$eval('.vt-row', (r) => r.length);
      expect(rows).toBeGreaterThan(5);
      expect(rows).toBeLessThan(ps.tasks.length);
      const d = ps.tasks.filter((t: Json) => t.state === 'D');
      await page.type('[data-tasklist-filter]', d[0].comm);
      const shown = await page.$$eval('.vt-row', (r) => r.map((x) => x.textContent ?? ''));
      expect(shown.length).toBe(ps.tasks.filter((t: Json) => [t.pid, t.ppid, t.cpu, t.state, t.prio, t.comm, t.cgroup, t.task].join(' ').toLowerCase().includes(d[0].comm.toLowerCase())).length);
      for (const t of d) expect(shown.some((x) => x.includes(String(t.pid)) && x.includes(t.comm))).toBe(true);
      // keyboard: the list scrolls with the arrow keys
      await page.$eval('[data-tasklist-filter]', (e) => { (e as HTMLInputElement).value = ''; e.dispatchEvent(new Event('input')); });
      await page.focus('[data-tasklist-body]');
      await page.keyboard.press('PageDown');
      expect(await page.$eval('[data-tasklist-body]', (e) => e.scrollTop)).toBeGreaterThan(0);
    } finally { await page.close(); }
  });

  it('dark mode and print render the dump page', async () => {
    const s = summaries.find((x) => x.dir === 'db2-2026-11-21-21:47__vmcore');
    const { page, errors } = await open(browser, join(out, s.dir, 'index.html'));
    try {
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
      await new Promise((r) => setTimeout(r, 200));
      const bg = await page.$eval('body', (b) => getComputedStyle(b).backgroundColor);
      expect(bg).not.toBe('rgb(255, 255, 255)');
      expect((await charts(page)).every((c) => c.svg)).toBe(true);
      await page.screenshot({ path: join(shots, 'dark.png') });
      await page.emulateMediaType('print');
      expect(await page.$eval('nav.sections', (n) => getComputedStyle(n).display)).toBe('none');
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.length).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
    } finally { await page.close(); }
  });

  it('dump strings are text, never markup: a hostile comm, cgroup and log line stay inert', async () => {
    const s = summaries.find((x) => x.dir === 'db2-2026-11-21-21:47__vmcore');
    const evil = '</script><img src=x onerror="alert(1)"><script>alert(2)</script>';
    const dir = join(tmp, 'hostile', 'dump');
    mkdirSync(dir, { recursive: true });
    copyAssets(join(tmp, 'hostile', 'assets'));
    const ps = JSON.parse(readFileSync(join(out, s.dir, 'ps.json'), 'utf8'));
    ps.tasks[1].comm = evil;
    ps.tasks[1].cgroup = `/${evil}`;
    const log = JSON.parse(readFileSync(join(out, s.dir, 'log.json'), 'utf8'));
    log.records[0].text = `${evil}\u0007\u001b[31m`;
    const html = renderDumpPage({
      summary: { ...s, path: `/crash/${evil}` }, sys: null, signature: null, bt: null, stacks: null, runq: null, runqGroups: null, ps, locks: null,
      cgroups: null, cpus: null, log, mod: null, similar: null, bucket: null,
    });
    writeFileSync(join(dir, 'index.html'), html);
    const { page, errors } = await open(browser, join(dir, 'index.html'));
    try {
      expect(errors).toEqual([]);
      expect(await page.$$eval('img', (i) => i.length)).toBe(0);
      expect(await page.$$eval('script', (x) => x.length)).toBe(2);
      expect(await page.$eval('ol.log li', (l) => l.textContent ?? '')).toContain('<img src=x');
      expect(await page.$eval('ol.log li', (l) => l.textContent ?? '')).toContain('\\x07\\x1b[31m');
      await page.type('[data-tasklist-filter]', 'onerror');
      expect(await page.$$eval('.vt-row', (r) => r.map((x) => x.textContent ?? '').join('\n'))).toContain('<img src=x');
    } finally { await page.close(); }
  });
});
