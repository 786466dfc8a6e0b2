// The README's screenshot: the sample vmcore's HTML report, its dump page's top (panic, stack,
// wait-for graph) in headless chromium, written to docs/report.png.
//   node scripts/screenshot.mjs
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs', 'report.png');
const tmp = mkdtempSync(join(tmpdir(), 'vaat-shot-'));
const r = spawnSync(process.execPath, [join(root, 'bin/vaat.js'), 'report', join(root, 'sample/vmcore-cgroup-mutex-hung.kdump-zstd'), '--html', '-o', tmp, '--force'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
const dir = readdirSync(tmp).find((d) => d.startsWith('vmcore'));
const browser = await puppeteer.launch({
  executablePath: process.env.VAAT_CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(tmp, 'profile')}`],
});
const page = await browser.newPage();
await page.setViewport({ width: 1100, height: 1500 });
await page.goto(pathToFileURL(join(tmp, dir, 'index.html')).href, { waitUntil: 'load' });
await page.waitForSelector('html[data-ready]');
// the panic header, its stack and the wait-for graph, without the long kv rows about symbol sources
await page.evaluate(() => {
  for (const th of document.querySelectorAll('#panic table.kv th')) if (/^(Symbols|Types|Dump|Load average|Uptime|Memory)$/.test(th.textContent ?? '')) th.parentElement.remove();
});
const end = await page.$eval('#waits figure.graph', (e) => e.getBoundingClientRect().bottom + window.scrollY);
mkdirSync(dirname(out), { recursive: true });
await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1100, height: Math.min(1500, Math.ceil(end) + 8) } });
await browser.close();
rmSync(tmp, { recursive: true, force: true });
console.log(`wrote ${out}`);
