/**
 * `vaat serve` and `vaat worker`: the fleet service's two programs. The embedded default is one
 * process (watcher, SQLite, in-process queue, worker processes, HTTP); `--queue redis://…` and
 * `--db postgres://…` spread the same work over any number of `vaat worker` processes.
 */
import { Command, CommanderError, Option } from 'commander';
import { mkdirSync } from 'node:fs';
import { homedir, availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadNative } from '../dump/native.js';
import { openDb } from './db.js';
import { SqlStorage, type Storage } from './storage.js';
import { LocalQueue, openBullQueue, type JobQueue } from './queue.js';
import { Executor } from './executor.js';
import { makeProcessor, parsePathMap, workerName } from './processor.js';
import { CrashDirWatcher } from './watcher.js';
import { buildHttp, parseListen } from './http.js';
import { REPORT_ANALYSES } from '../fleet/report.js';

const commandList = (v: string | undefined): string[] | undefined => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

/** $XDG_DATA_HOME/vaat (~/.local/share/vaat): the embedded database and the report files */
export function dataDir(env = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'vaat');
}

/** '500ms', '2s', '10m', '1h' or plain milliseconds */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new CommanderError(2, 'vaat.duration', `vaat: not a duration: '${v}' (e.g. 500ms, 2s, 10m)\n`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
}

const log = (m: string): void => { process.stderr.write(`vaat: ${m}\n`); };

