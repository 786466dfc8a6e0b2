/**
 * The fleet service end to end, on the real fixtures and real services: a crash directory that
 * fills while `vaat serve` watches it — kdump layouts, one dump written slowly as
 * `vmcore-incomplete` then renamed, a copy cut short (truncated), a file too short to open (its
 * typed error stored), a non-dump — analysed by worker processes, bucketed incrementally, served
 * over HTTP. Once embedded (SQLite, in-process queue, with a restart), once distributed (BullMQ on
 * a redis-server and PostgreSQL started here, two `vaat worker`s, one killed in the middle of a job).
 * The right bucket is the one `vaat triage` gives when it sees the whole directory at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, readFileSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumps, projectRoot, type Json } from './fixtures.js';
import { vaatJson } from './cli.js';
import { startPostgres, startRedis } from './services.mjs';
import { CHROMIUM, haveChromium, launchChromium, openPage } from './browser.js';

type Service = Awaited<ReturnType<typeof startRedis>>;
import { candidateKeys, indexKeys } from '../src/service/bucketing.js';
import { mapPath, parsePathMap } from '../src/service/processor.js';
import { parseListen } from '../src/service/http.js';

const bin = join(projectRoot, 'bin', 'vaat.js');
/** the report's analyses the tests run (the signature always runs): enough to check sections, quick on a busy machine */
const ANALYSES = 'sys,log';
/** generous: the machine may be shared; nothing here measures speed */
const SETUP_MS = 900_000;
const fixture = (scenario: string, name?: string): string => dumps.find((d) => d.scenario === scenario && (!name || d.name === name))!.path;

function head(src: string, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(src, 'r');
  try { readSync(fd, buf, 0, bytes, 0); } finally { closeSync(fd); }
  return buf;
}

interface CrashDir {
  root: string;
  /** role → path once complete */
  paths: Record<'sysrqLzo' | 'sysrqZlib' | 'oopsA' | 'oopsB' | 'slow' | 'truncated' | 'broken' | 'nonDump', string>;
  slowIncomplete: string;
}

/** the directory's first files: links to the fixtures, a truncated copy, a broken one and a non-dump */
function makeCrashDir(): CrashDir {
  const root = mkdtempSync(join(tmpdir(), 'vaat-crash-'));
  const at = (rel: string): string => { const p = join(root, rel); mkdirSync(join(p, '..'), { recursive: true }); return p; };
  const paths: CrashDir['paths'] = {
    sysrqLzo: at('web1-2026-11-21-21:41/vmcore'),
    sysrqZlib: at('copies/web1-zlib/vmcore'),
    oopsA: at('db1-2026-11-21-21:43/vmcore'),
    oopsB: at('db2-2026-11-21-21:50/vmcore'),
    slow: at('spin-2026-11-21-22:00/vmcore'),
    truncated: at('trunc-2026-11-21-22:10/vmcore'),
    broken: at('broken-2026-11-21-22:20/vmcore'),
    nonDump: at('web1-2026-11-21-21:41/vmcore-dmesg.txt'),
  };
  symlinkSync(fixture('sysrq-basic', 'vmcore.kdump-lzo'), paths.sysrqLzo);
  symlinkSync(fixture('sysrq-basic', 'vmcore.kdump-zlib'), paths.sysrqZlib);
  symlinkSync(fixture('oops-null-a'), paths.oopsA);
  symlinkSync(fixture('oops-null-b'), paths.oopsB);
  // a capture cut short: headers intact, most pages missing
  writeFileSync(paths.truncated, head(fixture('oops-null-a'), 3 << 20));
  // ends inside the kdump sub-header: cannot be opened at all
  writeFileSync(paths.broken, head(fixture('oops-null-a'), 4096));
  writeFileSync(paths.nonDump, '[    0.000000] Linux version 6.1.0-54-cloud-amd64\n'.repeat(200));
  return { root, paths, slowIncomplete: join(root, 'spin-2026-11-21-22:00', 'vmcore-incomplete') };
}

