// The HTML report's cost: (1) what --html adds to `vaat report` on one dump (the CLI end to end
// with and without --html, and the site writer alone in-process, against the report itself);
// (2) how fast a dump page with 10,000 tasks loads in headless chromium. No fixture has 10,000
// tasks, so (2) scales a fixture's report data up synthetically: the cgroup-mutex-hung report's
// tasks copied with new pids (and into its stack groups) until there are 10,000.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { benchEnv, benchEnvNote, best, fixturesDir, fmt, printTable, root, vaatArgv } from './common.mjs';

const { writeHtmlSite, renderDumpPage, loadDumpPageData, copyAssets } = await import(join(root, 'dist/src/report/html/index.js'));
const markdown = process.argv.includes('--markdown');
const runs = Number(process.env.RUNS ?? 3);
const tmp = mkdtempSync(join(tmpdir(), 'vaat-bench-html-'));
const dumps = (process.env.DUMPS ?? 'cgroup-mutex-hung/vmcore.kdump-zstd,sysrq-basic/vmcore.kdump-lzo,oops-null-a/vmcore.kdump-snappy').split(',');

function vaat(args) {
  const r = spawnSync(process.execPath, [...vaatArgv, ...args], { encoding: 'utf8', env: benchEnv() });
  if (r.status !== 0) throw new Error(`vaat ${args.join(' ')}: ${r.stderr}`);
}

const rows1 = [];
for (const rel of dumps) {
  const vmcore = join(fixturesDir, rel);
  const plain = join(tmp, 'plain'), html = join(tmp, 'html');
  const tPlain = best(() => vaat(['report', vmcore, '-o', plain, '--force', '-j', '1']), runs);
  const tHtml = best(() => vaat(['report', vmcore, '--html', '-o', html, '--force', '-j', '1']), runs);
  const tSite = best(() => writeHtmlSite(html), runs);
  rows1.push([rel, fmt(tPlain, 0), fmt(tHtml, 0), `${fmt((tHtml / tPlain - 1) * 100, 1)}%`, fmt(tSite, 1), `${fmt((tSite / tPlain) * 100, 1)}%`]);
}

// (2) the 10,000-task page


const src = join(tmp, 'src');
vaat(['report', join(fixturesDir, dumps[0]), '-o', src, '--force', '-j', '1']);
const srcDir = join(src, readdirSync(src).find((d) => d.startsWith('vmcore')));
const summary = JSON.parse(readFileSync(join(srcDir, 'summary.json'), 'utf8'));
const data = loadDumpPageData(srcDir, summary);
const N = 10_000;
const orig = data.ps.tasks;
const tasks = [];
let nextPid = 100_000;
for (let i = 0; tasks.length < N; i++) {
  const t = orig[i % orig.length];
  if (i < orig.length) { tasks.push(t); continue; }
  const pid = nextPid++;
  tasks.push({ ...t, pid, tgid: pid, comm: `${t.comm}-${i}`, task: `0xffff8${pid.toString(16).padStart(11, '0')}`, panic: false, active: false });
  const g = data.stacks.groups.find((x) => x.pids.includes(t.pid));
  if (g) { g.pids.push(pid); g.comms.push(`${t.comm}-${i}`); g.count++; }
}
data.ps = { ...data.ps, count: N, tasks, states: tasks.reduce((m, t) => ({ ...m, [t.state]: (m[t.state] ?? 0) + 1 }), {}) };
data.stacks.tasks = N;
const site = join(tmp, 'site10k');
mkdirSync(join(site, 'dump'), { recursive: true });
copyAssets(join(site, 'assets'));
let html = '';
const tRender = best(() => { html = renderDumpPage(data); }, runs);
const page10k = join(site, 'dump', 'index.html');
writeFileSync(page10k, html);

const profile = mkdtempSync(join(tmpdir(), 'vaat-bench-chromium-'));
const browser = await puppeteer.launch({
  executablePath: process.env.VAAT_CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`],
});
const loads = [];
for (let i = 0; i < runs + 1; i++) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(pathToFileURL(page10k).href, { waitUntil: 'load' });
  await page.waitForSelector('html[data-ready]');
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { load: nav.loadEventEnd, ready: Number(document.documentElement.dataset.ready), rows: document.querySelectorAll('.vt-row').length, nodes: document.getElementsByTagName('*').length };
  });
  if (i > 0) loads.push(m); // the first run warms the browser's caches
  await page.close();
}
await browser.close();
rmSync(profile, { recursive: true, force: true });
const bestOf = (k) => Math.min(...loads.map((m) => m[k]));

const h1 = ['dump', 'report ms', 'report --html ms', '--html adds', 'site writer ms', 'site / report'];
const h2 = ['page', 'tasks', 'render ms', 'HTML KB', 'load event ms', 'drawn ms', 'task rows in DOM', 'DOM elements'];
const r2 = [['cgroup-mutex-hung scaled ×' + fmt(N / orig.length, 0), String(N), fmt(tRender, 1), fmt(statSync(page10k).size / 1024, 0), fmt(bestOf('load'), 0), fmt(bestOf('ready'), 0), String(loads[0].rows), String(loads[0].nodes)]];
if (markdown) {
  for (const [h, rs] of [[h1, rows1], [h2, r2]]) {
    console.log(`| ${h.join(' | ')} |\n|${h.map(() => '---').join('|')}|`);
    for (const r of rs) console.log(`| ${r.join(' | ')} |`);
    console.log();
  }
} else {
  printTable(h1, rows1);
  printTable(h2, r2);
}
rmSync(tmp, { recursive: true, force: true });

console.log(`\n${benchEnvNote}`);
