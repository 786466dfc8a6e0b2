/**
 * A fleet worker process: forked by cli/pool.ts, loads the addon and the commands once, then
 * takes one job at a time over IPC until told to exit. Living for many dumps is the point: the
 * parsed BTF of a kernel build is cached per process (src/vmcore.ts), so every dump of an
 * already-seen kernel skips reading types. Ctrl-C is the parent's to handle: the terminal sends
 * SIGINT to the whole process group, and the parent decides when workers stop.
 */
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { Output } from '../src/output/sink.js';
import { toJson } from '../src/output/json.js';
import type { FromWorker, JobOutcome, ToWorker, CommandJob, AnyCommand, FleetRow } from '../src/fleet/jobs.js';
import { writeReport, type AnalysisRun, type ReportDeps } from '../src/fleet/report.js';
import { analyseForService } from '../src/service/analyse.js';
import { loadCommands } from './load-commands.js';
import { openOptionsFrom, parseCommandArgv } from './command-argv.js';
import { describeFailure, UsageError } from '../src/errors/index.js';

process.on('SIGINT', () => { /* the parent stops us */ });
// ... with SIGTERM: taken between two steps of the work, never in the middle of writing a file
process.on('SIGTERM', () => process.exit(143));
// the parent is gone (killed): nobody will read our results
process.on('disconnect', () => process.exit(0));

const { commands } = await loadCommands();
const byName = new Map<string, AnyCommand>(commands.map((c) => [c.command.name, c.command]));

function send(m: FromWorker): void { process.send?.(m); }

/** the row's error: the contract's one line (an unforeseen error says it is a bug in vaat) */
const oneLine = (e: unknown): string => describeFailure(e).line;

function command(name: string): AnyCommand {
  const c = byName.get(name);
  if (!c) throw new UsageError(`unknown command '${name}'`);
  return c;
}

/** open a dump as the command's common options say (--reader, --system-map, --btf, --vmlinux ...) */
function openFor(path: string, options: Record<string, unknown>): Vmcore {
  return openVmcore(path, openOptionsFrom(options));
}

/** run one command on an opened dump: what report.ts and command jobs share */
const runAnalysis: AnalysisRun = async (vm, name, argv, want) => {
  const spec = command(name);
  const { args, options } = parseCommandArgv(spec, argv);
  const result: unknown = await spec.run({ vm, options, args });
  const out: { json?: string; text?: string; row?: FleetRow } = {};
  if (want.json) out.json = toJson(result, name);
  if (want.text) {
    const o = new Output({ plain: !want.color || !!options.plain, stream: { isTTY: want.color } });
    spec.render(result, o, options);
    out.text = o.text();
  }
  if (want.row && spec.fleetRow) out.row = spec.fleetRow(result);
  return out;
};

async function commandJob(path: string, job: CommandJob): Promise<Omit<JobOutcome, 'path' | 'ms'>> {
  const { options } = parseCommandArgv(command(job.command), job.argv);
  const vm = openFor(path, options);
  try {
    const r = await runAnalysis(vm, job.command, job.argv, { ...job.want, color: job.color });
    return { ok: true, ...r };
  } finally {
    vm.close();
  }
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'exit') { process.disconnect?.(); return; }
  const t0 = performance.now();
  const deps: ReportDeps = { names: [...byName.keys()], open: (p) => openFor(p, {}), run: runAnalysis };
  const work = m.spec.kind === 'command' ? commandJob(m.path, m.spec)
    : m.spec.kind === 'report' ? writeReport(m.path, m.spec, deps).then((s) => ({ ok: true, json: toJson(s) }))
      : analyseForService(m.path, m.spec, deps).then((s) => ({ ok: true, json: JSON.stringify(s) }));
  // A full collection between dumps: V8 grows its heap lazily, so a worker that went from one
  // 20,000-task dump to the next kept every dump's garbage (RSS 210 → 440 MB over three);
  // collected, it stays at one dump's peak (BENCHMARKS.md, "Big machines").
  // The collection runs after 'done' is sent: the parent learns of a finished dump at once (a
  // Ctrl-C during the collection must not lose it), and the next job waits for the collection.
  const collect = (): void => { (globalThis as { gc?: () => void }).gc?.(); };
  work.then(
    (r) => send({ type: 'done', id: m.id, path: m.path, ms: performance.now() - t0, ...r }),
    (e: unknown) => send({ type: 'done', id: m.id, path: m.path, ok: false, ms: performance.now() - t0, error: oneLine(e) }),
  ).finally(collect);
});

send({ type: 'ready', pid: process.pid });