/** kdump at work: the dump written in pieces as vmcore-incomplete, renamed to vmcore when complete */
async function writeSlowly(cd: CrashDir, ms = 3000): Promise<void> {
  const src = fixture('softlockup');
  const all = head(src, (await import('node:fs')).statSync(src).size);
  const pieces = 12;
  writeFileSync(cd.slowIncomplete, '');
  for (let i = 0; i < pieces; i++) {
    appendFileSync(cd.slowIncomplete, all.subarray(Math.floor((all.length * i) / pieces), Math.floor((all.length * (i + 1)) / pieces)));
    await new Promise((r) => setTimeout(r, ms / pieces));
  }
  renameSync(cd.slowIncomplete, cd.paths.slow);
}

interface Proc { child: ChildProcess; stderr: string; exited: Promise<void> }

function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const p: Proc = { child, stderr: '', exited: new Promise((r) => child.once('exit', () => r())) };
  child.stderr!.on('data', (d: Buffer) => { p.stderr += d.toString(); });
  return p;
}

async function stop(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  await p.exited;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms: number, proc?: Proc): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${proc ? `; stderr: ${proc.stderr.slice(-2000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** vaat serve's address, from its start-up line */
const served = (p: Proc): Promise<string> => waitFor('vaat serve to listen', async () => /serving (http:\/\/\S+)/.exec(p.stderr)?.[1], SETUP_MS, p);

const getJson = async (url: string): Promise<Json> => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
};

/** every dump /api/dumps lists, following its cursors a small page at a time (so that paging itself is exercised) */
async function allDumps(base: string, query = '', limit = 3): Promise<Json[]> {
  const out: Json[] = [];
  for (let cursor: string | null = null, pages = 0; ; pages++) {
    const page = await getJson(`${base}/api/dumps?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.dumps.length).toBeLessThanOrEqual(limit);
    out.push(...page.dumps);
    if (page.nextCursor === null) return out;
    expect(page.dumps.length).toBe(limit);
    cursor = page.nextCursor;
    if (pages > 1000) throw new Error('/api/dumps: the cursors never end');
  }
}

const TERMINAL = new Set(['done', 'failed', 'rejected']);
/** every file of the directory has a final state */
async function settled(base: string, cd: CrashDir, p?: Proc): Promise<Json[]> {
  return waitFor('every dump to be analysed', async () => {
    const ds: Json[] = await allDumps(base);
    const want = Object.values(cd.paths);
    return want.every((w) => ds.some((d) => d.path === w && TERMINAL.has(d.state))) ? ds : null;
  }, SETUP_MS, p);
}

