/**
 * Worker processes for the service: the fleet's own worker (cli/worker.ts), kept alive between
 * dumps (so a kernel build's parsed types are reused), one dump at a time each. A dump that
 * crashes or hangs a process costs that process only: it is killed or dies, the job is reported
 * as failed with why, and the next job gets a fresh process.
 */
import { existsSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, JobOutcome, ServiceJob, ToWorker } from '../fleet/jobs.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// dist/src/service/ → dist/cli/worker.js; from the bundle dist/vaat.cjs → dist/cli/worker.js
const WORKER = [join(HERE, '..', '..', 'cli', 'worker.js'), join(HERE, 'cli', 'worker.js')].find((p) => existsSync(p)) ?? join(HERE, '..', '..', 'cli', 'worker.js');

/** the job did not end in an outcome: the process died or was killed (retried by the queue) */
export class WorkerLostError extends Error {}

interface Proc { child: ChildProcess; ready: Promise<void>; stderr: string; busy: boolean }

export class Executor {
  #idle: Proc[] = [];
  #all = new Set<Proc>();
  #seq = 0;
  #closed = false;

  constructor(readonly opts: { timeoutMs: number }) {}

  #spawn(): Proc {
    const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    const p: Proc = { child, stderr: '', busy: false, ready: Promise.resolve() };
    p.ready = new Promise((resolve, reject) => {
      child.once('message', (m: FromWorker) => (m.type === 'ready' ? resolve() : reject(new Error('worker spoke before it was ready'))));
      child.once('exit', (code, sig) => reject(new WorkerLostError(`worker process could not start (${sig ?? `exit ${code}`}): ${p.stderr.trim().split('\n').pop() ?? ''}`)));
    });
    p.ready.catch(() => {});
    child.on('error', () => {});
    child.stderr?.on('data', (d: Buffer) => { p.stderr = (p.stderr + d.toString()).slice(-2000); });
    child.on('exit', () => { this.#all.delete(p); this.#idle = this.#idle.filter((x) => x !== p); });
    this.#all.add(p);
    return p;
  }

  /** analyse one dump in a worker process; resolves with its outcome, rejects with WorkerLostError */
  async run(path: string, spec: ServiceJob): Promise<JobOutcome> {
    if (this.#closed) throw new WorkerLostError('executor closed');
    const p = this.#idle.pop() ?? this.#spawn();
    p.busy = true;
    await p.ready;
    const id = ++this.#seq;
    return new Promise<JobOutcome>((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); p.child.off('message', onMessage); p.child.off('exit', onExit); p.busy = false; };
      const onMessage = (m: FromWorker): void => {
        if (m.type !== 'done' || m.id !== id) return;
        done();
        if (!this.#closed) this.#idle.push(p);
        const { type: _t, id: _i, ...o } = m;
        resolve(o);
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null): void => {
        done();
        const last = p.stderr.trim().split('\n').pop();
        reject(new WorkerLostError(`worker process died (${sig ?? `exit ${code}`}) analysing this dump${last ? `: ${last}` : ''}`));
      };
      const timer = setTimeout(() => {
        p.child.off('exit', onExit);
        done();
        p.child.kill('SIGKILL');
        reject(new WorkerLostError(`timed out after ${Math.round(this.opts.timeoutMs / 1000)} s`));
      }, this.opts.timeoutMs);
      p.child.on('message', onMessage);
      p.child.on('exit', onExit);
      p.child.send({ type: 'job', id, path, spec } satisfies ToWorker);
    });
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#all) p.child.kill('SIGTERM');
    this.#all.clear();
    this.#idle = [];
  }
}