async function openStorage(db: string | undefined): Promise<Storage> {
  const spec = db ?? join(dataDir(), 'service.sqlite');
  if (!/^postgres(ql)?:\/\//.test(spec)) mkdirSync(dirname(resolve(spec.replace(/^sqlite:(\/\/)?/, ''))), { recursive: true });
  const storage = new SqlStorage(await openDb(spec));
  await storage.migrate();
  return storage;
}

async function openQueue(spec: string | undefined, o: { attempts: number; lockMs?: number }): Promise<JobQueue> {
  if (!spec || spec === 'local') return new LocalQueue({ attempts: o.attempts });
  if (!/^rediss?:\/\//.test(spec)) throw new CommanderError(2, 'vaat.queue', `vaat: --queue wants redis://HOST:PORT (or 'local'), not '${spec}'\n`);
  return openBullQueue(spec, { attempts: o.attempts, lockMs: o.lockMs });
}

function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const h = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', h);
  process.on('SIGTERM', h);
}

const common = (c: Command): Command => c
  .option('--reports <dir>', 'where report files are written', join(dataDir(), 'reports'))
  .option('--analyses <commands>', `the report's analyses to run, comma-separated (default: all: ${[...new Set(REPORT_ANALYSES.map((a) => a.command))].join(',')}); the signature always runs`)
  .option('--timeout <duration>', 'longest one analysis may take before its process is killed', '10m')
  .option('--attempts <n>', 'tries per dump when its worker process is lost (then the dead-letter list)', '3')
  .addOption(new Option('--lock <duration>', 'BullMQ job lock: a killed worker\'s job runs again after this').default('30s').hideHelp());

export async function runServe(argv: string[]): Promise<number> {
  const prog = common(new Command('serve')
    .description('watch crash directories, analyse each new vmcore once, bucket it, and serve the results over HTTP')
    .requiredOption('--crash-dir <dir...>', 'directories kdump writes into (watched, and rescanned on start)')
    .option('--db <file|url>', 'SQLite file (default $XDG_DATA_HOME/vaat/service.sqlite) or postgres://…')
    .option('--queue <url>', "'local' (default: in this process) or redis://HOST:PORT for BullMQ and `vaat worker`s")
    .option('--listen <host:port>', 'HTTP address', '127.0.0.1:8080')
    .option('-j, --jobs <n>', 'worker processes in this process (default: the CPUs with the local queue, 0 with --queue redis)')
    .option('--settle <duration>', 'a dump is complete when unchanged this long', '5s')
    .option('--incomplete-after <duration>', 'a vmcore-incomplete unchanged this long is analysed as an incomplete capture', '10m')
    .option('--rescan <duration>', 'walk the crash directories again this often (NFS sends no events); 0: never', '5m'))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try { prog.parse(argv, { from: 'user' }); } catch (e) { if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; throw e; }
  const o = prog.opts<{ crashDir: string[]; db?: string; queue?: string; listen: string; jobs?: string; settle: string; incompleteAfter: string; rescan: string; reports: string; analyses?: string; timeout: string; attempts: string; lock: string }>();
  let listen: { host: string; port: number };
  let durations: { settle: number; incompleteAfter: number; rescan: number; timeout: number; lock: number };
  try {
    listen = parseListen(o.listen);
    durations = { settle: parseDuration(o.settle), incompleteAfter: parseDuration(o.incompleteAfter), rescan: parseDuration(o.rescan), timeout: parseDuration(o.timeout), lock: parseDuration(o.lock) };
  } catch (e) { process.stderr.write(e instanceof CommanderError ? e.message : `vaat: ${(e as Error).message}\n`); return 2; }
  const dirs = o.crashDir.map((d) => resolve(d));
  const jobs = o.jobs !== undefined ? Number(o.jobs) : (o.queue && o.queue !== 'local' ? 0 : Math.max(1, availableParallelism()));

  const storage = await openStorage(o.db);
  const queue = await openQueue(o.queue, { attempts: Number(o.attempts), lockMs: durations.lock });
  const executor = new Executor({ timeoutMs: durations.timeout });
  if (jobs > 0) {
    const p = makeProcessor({ storage, executor, reportsDir: resolve(o.reports), commands: commandList(o.analyses), onResult: (j, r) => { if (!r.ok) log(`${j.path}: ${r.error}`); } });
    queue.consume(p.handler, { concurrency: jobs, onDead: p.onDead });
  }
  // what was queued or being analysed when the service last stopped
  for (const j of await storage.unfinished()) await queue.add(j);
  const native = loadNative();
  const watcher = new CrashDirWatcher({
    dirs, settleMs: durations.settle, incompleteAfterMs: durations.incompleteAfter, rescanMs: durations.rescan,
    detect: (p) => native.detectFormat(p),
    onArrival: async (a) => {
      const r = await storage.arrive(a);
      if (r.queue) await queue.add({ dumpId: r.id, path: a.path, fingerprint: a.fingerprint });
    },
    onError: (e) => log(`watch: ${e.message.split('\n')[0]}`),
  });
  await watcher.start();
  const app = await buildHttp({ storage, queueCounts: () => queue.counts(), watching: () => ({ dirs, waiting: watcher.waiting }) });
  const address = await app.listen({ host: listen.host, port: listen.port });
  log(`serving ${address} · watching ${dirs.join(', ')} · database ${storage.where} · queue ${queue.kind}${jobs ? ` · ${jobs} worker process${jobs > 1 ? 'es' : ''}` : ''}`);
  onStop(async () => {
    await watcher.close();
    await app.close();
    executor.close();
    await queue.close();
    await storage.close();
  });
  return new Promise<number>(() => { /* runs until a signal */ });
}

export async function runWorker(argv: string[]): Promise<number> {
  const prog = common(new Command('worker')
    .description('take analysis jobs from the queue of a `vaat serve --queue redis://…`, store results in its database')
    .requiredOption('--queue <url>', 'redis://HOST:PORT, as given to vaat serve')
    .requiredOption('--db <url>', 'postgres://…, as given to vaat serve')
    .option('-c, --concurrency <n>', 'dumps analysed at once (one worker process each)', '1')
    .option('--map-path <from=to...>', "the crash directory as vaat serve sees it = as this machine mounts it (e.g. /var/crash=/mnt/crash)", [])
    .option('--name <name>', 'this worker in the database (default host:pid)'))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try { prog.parse(argv, { from: 'user' }); } catch (e) { if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; throw e; }
  const o = prog.opts<{ queue: string; db: string; concurrency: string; mapPath: string[]; name?: string; reports: string; analyses?: string; timeout: string; attempts: string; lock: string }>();
  let pathMap: ReturnType<typeof parsePathMap>;
  let timeout: number, lock: number;
  try { pathMap = parsePathMap(o.mapPath); timeout = parseDuration(o.timeout); lock = parseDuration(o.lock); } catch (e) {
    process.stderr.write(e instanceof CommanderError ? e.message : `vaat: ${(e as Error).message}\n`); return 2;
  }
  if (o.queue === 'local') { log('worker: --queue must be a redis:// URL (the local queue lives inside vaat serve)'); return 2; }
  const storage = await openStorage(o.db);
  const queue = await openQueue(o.queue, { attempts: Number(o.attempts), lockMs: lock });
  const executor = new Executor({ timeoutMs: timeout });
  const name = o.name ?? workerName();
  const p = makeProcessor({
    storage, executor, reportsDir: resolve(o.reports), commands: commandList(o.analyses), pathMap, worker: name,
    onResult: (j, r) => log(`${j.path}: ${r.ok ? `analysed in ${Math.round(r.ms)} ms` : r.error}${r.stored ? '' : ' (already stored)'}`),
  });
  queue.consume(p.handler, { concurrency: Math.max(1, Number(o.concurrency)), onDead: p.onDead });
  log(`worker ${name}: queue ${o.queue.replace(/\/\/[^@/]*@/, '//')} · database ${storage.where}`);
  onStop(async () => {
    await queue.close();
    executor.close();
    await storage.close();
  });
  return new Promise<number>(() => { /* runs until a signal */ });
}