/** the checks both setups must pass */
async function checkResults(base: string, cd: CrashDir, ds: Json[]): Promise<void> {
  const by = (p: string): Json => ds.find((d) => d.path === p);
  const p = cd.paths;
  // every dump once: one row per file, one stored analysis per analysed dump
  expect(ds.map((d) => d.path).sort()).toEqual(Object.values(p).sort());
  for (const role of ['sysrqLzo', 'sysrqZlib', 'oopsA', 'oopsB', 'slow', 'truncated'] as const) {
    expect(by(p[role]).state, role).toBe('done');
    expect(by(p[role]).analyses, role).toBe(1);
    expect(by(p[role]).bucketId, role).toBeGreaterThan(0);
  }
  // the slowly written one was taken only once complete, under its final name
  expect(ds.some((d) => d.path === cd.slowIncomplete)).toBe(false);
  expect(by(p.slow).incomplete).toBe(false);
  expect(by(p.slow).truncated).toBe(false);
  // the capture cut short is analysed and marked
  expect(by(p.truncated).truncated).toBe(true);
  expect(by(p.oopsA).truncated).toBe(false);
  // the file that cannot be opened: failed, with the typed error's one line naming the file
  expect(by(p.broken).state).toBe('failed');
  expect(by(p.broken).error).toMatch(new RegExp(`^${p.broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: file ends inside`));
  expect(by(p.broken).error).not.toContain('\n');
  expect(by(p.broken).analyses).toBe(0);
  // the non-dump is rejected by content
  expect(by(p.nonDump).state).toBe('rejected');
  expect(by(p.nonDump).error).toBe('not a dump (content)');

  // buckets: the same bug twice shares one, the same crash written twice is a copy of the first
  expect(by(p.oopsA).bucketId).toBe(by(p.oopsB).bucketId);
  expect(by(p.sysrqLzo).bucketId).toBe(by(p.sysrqZlib).bucketId);
  const copy = [by(p.sysrqLzo), by(p.sysrqZlib)].find((d) => d.duplicateOf !== null);
  expect(copy).toBeDefined();
  expect([by(p.sysrqLzo).id, by(p.sysrqZlib).id]).toContain(copy.duplicateOf);
  const distinct = new Set([by(p.oopsA).bucketId, by(p.sysrqLzo).bucketId, by(p.slow).bucketId]);
  expect(distinct.size).toBe(3);

  // the HTTP API. /api/dumps, a page at a time: the pages hold every dump once, in id order, whatever the page size
  const ids = ds.map((d) => d.id);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  for (const limit of [1, 3, 8, 100]) expect((await allDumps(base, '', limit)).map((d) => d.id), `limit=${limit}`).toEqual(ids);
  const first = await getJson(`${base}/api/dumps`);
  expect(first).toMatchObject({ nextCursor: null });
  expect(first.dumps.map((d: Json) => d.id)).toEqual(ids); // 8 dumps: one default page
  const full = await getJson(`${base}/api/dumps?limit=8`);
  expect(full.nextCursor).toBeNull(); // exactly a page: no empty page after it
  const two = await getJson(`${base}/api/dumps?limit=2`);
  expect((await getJson(`${base}/api/dumps?limit=2&cursor=${two.nextCursor}`)).dumps.map((d: Json) => d.id)).toEqual(ids.slice(2, 4));
  expect((await allDumps(base, '&state=done', 2)).map((d) => d.id)).toEqual(ds.filter((d) => d.state === 'done').map((d) => d.id));
  for (const bad of ['limit=0', 'limit=1001', 'limit=x', 'cursor=abc', 'cursor=-1', 'cursor=0', 'state=nope']) {
    expect((await fetch(`${base}/api/dumps?${bad}`)).status, bad).toBe(400);
  }
  const buckets: Json[] = await getJson(`${base}/api/buckets`);
  const oopsBucket = buckets.find((b) => b.id === by(p.oopsA).bucketId);
  expect(oopsBucket).toMatchObject({ files: 2, count: 2, kind: by(p.oopsA).kind });
  expect(buckets.find((b) => b.id === by(p.sysrqLzo).bucketId)).toMatchObject({ files: 2, count: 1 });
  const one = await getJson(`${base}/api/dumps/${by(p.oopsB).id}`);
  expect(one.path).toBe(p.oopsB);
  expect(one.sections.map((s: Json) => s.name)).toContain('signature');
  const sig = await getJson(`${base}/api/dumps/${by(p.oopsB).id}/report/signature`);
  expect(sig.class.title).toBe(one.title);
  const sys = await (await fetch(`${base}/api/dumps/${by(p.oopsB).id}/report/sys?format=text`)).text();
  expect(sys).toContain(p.oopsB);
  const similar: Json[] = await getJson(`${base}/api/similar/${by(p.oopsB).id}`);
  expect(similar[0].id).toBe(by(p.oopsA).id);
  expect(similar[0].score).toBeGreaterThanOrEqual(0.75);
  const api = await getJson(`${base}/openapi.json`);
  for (const route of ['/api/buckets', '/api/dumps', '/api/dumps/{id}', '/api/dumps/{id}/report/{section}', '/api/similar/{id}']) expect(Object.keys(api.paths)).toContain(route);
  const listing = api.paths['/api/dumps'].get;
  expect(listing.parameters.map((x: Json) => x.name).sort()).toEqual(['cursor', 'limit', 'state']);
  expect(Object.keys(listing.responses['200'].content['application/json'].schema.properties).sort()).toEqual(['dumps', 'nextCursor']);
  await checkPages(base, ds, by(p.oopsA), by(p.oopsB), by(p.broken));
  // no way out of the database through a URL
  expect((await fetch(`${base}/api/dumps/${by(p.oopsA).id}/report/..%2F..%2F..%2Fetc%2Fpasswd`)).status).toBe(400);
  expect((await fetch(`${base}/api/dumps/..%2Fetc`)).status).toBe(400);
  expect((await fetch(`${base}/api/buckets`, { method: 'POST' })).status).toBe(404);
}

