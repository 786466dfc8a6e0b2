// Fleet service bench: N vmcores (copies of the fixtures, every format and kernel) dropped into a
// watched crash directory at once, as kdump does (written aside, renamed in), and the service
// left to analyse and bucket them: dumps per minute (first arrival to last bucketed) and each
// dump's time from arrival to bucket, for the embedded default (`vaat serve`, SQLite, worker
// processes = CPUs) and for 1, 2 and 4 `vaat worker`s on BullMQ/Redis + PostgreSQL started here.
// Every analysis is the full report (12 analyses) plus the signature and bucketing.
//   node bench/service.mjs [--count 12] [--workers 1,2,4] [--no-embedded]
import { spawn } from 'node:child_process';
import { copyFileSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, fixtureDumps, printTable } from './common.mjs';
import { startPostgres, startRedis } from '../test/services.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const COUNT = Number(opt('--count', 12));
const WORKERS = opt('--workers', '1,2,4').split(',').filter(Boolean).map(Number);
const EMBEDDED = !argv.includes('--no-embedded');
const SETTLE = '500ms';
const bin = join(root, 'bin', 'vaat.js');
const cpus = availableParallelism();

function start(args, env = {}) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const p = { child, stderr: '', exited: new Promise((r) => child.once('exit', r)) };
  child.stderr.on('data', (d) => { p.stderr += d; });
  return p;
}
async function stop(p) { if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGTERM'); await p.exited; } }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, ms, p) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${p?.stderr.slice(-1500) ?? ''}`);
    await sleep(200);
  }
}

// the dumps, copied once into a staging directory on the same file system as the crash directory
const fixtures = fixtureDumps();
const work = mkdtempSync(join(tmpdir(), 'vaat-service-bench-'));
const staging = join(work, 'staging');
mkdirSync(staging);
process.stderr.write(`copying ${COUNT} vmcores into ${staging} ...\n`);
for (let i = 0; i < COUNT; i++) copyFileSync(fixtures[i % fixtures.length].path, join(staging, String(i)), constants.COPYFILE_FICLONE);

/** one run: serve (+ workers) up, the dumps renamed in together, until every one is in a bucket */
async function run(label, { queue, db, workers }) {
  const crash = join(work, `crash-${label.replace(/\W+/g, '-')}`);
  const data = join(work, `data-${label.replace(/\W+/g, '-')}`);
  mkdirSync(crash);
  const q = queue ? ['--queue', queue, '--db', db] : [];
  const serve = start(['serve', '--crash-dir', crash, ...q, '--listen', '127.0.0.1:0', '--settle', SETTLE, '--rescan', '0', ...(queue ? [] : ['-j', String(cpus)])], { XDG_DATA_HOME: data });
  const base = await waitFor('serve', async () => /serving (http:\/\/\S+)/.exec(serve.stderr)?.[1], 60_000, serve);
  const ws = [];
  for (let i = 0; i < (workers ?? 0); i++) ws.push(start(['worker', ...q, '--name', `w${i + 1}`, '--reports', join(data, `w${i + 1}`)]));
  await sleep(queue ? 3000 : 1000); // workers connected
  const t0 = Date.now();
  for (let i = 0; i < COUNT; i++) {
    const d = join(crash, `host${String(i).padStart(4, '0')}-2026-11-21-21:41`);
    mkdirSync(d);
    renameSync(join(staging, String(i)), join(d, 'vmcore'));
  }
  const dumps = await waitFor('every dump bucketed', async () => {
    // /api/dumps is paged: follow the cursors
    const r = [];
    for (let cursor = null; ;) {
      const page = await (await fetch(`${base}/api/dumps?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).json();
      r.push(...page.dumps);
      if (!(cursor = page.nextCursor)) break;
    }
    return r.length === COUNT && r.every((x) => x.state === 'done' || x.state === 'failed') ? r : null;
  }, 60 * 60_000, serve);
  const t1 = Math.max(...dumps.map((d) => d.bucketedAt ?? d.analysedAt));
  // the dumps go back to staging for the next run
  for (let i = 0; i < COUNT; i++) renameSync(join(crash, `host${String(i).padStart(4, '0')}-2026-11-21-21:41`, 'vmcore'), join(staging, String(i)));
  for (const w of ws) await stop(w);
  await stop(serve);
  const lat = dumps.map((d) => (d.bucketedAt ?? d.analysedAt) - t0).sort((a, b) => a - b);
  const ana = dumps.map((d) => d.analysisMs).filter((x) => x !== null).sort((a, b) => a - b);
  const q50 = (xs) => xs[Math.floor((xs.length - 1) / 2)];
  const q95 = (xs) => xs[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
  return {
    label, done: dumps.filter((d) => d.state === 'done').length, failed: dumps.filter((d) => d.state === 'failed').length,
    perMin: COUNT / ((t1 - t0) / 60_000), wall: (t1 - t0) / 1000,
    latMed: q50(lat) / 1000, latP95: q95(lat) / 1000, anaMed: q50(ana) / 1000,
    buckets: new Set(dumps.map((d) => d.bucketId).filter(Boolean)).size,
  };
}

const results = [];
try {
  if (EMBEDDED) results.push(await run(`embedded (SQLite, ${cpus} processes)`, {}));
  for (const n of WORKERS) {
    const [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    try { results.push(await run(`${n} worker${n > 1 ? 's' : ''} (BullMQ + PostgreSQL)`, { queue: redis.url, db: pg.url, workers: n })); } finally { await redis.stop(); await pg.stop(); }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`${COUNT} vmcores (copies of ${fixtures.length} fixture dumps) renamed into a watched directory at once; ${cpus} CPUs; settle ${SETTLE}`);
printTable(
  ['setup', 'dumps/min', 'all done (s)', 'arrival→bucket median (s)', 'p95 (s)', 'analysis per dump median (s)', 'buckets', 'failed'],
  results.map((r) => [r.label, r.perMin.toFixed(1), r.wall.toFixed(1), r.latMed.toFixed(1), r.latP95.toFixed(1), r.anaMed.toFixed(1), r.buckets, r.failed]),
);
const base = results[0];
if (base) for (const r of results.slice(1)) console.log(`${r.label}: ${(r.perMin / base.perMin).toFixed(2)}× the embedded default's throughput`);
