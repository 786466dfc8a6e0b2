/**
 * `vaat <command> -d DIR [args] [options]`: the command on every vmcore under DIR, in parallel
 * worker processes, combined into one result — a table with one row per vmcore for commands that
 * define fleetRow(), one section per vmcore otherwise, and with --json an array of
 * {path, ok, result | error}. Commands that work on the whole set (triage, similar, report) get
 * the discovered dumps and the pool through FleetRunContext. A dump that fails is a row with its
 * error and never stops the run.
 */
import { CommanderError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { relative, resolve } from 'node:path';
import { Output, type Cell } from '../src/output/sink.js';
import { toJson } from '../src/output/json.js';
import { loadNative } from '../src/dump/native.js';
import { discoverDumps, type Discovery, type FoundDump } from '../src/fleet/discover.js';
import { isFleetCapable, type AnyCommand, type FleetRunContext, type JobOutcome, type JobSpec } from '../src/fleet/jobs.js';
import { WorkerPool } from './pool.js';
import { parseCommandArgv } from './command-argv.js';
import type { LoadedCommand } from './load-commands.js';

const DEFAULT_COMMAND = 'summary';

/** options the fleet runner takes for itself, with how many values follow */
const FLEET_FLAGS: Record<string, 'value' | 'flag'> = { '-d': 'value', '--dir': 'value', '-j': 'value', '--jobs': 'value', '--timeout': 'value', '--no-progress': 'flag' };

interface FleetArgs { dirs: string[]; jobs?: number; /** per-dump limit, seconds */ timeout?: number; progress: boolean; rest: string[] }

/** split the fleet runner's own options from the command's argv */
export function splitFleetArgs(argv: readonly string[]): FleetArgs {
  const out: FleetArgs = { dirs: [], progress: true, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = /^(--dir|--jobs|--timeout)=(.*)$/.exec(a);
    const [flag, inline] = eq ? [eq[1], eq[2]] : [a, undefined];
    const kind = FLEET_FLAGS[flag];
    if (!kind) { out.rest.push(a); continue; }
    if (kind === 'flag') { out.progress = false; continue; }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new CommanderError(2, 'fleet.missing', `vaat: option '${flag}' needs a value\n`);
    if (flag === '-d' || flag === '--dir') { out.dirs.push(v); continue; }
    const n = Number(v);
    if (!(n > 0) || (flag !== '--timeout' && !Number.isInteger(n))) {
      throw new CommanderError(2, 'fleet.bad-value', `vaat: option '${flag}' wants a positive ${flag === '--timeout' ? 'number of seconds' : 'integer'}, not '${v}'\n`);
    }
    if (flag === '--timeout') out.timeout = n;
    else out.jobs = n;
  }
  return out;
}

/** `-d`/`--dir` anywhere, or a fleet-only command (report, triage): this is a fleet run */
export function isFleetInvocation(argv: readonly string[], commands: readonly LoadedCommand[]): boolean {
  if (argv.some((a) => a === '-d' || a === '--dir' || a.startsWith('--dir='))) return true;
  const c = commands.find((x) => x.command.name === argv[0])?.command;
  return !!c && isFleetCapable(c) && !!c.fleetOnly;
}

function progressBar(label: string, total: number, enabled: boolean): { tick(o: JobOutcome, done: number): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY || total < 2) return { tick: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} |{bar}| {value}/{total} vmcores | {failed} failed | {eta_formatted} left`,
    hideCursor: true,
    clearOnComplete: true,
  }, Presets.shades_classic);
  let failed = 0;
  bar.start(total, 0, { failed });
  return {
    tick: (o, done) => { if (!o.ok) failed++; bar.update(done, { failed }); },
    stop: () => bar.stop(),
  };
}

function discoverAll(dirs: readonly string[]): Discovery {
  const native = loadNative();
  const all: Discovery = { dumps: [], skipped: [] };
  const seen = new Set<string>();
  for (const d of dirs) {
    const r = discoverDumps(d, { detect: (p) => native.detectFormat(p) });
    for (const x of r.dumps) if (!seen.has(x.path)) { seen.add(x.path); all.dumps.push(x); }
    all.skipped.push(...r.skipped);
  }
  return all;
}

/** paths shown relative to the directory given, when below it */
function shortPath(roots: readonly string[], p: string): string {
  for (const r of roots) {
    const rel = relative(resolve(r), p);
    if (rel && !rel.startsWith('..')) return rel;
  }
  return p;
}

function firstLine(e: unknown): string { return (e instanceof Error ? e.message : String(e)).split('\n')[0]; }

/** run a fleet invocation; returns the exit status */
export async function runFleetCli(argv: readonly string[], commands: readonly LoadedCommand[]): Promise<number> {
  let fa: FleetArgs;
  try { fa = splitFleetArgs(argv); } catch (e) { process.stderr.write((e as Error).message); return 2; }
  let [name, ...rest] = fa.rest;
  let lc = commands.find((c) => c.command.name === name);
  if (!lc) { lc = commands.find((c) => c.command.name === DEFAULT_COMMAND)!; rest = fa.rest; name = DEFAULT_COMMAND; }
  const spec: AnyCommand = lc.command;
  const fleetCmd = isFleetCapable(spec) ? spec : null;

  let parsed: ReturnType<typeof parseCommandArgv>;
  try { parsed = parseCommandArgv(spec, rest); } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  // a fleet-only command without -d takes its set (a directory or one vmcore) as the first argument
  if (fa.dirs.length === 0) {
    const first = parsed.args[0];
    if (!fleetCmd || first === undefined) { process.stderr.write(`vaat: ${name}: give -d DIR (or a vmcore)\n`); return 2; }
    fa.dirs.push(first);
    parsed.args.shift();
  }
  const json = !!parsed.options.json;
  const plain = !!parsed.options.plain;
  if (parsed.options.jsonl) { process.stderr.write(`vaat: ${name}: --jsonl is for one dump; over a set of dumps use --json\n`); return 2; }

  let discovery: Discovery;
  try { discovery = discoverAll(fa.dirs); } catch (e) { process.stderr.write(`vaat: ${firstLine(e)}\n`); return 1; }
  if (process.env.VAAT_DEBUG) for (const s of discovery.skipped) process.stderr.write(`vaat: skipped ${s.path}: ${s.reason}\n`);
  if (discovery.dumps.length === 0) {
    process.stderr.write(`vaat: no vmcore found under ${fa.dirs.join(', ')} (${discovery.skipped.length} files looked at)\n`);
    return 1;
  }

  const pool = new WorkerPool();
  const color = !plain && !json && !!process.stdout.isTTY && !process.env.NO_COLOR;
  const run = async (job: JobSpec, dumps: readonly FoundDump[] = discovery.dumps): Promise<JobOutcome[]> => {
    const bar = progressBar(`vaat ${name}`, dumps.length, fa.progress);
    try {
      return await pool.run(job, dumps.map((d) => d.path), {
        ...(fa.jobs ? { jobs: fa.jobs } : {}), ...(fa.timeout ? { timeoutMs: fa.timeout * 1000 } : {}), onDone: (o, done) => bar.tick(o, done),
      });
    } finally { bar.stop(); }
  };
  const out = new Output({ plain: !color, stream: { isTTY: color } });
  try {
    if (fleetCmd) {
      const ctx: FleetRunContext<Record<string, unknown>> = {
        discovery, roots: fa.dirs, options: parsed.options, args: parsed.args, run, interrupted: () => pool.interrupted,
      };
      const result: unknown = await fleetCmd.fleetRun(ctx);
      if (json) process.stdout.write(toJson(result, spec.name) + '\n');
      else { fleetCmd.fleetRender(result, out, parsed.options); process.stdout.write(out.text()); }
      return pool.interrupted ? 130 : 0;
    }

    const tabular = !!spec.fleetRow;
    const outcomes = await run({ kind: 'command', command: spec.name, argv: rest, want: { json, text: !json && !tabular, row: !json && tabular }, color });
    const info = new Map(discovery.dumps.map((d) => [d.path, d]));
    if (json) {
      const arr = outcomes.map((o) => ({
        path: o.path,
        ok: o.ok,
        ...(info.get(o.path)?.incomplete ? { incomplete: true } : {}),
        ...(o.ok ? { result: JSON.parse(o.json ?? 'null') as unknown } : { error: o.error ?? 'failed', ...(o.timedOut ? { timedOut: true } : {}) }),
      }));
      process.stdout.write(toJson(arr) + '\n');
    } else {
      renderOutcomes(out, spec, outcomes, fa.dirs, info);
      process.stdout.write(out.text());
    }
    if (pool.interrupted) return 130;
    return outcomes.some((o) => o.ok) ? 0 : 1;
  } finally {
    pool.close();
  }
}

function renderOutcomes(out: Output, spec: AnyCommand, outcomes: readonly JobOutcome[], roots: readonly string[], info: Map<string, FoundDump>): void {
  const c = out.c;
  const label = (p: string): string => shortPath(roots, p) + (info.get(p)?.incomplete ? ' (incomplete)' : '');
  if (spec.fleetRow) {
    const cols: string[] = [];
    for (const o of outcomes) for (const k of Object.keys(o.row ?? {})) if (!cols.includes(k)) cols.push(k);
    const failed = outcomes.some((o) => !o.ok);
    const rows: Cell[][] = outcomes.map((o) => [
      label(o.path),
      ...cols.map((k) => (o.ok ? o.row?.[k] ?? null : null)),
      ...(failed ? [o.ok ? '' : c.red(o.error ?? 'failed')] : []),
    ]);
    out.table(rows, { header: ['VMCORE', ...cols, ...(failed ? ['ERROR'] : [])] });
  } else {
    for (const o of outcomes) {
      out.heading(`── ${label(o.path)} ${'─'.repeat(Math.max(2, 60 - label(o.path).length))}`);
      if (o.ok) out.line((o.text ?? '').replace(/\n$/, ''));
      else out.line(c.red(`  FAILED: ${o.error}`));
      out.line();
    }
  }
  const ok = outcomes.filter((o) => o.ok).length;
  out.line(c.dim(`${outcomes.length} vmcores: ${ok} analysed, ${outcomes.length - ok} failed`));
}