const escHtml = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const getText = async (url: string): Promise<{ status: number; type: string; body: string }> => {
  const r = await fetch(url, { redirect: 'manual' });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
};
const hrefs = (html: string): string[] => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));

/** the pages are the HTML report's (src/report/html), drawn from the database: its structure, its links, its assets */
async function checkPages(base: string, ds: Json[], a: Json, b: Json, broken: Json): Promise<void> {
  const fleet = await getText(`${base}/`);
  expect(fleet.status).toBe(200);
  expect(fleet.type).toMatch(/^text\/html/);
  // the report's fleet page: its sections, a bucket section per bucket, every dump in the table
  for (const id of ['buckets', 'affected', 'dumps']) expect(fleet.body).toContain(`<section id="${id}"`);
  expect(fleet.body).toContain('<script src="assets/vaat-report.js">');
  expect(fleet.body).toContain(`id="bucket-${a.bucketId}"`);
  for (const d of ds) {
    if (d.state === 'done') expect(hrefs(fleet.body), d.path).toContain(`dumps/${d.id}`);
  }
  // both of a bucket's members are listed in its section, linked to their pages
  const section = fleet.body.slice(fleet.body.indexOf(`id="bucket-${a.bucketId}"`)).split('</details>')[0];
  for (const m of [a, b]) expect(section).toContain(`href="dumps/${m.id}"`);
  expect(fleet.body).toContain(escHtml(broken.error));

  // a dump's page: the report's dump page, with the service's section first
  const page = await getText(`${base}/dumps/${a.id}`);
  expect(page.status).toBe(200);
  for (const id of ['service', 'panic', 'waits', 'runq', 'tasks', 'stacks', 'cgroups', 'cpus', 'log', 'modules', 'similar', 'files']) {
    expect(page.body, id).toContain(`<section id="${id}"`);
  }
  expect(page.body.indexOf('<section id="service"')).toBeLessThan(page.body.indexOf('<section id="panic"'));
  expect(page.body).toContain(`<h1>${escHtml(a.title)}</h1>`);
  // its bucket, and its most similar dump (the other of the same bug), linked
  expect(page.body).toContain(`href="../#bucket-${a.bucketId}"`);
  const similar = page.body.slice(page.body.indexOf('<section id="similar"')).split('</section>')[0];
  expect(similar).toContain(`href="${b.id}"`);
  // the analyses the test ran (sys, log) have their data on the page: the kernel log's records
  expect(page.body).toMatch(/<ol class="log"/);
  // every link the page makes resolves on the server (report files, assets, API, fleet page)
  const links = [...new Set(hrefs(page.body).filter((h) => !h.startsWith('#') && !/^(https?:)?\/\//.test(h)))];
  expect(links).toEqual(expect.arrayContaining([`${a.id}/files/sys.txt`, `${a.id}/files/sys.json`, `${a.id}/files/summary.json`, '../assets/vaat-report.css']));
  for (const h of links) {
    const r = await getText(new URL(h, `${base}/dumps/${a.id}`).href);
    expect(r.status, h).toBe(200);
  }
  const sysTxt = await getText(`${base}/dumps/${a.id}/files/sys.txt`);
  expect(sysTxt.type).toMatch(/^text\/plain/);
  expect(sysTxt.body).toContain(a.path);
  expect(JSON.parse((await getText(`${base}/dumps/${a.id}/files/signature.json`)).body).class.title).toBe(a.title);
  expect(JSON.parse((await getText(`${base}/dumps/${a.id}/files/summary.json`)).body).analyses.map((x: Json) => x.file).sort()).toEqual(['log', 'signature', 'sys']);
  expect((await getText(`${base}/assets/vaat-report.js`)).type).toMatch(/javascript/);
  for (const bad of ['assets/other.js', `dumps/${a.id}/files/..%2Fsummary.json`, `dumps/${a.id}/files/bt-a.json`, `dumps/${a.id}/files/x.html`, 'dumps/999999']) {
    expect((await getText(`${base}/${bad}`)).status, bad).toBeGreaterThanOrEqual(400);
  }
  // the worker wrote the same renderer's page into the dump's report directory, beside its files, with the assets it loads
  const onDisk = readFileSync(join(a.reportDir, 'index.html'), 'utf8');
  expect(onDisk).toContain(`<h1>${escHtml(a.title)}</h1>`);
  expect(onDisk).toContain('<script src="../../assets/vaat-report.js">');
  expect(existsSync(join(a.reportDir, '../../assets/vaat-report.js'))).toBe(true);
  expect(existsSync(join(a.reportDir, 'sys.txt'))).toBe(true);
  // a dump that failed has a page saying why
  const failed = await getText(`${base}/dumps/${broken.id}`);
  expect(failed.status).toBe(200);
  expect(failed.body).toContain(escHtml(broken.error));
  // /buckets/ID is its section of the fleet page
  const bucket = await fetch(`${base}/buckets/${a.bucketId}`, { redirect: 'manual' });
  expect(bucket.status).toBe(302);
  expect(new URL(bucket.headers.get('location')!, `${base}/buckets/${a.bucketId}`).href).toBe(`${base}/#bucket-${a.bucketId}`);
}

describe('pieces', () => {
  it('index keys: a frame names candidates within its class only; copies and exact matches have their own keys', () => {
    const sig = (kind: string, frames: string[], deliberate = false): Json => ({
      identity: { crashTime: 1, buildId: 'b', nodename: 'h', panicCpu: 0, panicPid: 1, panicTask: '0x1' },
      class: { kind, title: `${kind} in ${frames[0]}`, deliberate }, frames: { guilty: frames[0], relevant: frames, top: frames },
      state: { lockGraph: { available: true, edges: [{ lock: 'cgroup_mutex', ownerIn: 'x' }], cycles: 0 }, blocked: null },
    });
    expect(candidateKeys(sig('gpf', ['a', 'b']))).toEqual(['frame:gpf|a', 'frame:gpf|b']);
    expect(candidateKeys(sig('sysrq', ['sysrq_handle_crash'], true))).toEqual(['state:sysrq|lock:cgroup_mutex', 'state:sysrq|owner:cgroup_mutex@x']);
    expect(candidateKeys(sig('gpf', ['a']), 0.5)).toContain('class:gpf');
    const keys = indexKeys(sig('gpf', ['a']));
    expect(keys.some((k) => k.startsWith('dup:'))).toBe(true);
    expect(keys).toContain('exact:gpf|gpf in a|a');
  });

  it('--map-path and --listen', () => {
    const m = parsePathMap(['/var/crash=/mnt/crash/']);
    expect(mapPath(m, '/var/crash/h-1/vmcore')).toBe('/mnt/crash/h-1/vmcore');
    expect(mapPath(m, '/var/crashes/x')).toBe('/var/crashes/x');
    expect(() => parsePathMap(['nothing'])).toThrow(/FROM=TO/);
    expect(parseListen(undefined)).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('x:99999')).toThrow(/range/);
  });
});

describe('vaat serve, embedded: SQLite and worker processes in one service', () => {
  let cd: CrashDir;
  let data: string;
  let serve: Proc | undefined;
  let base: string;
  let ds: Json[];
  const args = (): string[] => ['serve', '--crash-dir', cd.root, '--listen', '127.0.0.1:0', '--settle', '1s', '-j', '2', '--analyses', ANALYSES];
  beforeAll(async () => {
    cd = makeCrashDir();
    data = mkdtempSync(join(tmpdir(), 'vaat-data-'));
    serve = start(args(), { XDG_DATA_HOME: data });
    base = await served(serve);
    await writeSlowly(cd);
    ds = await settled(base, cd, serve);
  }, SETUP_MS);
  afterAll(async () => {
    await stop(serve);
    if (cd) rmSync(cd.root, { recursive: true, force: true });
    if (data) rmSync(data, { recursive: true, force: true });
  });

  it('every dump analysed once, in its bucket; the truncated one marked, the broken one failed, the non-dump rejected; all over HTTP', async () => {
    await checkResults(base, cd, ds);
    // the analyses asked for, and the signature
    expect((await getJson(`${base}/api/dumps/${ds.find((d: Json) => d.path === cd.paths.oopsA).id}`)).sections.map((x: Json) => x.name).sort()).toEqual(['log', 'signature', 'sys']);
    expect(ds.every((d: Json) => d.attempts <= 1)).toBe(true);
  });

  it('its pages draw in chromium as the HTML report does: charts drawn, no script errors, nothing fetched from elsewhere', { timeout: SETUP_MS }, async () => {
    if (!haveChromium()) throw new Error(`no browser at ${CHROMIUM}: scripts/setup.sh --with-test-tools installs Debian's chromium`);
    const { browser, close } = await launchChromium();
    try {
      const a = ds.find((d: Json) => d.path === cd.paths.oopsA);
      for (const [url, want] of [[`${base}/`, ['hosts', 'kernels', 'time']], [`${base}/dumps/${a.id}`, null]] as const) {
        const { page, errors, requests: elsewhere, status } = await openPage(browser, url, (u) => u.startsWith(`${base}/`));
        expect(status, url).toBe(200);
        const drawn = await page.$$eval('[data-chart]', (els) => els.map((el) => {
          const r = el.querySelector('svg')?.getBoundingClientRect();
          return { key: (el as HTMLElement).dataset.chart ?? '', area: (r?.width ?? 0) * (r?.height ?? 0) };
        }));
        expect(errors, url).toEqual([]);
        expect(elsewhere, url).toEqual([]);
        if (want) expect(drawn.map((c) => c.key).sort(), url).toEqual(want);
        expect(drawn.length, url).toBeGreaterThan(0);
        for (const c of drawn) expect(c.area, `${url} ${c.key}`).toBeGreaterThan(0);
        await page.close();
      }
    } finally { await close(); }
  });

  it('the buckets are the ones vaat triage gives for the whole directory at once', { timeout: SETUP_MS }, async () => {
    const t = await vaatJson(['triage', '-d', cd.root]);
    const analysed = ds.filter((d: Json) => d.state === 'done');
    for (const a of analysed) {
      for (const b of analysed) {
        expect(a.bucketId === b.bucketId, `${a.path} / ${b.path}`).toBe(t.assignment[a.path] === t.assignment[b.path]);
      }
    }
  });

  it('the database is under $XDG_DATA_HOME/vaat; a restart analyses nothing again; a failed dump is retried only once it changes', async () => {
    const status = await getJson(`${base}/api/status`);
    expect(status.database).toBe(join(data, 'vaat', 'service.sqlite'));
    await stop(serve);
    serve = start(args(), { XDG_DATA_HOME: data });
    base = await served(serve);
    // the rescan on start has seen every file again once the settle time has passed
    await new Promise((r) => setTimeout(r, 4000));
    const again: Json[] = await allDumps(base);
    for (const d of ds) {
      const e = again.find((x) => x.id === d.id);
      expect(e, d.path).toMatchObject({ state: d.state, attempts: d.attempts, analyses: d.analyses, analysedAt: d.analysedAt });
    }
    const broken = again.find((x) => x.path === cd.paths.broken);
    appendFileSync(cd.paths.broken, Buffer.alloc(512));
    const retried = await waitFor('the changed dump to be analysed again', async () => {
      const d = await getJson(`${base}/api/dumps/${broken.id}`);
      return d.state === 'failed' && d.attempts === broken.attempts + 1 ? d : null;
    }, SETUP_MS, serve);
    // a new error for the new file, still one line naming it
    expect(retried.error.startsWith(`${cd.paths.broken}: `)).toBe(true);
    expect(retried.analysedAt).toBeGreaterThan(broken.analysedAt);
  }, SETUP_MS);
});

describe('vaat serve --queue redis --db postgres with two vaat workers, one killed mid-job', () => {
  let redis: Service | undefined, pg: Service | undefined;
  let cd: CrashDir;
  let reports: string;
  let serve: Proc | undefined;
  const workers: Proc[] = [];
  let base: string;
  let ds: Json[];
  let killed: Json;
  beforeAll(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    cd = makeCrashDir();
    reports = mkdtempSync(join(tmpdir(), 'vaat-reports-'));
    const q = ['--queue', redis.url, '--db', pg.url, '--lock', '2s'];
    serve = start(['serve', '--crash-dir', cd.root, ...q, '--listen', '127.0.0.1:0', '--settle', '1s']);
    base = await served(serve);
    for (const name of ['w1', 'w2']) workers.push(start(['worker', ...q, '--name', name, '--reports', join(reports, name), '--analyses', ANALYSES]));
    // w1 is killed as soon as it is analysing a dump: its job must go to w2
    killed = await waitFor('w1 to take a job', async () => (await allDumps(base, '&state=analysing')).find((d) => d.worker === 'w1'), SETUP_MS, serve);
    await stop(workers[0], 'SIGKILL');
    await writeSlowly(cd);
    ds = await settled(base, cd, workers[1]);
  }, SETUP_MS);
  afterAll(async () => {
    for (const w of workers) await stop(w);
    await stop(serve);
    await redis?.stop();
    await pg?.stop();
    if (cd) rmSync(cd.root, { recursive: true, force: true });
    if (reports) rmSync(reports, { recursive: true, force: true });
  });

  it('every dump analysed once, in its bucket; the truncated one marked, the broken one failed, the non-dump rejected; all over HTTP', async () => {
    await checkResults(base, cd, ds);
  });

  it("the killed worker's dump was taken over by the other and stored once", () => {
    const d = ds.find((x: Json) => x.id === killed.id);
    // the one file that cannot be opened fails on w2 as it would have on w1; every other is stored once
    const broken = d.path === cd.paths.broken;
    expect(d.state).toBe(broken ? 'failed' : 'done');
    expect(d.worker).toBe('w2');
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(d.analyses).toBe(broken ? 0 : 1);
    expect(d.deadLetter).toBe(false);
  });

  it('the queue is BullMQ and the database PostgreSQL', async () => {
    const s = await getJson(`${base}/api/status`);
    expect(s.database).toMatch(/^127\.0\.0\.1:\d+\/postgres$/);
    expect(s.queue.failed).toBe(0);
    expect(s.queue.completed).toBeGreaterThanOrEqual(6);
    expect(await getJson(`${base}/api/dead-letters`)).toEqual([]);
  });
});
