// Fleet bench: a directory of N vmcores of one kernel (copies of the fixtures, every format),
// wall time of `vaat report -d` and `vaat triage -d` against one `crash` process per vmcore
// running `sys; bt -a; runq; log`. crash runs on a subset (default 10, as many at once as vaat
// has workers) and is extrapolated to N — the output says so.
//   node bench/fleet.mjs [--count 100] [--crash 10] [--keep]
import { spawnSync, spawn } from 'node:child_process';
import { copyFileSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, benchEnvNote, root, fixtureDumps, printTable, fmt } from './common.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const COUNT = arg('--count', 100);
const CRASH_SUBSET = arg('--crash', 10);
const VMLINUX = '/usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-amd64';
const bin = join(root, 'bin', 'vaat.js');
const workers = availableParallelism();

// copies, not links: discovery counts one file once by (dev, ino)
const dir = mkdtempSync(join(tmpdir(), 'vaat-fleet-bench-'));
const fixtures = fixtureDumps();
process.stderr.write(`copying ${COUNT} vmcores into ${dir} ...\n`);
const files = [];
for (let i = 0; i < COUNT; i++) {
  const f = fixtures[i % fixtures.length];
  const d = join(dir, `host${String(i).padStart(3, '0')}-2026-11-21-21:41`);
  mkdirSync(d);
  const p = join(d, 'vmcore');
  copyFileSync(f.path, p, constants.COPYFILE_FICLONE);
  files.push({ path: p, scenario: f.scenario, format: f.name });
}

function timeVaat(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: benchEnv() });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) process.stderr.write(`vaat ${args.join(' ')}: exit ${r.status}: ${r.stderr}\n`);
  return { s, stdout: r.stdout };
}

const out = join(dir, '..', `${dir.split('/').pop()}-report`);
const report = timeVaat(['report', '-d', dir, '-o', out, '--json']);
const rep = JSON.parse(report.stdout);
const rerun = timeVaat(['report', '-d', dir, '-o', out, '--json']);
const triage = timeVaat(['triage', '-d', dir, '--json']);
const tri = JSON.parse(triage.stdout);
process.stderr.write(`vaat: report ${report.s.toFixed(1)} s, re-run ${rerun.s.toFixed(1)} s, triage ${triage.s.toFixed(1)} s; now crash...\n`);

// crash: one process per vmcore, `workers` at a time (the same parallelism vaat had)
function runCrash(path) {
  return new Promise((res) => {
    const t0 = performance.now();
    const c = spawn('crash', ['-s', VMLINUX, path], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.stdin.on('error', () => { /* crash refused the file and exited before reading its commands */ });
    c.stdin.end('sys\nbt -a\nrunq\nlog\nquit\n');
    c.on('exit', (code) => res({ path, s: (performance.now() - t0) / 1000, ok: code === 0 && !/not a supported file format/.test(err), err: err.trim().split('\n')[0] }));
  });
}
let crashRuns = [];
if (existsSync(VMLINUX) && spawnSync('crash', ['--version']).status === 0) {
  const subset = files.slice(0, CRASH_SUBSET);
  const t0 = performance.now();
  const queue = [...subset];
  await Promise.all(Array.from({ length: workers }, async () => {
    while (queue.length) crashRuns.push(await runCrash(queue.shift().path));
  }));
  crashRuns.wall = (performance.now() - t0) / 1000;
}
const opened = crashRuns.filter((r) => r.ok);
const crashPer = opened.length ? opened.reduce((a, r) => a + r.s, 0) / opened.length : NaN;
// extrapolation: N vmcores at `workers` at a time, each costing the mean of those crash could open
const crashN = (COUNT * crashPer) / workers;

console.log(`\n${COUNT} vmcores (${fixtures.length} fixtures × formats, one kernel), ${workers} workers / ${workers} crash processes at a time\n`);
printTable(['run', 'wall s', 's / vmcore (wall)', 'vs crash'], [
  ['vaat report -d (first run)', fmt(report.s, 1), fmt(report.s / COUNT, 3), fmt(crashN / report.s, 1) + '× faster'],
  ['vaat report -d (re-run, all unchanged)', fmt(rerun.s, 1), fmt(rerun.s / COUNT, 3), '-'],
  ['vaat triage -d', fmt(triage.s, 1), fmt(triage.s / COUNT, 3), fmt(crashN / triage.s, 1) + '× faster'],
  [`crash sys;bt -a;runq;log (${opened.length} of ${crashRuns.length} run, extrapolated to ${COUNT})`, fmt(crashN, 1), fmt(crashN / COUNT, 3), '1'],
]);
console.log(`report: ${rep.written.length} written, ${rep.failed.length} failed; triage: ${tri.buckets.length} buckets over ${tri.dumps} vmcores`);
console.log(`crash: measured ${crashRuns.length} vmcores in ${fmt(crashRuns.wall ?? NaN, 1)} s wall, mean ${fmt(crashPer, 2)} s per vmcore process; `
  + `${crashRuns.length - opened.length} it cannot open (${[...new Set(crashRuns.filter((r) => !r.ok).map((r) => r.err))].join('; ') || 'none'})`);

if (!process.argv.includes('--keep')) { rmSync(dir, { recursive: true, force: true }); rmSync(out, { recursive: true, force: true }); }
console.log(`\n${benchEnvNote}`);
