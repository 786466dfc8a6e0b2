/**
 * A fuzz worker process (forked by fuzz/fuzz.ts): makes private copies of the seeds, records the
 * kernel memory the intact analyses read, then runs inputs by index as the parent sends them,
 * reporting each outcome and its peak RSS. A native crash or a hang takes only this process: the
 * parent sees which input it was on.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { Dump } from '../src/dump/dump.js';
import { Vmcore } from '../src/vmcore.js';
import { orcUnwindInfo } from '../src/arch/x86_64/orc.js';
import { mutation, ANALYSES, type FuzzContext } from './mutate.js';
import { OverlayDump, Ranges } from './overlay.js';
import { runAnalysis, runInput, type RunContext } from './run-input.js';
import { btfPath, MEMORY_SEEDS, seedSet } from './seeds-setup.js';
import type { SeedDump } from './seeds.js';

export type ToRunner = { type: 'input'; index: number } | { type: 'exit' };
export type FromRunner =
  | { type: 'ready'; baselineRssKiB: number; seeds: number; traced: number; startMs: number }
  | { type: 'start'; index: number }
  | { type: 'done'; index: number; kind: string; seed: string; what: string; typed: string[]; untyped: { step: string; name: string; message: string; at: string }[]; ms: number; maxRssKiB: number };

const [root, work, seedArg, slot] = process.argv.slice(2);
const seed = Number(seedArg);
const send = (m: FromRunner): void => { process.send?.(m); };
const t0 = performance.now();

// This slot's private, writable copies of the seeds. A runner that ends normally has put every
// patched byte back and leaves them (marked clean) to its successor; after a crash or a hang the
// successor copies afresh.
const mine = join(work, `slot-${slot}`);
const clean = join(mine, 'clean');
const reuse = existsSync(clean);
mkdirSync(mine, { recursive: true });
rmSync(clean, { force: true });
const seeds: SeedDump[] = seedSet(root, work);
const copies = new Map<string, string>();
for (const s of seeds) { const c = join(mine, s.name); if (!reuse) copyFileSync(s.path, c); copies.set(s.name, c); }
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

// The intact analyses, traced: the words they read are where memory inputs aim; their peak RSS
// is the baseline. The memory read while loading symbols, types and the vmlinux ORC table is
// kept apart: an input that patches none of it runs on the intact vmcore's tables
// (Vmcore.overMemory) instead of loading them again. The first runners trace; their successors load the result from the work directory.
interface Traced { baselineRssKiB: number; seeds: Record<string, { words: BigUint64Array; setup: BigUint64Array }> }
const tracedFile = join(work, 'traced.v8');
const intact = new Map<string, Dump>();
const loaded = new Map<string, { vm: Vmcore; setup: Ranges }>();
const traces: FuzzContext['traces'] = new Map();
let traced: Traced | undefined = existsSync(tracedFile) ? deserialize(readFileSync(tracedFile)) as Traced : undefined;
const fresh: Traced = { baselineRssKiB: 0, seeds: {} };
for (const name of MEMORY_SEEDS) {
  const s = seeds.find((x) => x.name === name);
  if (!s) continue;
  const d = Dump.open(s.path);
  intact.set(name, d);
  const prior = traced?.seeds[name];
  const tracer = new OverlayDump(d);
  const vm = new Vmcore(tracer.asDump(), { vmlinux: false });
  tracer.recording = !prior;
  try {
    void vm.symbols;
    void vm.types;
    if (vm.dump.attrs.arch === 'x86_64') orcUnwindInfo(vm);
  } catch { /* a seed without them still serves the file inputs */ }
  tracer.recording = false;
  // words the analyses read, not the 5 MB of BTF and the tables read above
  if (!prior) tracer.traceLimit = 200_000;
  let setup: Ranges;
  if (prior) {
    const p = prior.setup;
    setup = new Ranges(Array.from({ length: p.length / 2 }, (_, i) => [p[2 * i], p[2 * i + 1]] as [bigint, bigint]));
    traces.set(name, Array.from({ length: prior.words.length / 2 }, (_, i) => ({ addr: prior.words[2 * i], value: prior.words[2 * i + 1] })));
  } else {
    setup = tracer.merged();
    for (const a of ANALYSES) { try { await runAnalysis(vm, a); } catch { /* an analysis the intact dump cannot do is not a target */ } }
    const words = [...tracer.trace];
    traces.set(name, words.map(([addr, value]) => ({ addr, value })));
    fresh.seeds[name] = {
      words: BigUint64Array.from(words.flat()),
      setup: BigUint64Array.from(setup.starts.flatMap((a, i) => [a, setup.ends[i]])),
    };
  }
  loaded.set(name, { vm, setup });
}
if (!traced) {
  fresh.baselineRssKiB = process.resourceUsage().maxRSS;
  traced = fresh;
  const tmp = `${tracedFile}.${process.pid}`;
  writeFileSync(tmp, serialize(fresh));
  try { rmSync(tracedFile, { force: true }); } catch { /* another runner's is as good */ }
  copyFileSync(tmp, tracedFile);
  rmSync(tmp, { force: true });
}
const btf = readFileSync(btfPath(root));
const ctx: FuzzContext = { seeds, btfSize: btf.length, traces };
const rc: RunContext = { copies, btf, intact, loaded, scratch: mine };

process.on('message', (m: ToRunner) => {
  if (m.type === 'exit') { writeFileSync(clean, ''); process.exit(0); }
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
send({ type: 'ready', baselineRssKiB: traced.baselineRssKiB, seeds: seeds.length, traced: [...traces.values()].reduce((n, t) => n + t.length, 0), startMs: performance.now() - t0 });
