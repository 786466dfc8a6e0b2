/**
 * The vaat fuzzer. `npm run fuzz -- --minutes N` (or `--inputs N`), `--seed S`, `--jobs J`,
 * `--json`. Runs damaged copies of the fixtures (fuzz/mutate.ts) through the library and the
 * native addon in worker processes (fuzz/runner.ts) and checks: no signal (crash), no hang (a
 * per-input limit), no untyped error, peak RSS within 2x the intact analyses' plus a fixed
 * bound. Input i of seed S is the same everywhere: `--only i` reruns one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromRunner, ToRunner } from './runner.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface FuzzOptions {
  seed: number;
  /** run this many inputs (from index `from`) ... */
  inputs?: number;
  /** ... or as many as fit in this many minutes */
  minutes?: number;
  from?: number;
  only?: number[];
  jobs?: number;
  /** per-input limit: longer is a hang */
  timeoutMs?: number;
  /** fixed part of the memory bound, added to 2x the intact analyses' peak RSS */
  memorySlackMiB?: number;
  /** inputs per worker process before a fresh one takes over (peak RSS is per process: this keeps it per stretch of inputs) */
  recycleAfter?: number;
  /** the package root (where dist/ and ../shared/fixtures are) */
  root?: string;
  onProgress?(done: number, s: FuzzSummary): void;
  /** each crash, hang or untyped error as it is found */
  onFinding?(label: string, f: Finding): void;
}

export interface Finding { index: number; seed: string; kind: string; what: string; detail: string }

export interface FuzzSummary {
  seed: number;
  inputs: number;
  ok: number;
  typed: Record<string, number>;
  crashes: Finding[];
  hangs: Finding[];
  untyped: Finding[];
  memory: Finding[];
  byKind: Record<string, number>;
  /** seconds spent in inputs, per kind (the workers' own clocks) */
  secondsByKind: Record<string, number>;
  /** worker processes started, and seconds they spent starting (copies, traces, tables) */
  workers: number;
  startupSeconds: number;
  baselineRssMiB: number;
  maxRssMiB: number;
  boundMiB: number;
  minutes: number;
}

