/**
 * A fuzz worker process (forked by fuzz/fuzz.ts): makes private copies of the seeds, records the
 * kernel memory the intact analyses read, then runs inputs by index as the parent sends them,
 * reporting each outcome and its peak RSS. A native crash or a hang takes only this process: the
 * parent sees which input it was on.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Dump } from '../src/dump/dump.js';
import { Vmcore } from '../src/vmcore.js';
import { mutation, ANALYSES, type FuzzContext } from './mutate.js';
import { OverlayDump } from './overlay.js';
import { runAnalysis, runInput, type RunContext } from './run-input.js';
import { btfPath, MEMORY_SEEDS, seedSet } from './seeds-setup.js';
import type { SeedDump } from './seeds.js';

export type ToRunner = { type: 'input'; index: number } | { type: 'exit' };
export type FromRunner =
  | { type: 'ready'; baselineRssKiB: number; seeds: number; traced: number }
  | { type: 'start'; index: number }
  | { type: 'done'; index: number; kind: string; seed: string; what: string; typed: string[]; untyped: { step: string; name: string; message: string; at: string }[]; ms: number; maxRssKiB: number };

const [root, work, seedArg, slot] = process.argv.slice(2);
const seed = Number(seedArg);
const send = (m: FromRunner): void => { process.send?.(m); };

const mine = join(work, `runner-${slot}-${process.pid}`);
mkdirSync(mine, { recursive: true });
process.on('exit', () => rmSync(mine, { recursive: true, force: true }));

const seeds: SeedDump[] = seedSet(root, work);
const copies = new Map<string, string>();
for (const s of seeds) { const c = join(mine, s.name); copyFileSync(s.path, c); copies.set(s.name, c); }
const vmcoreinfoText = new Map<string, Buffer>();
const textOf = (s: SeedDump): Buffer => {
  let t = vmcoreinfoText.get(s.name);
  if (!t) {
    const r = s.regions.find((x) => x.name === 'vmcoreinfo');
    t = r ? readFileSync(s.path).subarray(r.start, r.end) : Buffer.alloc(0);
    vmcoreinfoText.set(s.name, t);
  }
  return t;
};

// The intact analyses, traced: the words they read are where memory inputs aim; their peak RSS is the baseline.
const intact = new Map<string, Dump>();
const traces: FuzzContext['traces'] = new Map();
for (const name of MEMORY_SEEDS) {
  const s = seeds.find((x) => x.name === name);
  if (!s) continue;
  const d = Dump.open(s.path);
  intact.set(name, d);
  const tracer = new OverlayDump(d, [], 200_000);
  const vm = new Vmcore(tracer.asDump(), { vmlinux: false });
  for (const a of ANALYSES) { try { await runAnalysis(vm, a); } catch { /* an analysis the intact dump cannot do is not a target */ } }
  traces.set(name, [...tracer.trace].map(([addr, value]) => ({ addr, value })));
}
const btf = readFileSync(btfPath(root));
const ctx: FuzzContext = { seeds, btfSize: btf.length, traces };
const rc: RunContext = { copies, btf, intact, scratch: mine };

process.on('message', (m: ToRunner) => {
  if (m.type === 'exit') { process.exit(0); }
  const mut = mutation(ctx, seed, m.index, textOf);
  send({ type: 'start', index: m.index });
  const t0 = performance.now();
  runInput(mut, rc).then(
    (o) => send({
      type: 'done', index: m.index, kind: mut.kind, seed: 'seed' in mut ? mut.seed : 'btf', what: mut.what, ...o,
      ms: performance.now() - t0, maxRssKiB: process.resourceUsage().maxRSS,
    }),
    (e: unknown) => send({
      type: 'done', index: m.index, kind: mut.kind, seed: 'seed' in mut ? mut.seed : 'btf', what: mut.what, typed: [],
      untyped: [{ step: 'runner', name: 'Error', message: String(e), at: '' }], ms: performance.now() - t0, maxRssKiB: process.resourceUsage().maxRSS,
    }),
  );
});
send({ type: 'ready', baselineRssKiB: process.resourceUsage().maxRSS, seeds: seeds.length, traced: [...traces.values()].reduce((n, t) => n + t.length, 0) });
