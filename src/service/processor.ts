/**
 * What a worker does with one job, the same in the embedded service and in `vaat worker`: claim
 * the dump in the database, analyse it in a worker process, store the result and bucket it in
 * one transaction — or store the error. A dump already done (another worker finished it after a
 * stall) or changed since it was queued is left alone: each version of a file is stored once.
 */
import { join } from 'node:path';
import { hostname } from 'node:os';
import { Executor, WorkerLostError } from './executor.js';
import type { JobHandler, ConsumeOptions } from './queue.js';
import type { AnalysisJob, Storage } from './storage.js';
import type { ServiceAnalysis } from './analyse.js';

/** `--map-path /var/crash=/mnt/crash`: a dump's path as the serving machine saw it → as this one does */
export type PathMap = readonly { from: string; to: string }[];

export function parsePathMap(specs: readonly string[]): PathMap {
  return specs.map((s) => {
    const i = s.indexOf('=');
    if (i <= 0) throw new Error(`--map-path wants FROM=TO, not '${s}'`);
    return { from: s.slice(0, i).replace(/\/+$/, ''), to: s.slice(i + 1).replace(/\/+$/, '') };
  });
}

export function mapPath(map: PathMap, path: string): string {
  for (const m of map) if (path === m.from || path.startsWith(m.from + '/')) return m.to + path.slice(m.from.length);
  return path;
}

export interface ProcessorOptions {
  storage: Storage;
  executor: Executor;
  reportsDir: string;
  /** the report's commands to run (default: all); the signature always runs */
  commands?: string[];
  pathMap?: PathMap;
  /** names this worker in the database: host:pid by default */
  worker?: string;
  /** called after each job with what happened (logging, benchmarks) */
  onResult?(job: AnalysisJob, r: { ok: boolean; stored: boolean; ms: number; error?: string }): void;
}

export function workerName(): string { return `${hostname()}:${process.pid}`; }

export function makeProcessor(o: ProcessorOptions): { handler: JobHandler; onDead: ConsumeOptions['onDead'] } {
  const worker = o.worker ?? workerName();
  const handler: JobHandler = async (job) => {
    if (!await o.storage.start(job, worker)) return;
    const local = mapPath(o.pathMap ?? [], job.path);
    const t0 = performance.now();
    // each dump's report directory under the reports directory, named for its id: paths differ between machines
    const outcome = await o.executor.run(local, { kind: 'service', reportsDir: join(o.reportsDir, String(job.dumpId)), roots: [], commands: o.commands });
    const ms = performance.now() - t0;
    if (outcome.ok && outcome.json) {
      const stored = await o.storage.finish(job, worker, JSON.parse(outcome.json) as ServiceAnalysis, ms);
      o.onResult?.(job, { ok: true, stored: stored !== null, ms });
    } else {
      // the dump's own fault (not a dump, corrupt, unsupported): kept with its one-line error, not retried
      const stored = await o.storage.fail(job, worker, outcome.error ?? 'failed', false);
      o.onResult?.(job, { ok: false, stored, ms, error: outcome.error });
    }
  };
  const onDead: ConsumeOptions['onDead'] = async (job, error) => {
    await o.storage.fail(job, worker, `dead letter: ${error}`, true);
    o.onResult?.(job, { ok: false, stored: true, ms: 0, error });
  };
  return { handler, onDead };
}

export { WorkerLostError };