interface Runner { child: ChildProcess; slot: number; busy: number | null; timer?: NodeJS.Timeout; started: number; stderr: string; hung?: boolean; done: number; retiring?: boolean }

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const root = o.root ?? resolve(HERE, '..', '..');
  const work = mkdtempSync(join(process.env.VAAT_FUZZ_TMP ?? tmpdir(), 'vaat-fuzz-'));
  const jobs = o.jobs ?? 2;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const slack = o.memorySlackMiB ?? 256;
  const t0 = Date.now();
  const deadline = o.minutes !== undefined ? t0 + o.minutes * 60_000 : Infinity;
  const queue = o.only ? [...o.only] : undefined;
  let next = o.from ?? 0;
  const last = o.inputs !== undefined ? next + o.inputs : Infinity;
  const s: FuzzSummary = {
    seed: o.seed, inputs: 0, ok: 0, typed: {}, crashes: [], hangs: [], untyped: [], memory: [], byKind: {}, secondsByKind: {},
    workers: 0, startupSeconds: 0, baselineRssMiB: 0, maxRssMiB: 0, boundMiB: 0, minutes: 0,
  };
  const meta = new Map<number, { seed: string; kind: string; what: string }>();
  const runners = new Set<Runner>();
  const take = (): number | undefined => {
    if (Date.now() >= deadline) return undefined;
    if (queue) return queue.shift();
    return next < last ? next++ : undefined;
  };

  await new Promise<void>((finish) => {
    let slots = 0;
    const maybeFinish = (): void => { if (runners.size === 0) finish(); };
    const recycle = o.recycleAfter ?? 5000;
    const dispatch = (r: Runner): void => {
      if (r.done >= recycle) { r.retiring = true; r.busy = null; r.child.send({ type: 'exit' } satisfies ToRunner); return; }
      const i = take();
      if (i === undefined) { r.busy = null; r.child.send({ type: 'exit' } satisfies ToRunner); return; }
      r.busy = i;
      r.started = Date.now();
      r.timer = setTimeout(() => { r.hung = true; r.child.kill('SIGKILL'); }, timeoutMs);
      r.child.send({ type: 'input', index: i } satisfies ToRunner);
    };
    const spawnRunner = (slot: number): void => {
      const child = fork(join(HERE, 'runner.js'), [root, work, String(o.seed), String(slot)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
      const r: Runner = { child, slot, busy: null, started: 0, stderr: '', done: 0 };
      runners.add(r);
      child.stderr?.on('data', (d: Buffer) => { r.stderr = (r.stderr + d.toString()).slice(-4000); });
      child.on('message', (m: FromRunner) => {
        if (m.type === 'ready') {
          s.workers++;
          s.startupSeconds += m.startMs / 1000;
          if (process.env.VAAT_FUZZ_VERBOSE) process.stderr.write(`fuzz: worker ${r.slot} ready in ${(m.startMs / 1000).toFixed(1)} s\n`);
          const base = m.baselineRssKiB / 1024;
          s.baselineRssMiB = Math.max(s.baselineRssMiB, base);
          s.boundMiB = 2 * s.baselineRssMiB + slack;
          dispatch(r);
          return;
        }
        if (m.type === 'start') return;
        clearTimeout(r.timer);
        r.done++;
        s.inputs++;
        s.byKind[m.kind] = (s.byKind[m.kind] ?? 0) + 1;
        s.secondsByKind[m.kind] = (s.secondsByKind[m.kind] ?? 0) + m.ms / 1000;
        meta.set(m.index, { seed: m.seed, kind: m.kind, what: m.what });
        const rss = m.maxRssKiB / 1024;
        if (rss > s.boundMiB && s.boundMiB > 0 && rss > s.maxRssMiB) {
          const f = { index: m.index, seed: m.seed, kind: m.kind, what: m.what, detail: `peak RSS ${rss.toFixed(0)} MiB > bound ${s.boundMiB.toFixed(0)} MiB` };
          s.memory.push(f);
          o.onFinding?.('memory', f);
        }
        s.maxRssMiB = Math.max(s.maxRssMiB, rss);
        for (const t of m.typed) s.typed[t] = (s.typed[t] ?? 0) + 1;
        for (const u of m.untyped) {
          const f = { index: m.index, seed: m.seed, kind: m.kind, what: m.what, detail: `${u.step}: ${u.name}: ${u.message} ${u.at}` };
          s.untyped.push(f);
          o.onFinding?.('untyped', f);
        }
        if (!m.typed.length && !m.untyped.length) s.ok++;
        o.onProgress?.(s.inputs, s);
        dispatch(r);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(r.timer);
        runners.delete(r);
        if (r.busy !== null) {
          const i = r.busy;
          const m = meta.get(i) ?? { seed: '?', kind: '?', what: '?' };
          s.inputs++;
          const f: Finding = { index: i, ...m, detail: r.hung ? `no result after ${timeoutMs / 1000} s` : `worker ended by ${signal ?? `exit ${code}`}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
          (r.hung ? s.hangs : s.crashes).push(f);
          o.onFinding?.(r.hung ? 'hang' : 'crash', f);
          r.busy = null;
          spawnRunner(r.slot); // the next inputs still run
          return;
        }
        const workLeft = Date.now() < deadline && (queue ? queue.length > 0 : next < last);
        if (r.retiring && code === 0 && workLeft) { spawnRunner(r.slot); return; }
        if (code !== 0 && s.inputs === 0) {
          s.crashes.push({ index: -1, seed: '-', kind: 'start-up', what: 'runner start-up', detail: r.stderr.trim().split('\n').slice(-5).join(' | ') });
        }
        maybeFinish();
      });
    };
    for (; slots < jobs; slots++) spawnRunner(slots);
  });
  rmSync(work, { recursive: true, force: true });
  s.minutes = (Date.now() - t0) / 60_000;
  return s;
}

/** the figures as a table for people */
export function formatSummary(s: FuzzSummary): string {
  const typed = Object.entries(s.typed).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    `seed ${s.seed}: ${s.inputs} inputs in ${s.minutes.toFixed(1)} min (${Object.entries(s.byKind).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `  time            ${(s.inputs / (s.minutes * 60)).toFixed(1)} inputs/s; in inputs ${Object.entries(s.secondsByKind).map(([k, v]) => `${k} ${v.toFixed(0)} s (${((1000 * v) / s.byKind[k]).toFixed(0)} ms each)`).join(', ')}; ${s.workers} workers started in ${s.startupSeconds.toFixed(0)} s`,
    `  clean runs      ${s.ok}`,
    `  typed errors    ${typed || 'none'}`,
    `  crashes         ${s.crashes.length}`,
    `  hangs           ${s.hangs.length}`,
    `  untyped errors  ${s.untyped.length}`,
    `  memory          max RSS ${s.maxRssMiB.toFixed(0)} MiB (bound ${s.boundMiB.toFixed(0)} MiB = 2 x ${s.baselineRssMiB.toFixed(0)} MiB intact + slack); over bound: ${s.memory.length}`,
  ];
  for (const [label, list] of [['crash', s.crashes], ['hang', s.hangs], ['untyped', s.untyped], ['memory', s.memory]] as const) {
    for (const f of list.slice(0, 20)) lines.push(`  ${label} #${f.index} (${f.seed}, ${f.kind}: ${f.what}): ${f.detail}`);
  }
  return lines.join('\n') + '\n';
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const num = (n: string): number | undefined => { const v = arg(argv, n); return v === undefined ? undefined : Number(v); };
  const minutes = num('--minutes'), inputs = num('--inputs');
  const only = arg(argv, '--only')?.split(',').map(Number);
  const opts: FuzzOptions = {
    seed: num('--seed') ?? 1,
    ...(minutes !== undefined ? { minutes } : {}),
    ...(inputs !== undefined ? { inputs } : minutes === undefined && !only ? { inputs: 2000 } : {}),
    ...(only ? { only } : {}),
    ...(num('--from') !== undefined ? { from: num('--from') } : {}),
    ...(num('--jobs') !== undefined ? { jobs: num('--jobs') } : {}),
    ...(num('--timeout') !== undefined ? { timeoutMs: num('--timeout')! * 1000 } : {}),
    onFinding: (label, f) => { process.stderr.write(`fuzz: ${label} #${f.index} (${f.seed}, ${f.kind}: ${f.what}): ${f.detail}\n`); },
    onProgress: (n, s) => { if (n % 500 === 0) process.stderr.write(`fuzz: ${n} inputs, ${s.crashes.length} crashes, ${s.hangs.length} hangs, ${s.untyped.length} untyped, max RSS ${s.maxRssMiB.toFixed(0)} MiB\n`); },
  };
  const s = await runFuzz(opts);
  process.stdout.write(argv.includes('--json') ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s));
  return s.crashes.length || s.hangs.length || s.untyped.length || s.memory.length ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((c) => { process.exitCode = c; });
}
