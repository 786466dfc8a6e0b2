/**
 * A pool of long-lived worker processes (cli/worker.ts) for fleet runs. Processes, not threads:
 * a dump that crashes the addon takes one worker with it, the pool records that dump as failed
 * and starts another worker. The parent never opens a dump itself. Ctrl-C stops dispatching,
 * terminates the workers and resolves with what finished; a second Ctrl-C exits at once.
 */
import { existsSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, JobOutcome, JobSpec, ToWorker } from '../src/fleet/jobs.js';
import { onInterrupt } from './interrupt.js';

// beside this module in dist/cli/, or in dist/cli/ seen from the bundle dist/vaat.cjs
const HERE = dirname(fileURLToPath(import.meta.url));
const WORKER = existsSync(join(HERE, 'worker.js')) ? join(HERE, 'worker.js') : join(HERE, 'cli', 'worker.js');

export interface PoolOptions {
  /** at most this many workers (default and ceiling: os.availableParallelism()) */
  jobs?: number;
  /** called as each dump finishes */
  onDone?(o: JobOutcome, done: number, total: number): void;
  /** per-dump limit in ms: a worker still busy after it is killed and the dump marked timed out */
  timeoutMs?: number;
}

/** the default per-dump limit: generous, a hang is what it catches */
export const DEFAULT_TIMEOUT_MS = 15 * 60_000;

interface Slot { child: ChildProcess; busy: { id: number; path: string; timer?: NodeJS.Timeout } | null; ready: boolean; stderr: string; timedOut?: boolean }

export class WorkerPool {
  #interrupted = false;
  #slots: Slot[] = [];
  #onSigint = (): void => {
    this.#interrupted = true;
    process.stderr.write('\nvaat: interrupted: stopping workers, printing what finished (Ctrl-C again to quit now)\n');
    for (const s of this.#slots) s.child.kill('SIGTERM');
  };
  #unsubscribe: () => void;

  get interrupted(): boolean { return this.#interrupted; }

  constructor() { this.#unsubscribe = onInterrupt(this.#onSigint); }

  /** stop listening for Ctrl-C; any worker still alive (a run that threw) is ended */
  close(): void {
    this.#unsubscribe();
    for (const s of this.#slots) s.child.kill('SIGTERM');
    this.#slots = [];
  }

  /** run `spec` on every path; outcomes in the order of `paths`. The workers live for this run. */
  run(spec: JobSpec, paths: readonly string[], opts: PoolOptions = {}): Promise<JobOutcome[]> {
    const results = new Array<JobOutcome | undefined>(paths.length);
    const ceiling = availableParallelism();
    const want = Math.max(1, Math.min(opts.jobs ?? ceiling, ceiling, paths.length));
    const mine: Slot[] = [];
    let next = 0;
    let done = 0;
    let settled = false;
    return new Promise((resolvePromise) => {
      if (paths.length === 0) { resolvePromise([]); return; }
      const finish = (id: number, o: JobOutcome): void => {
        if (results[id]) return;
        results[id] = o;
        done++;
        opts.onDone?.(o, done, paths.length);
      };
      const settleIfDone = (lastError?: string): void => {
        if (settled || mine.some((s) => s.busy)) return;
        const workLeft = next < paths.length && !this.#interrupted;
        if (workLeft && mine.length > 0) return;
        // finished, interrupted, or no worker left alive to do the rest
        settled = true;
        paths.forEach((p, i) => {
          if (!results[i]) {
            results[i] = this.#interrupted
              ? { path: p, ok: false, ms: 0, error: 'not analysed: interrupted', interrupted: true }
              : { path: p, ok: false, ms: 0, error: `not analysed: no worker could start${lastError ? `: ${lastError}` : ''}` };
          }
        });
        for (const s of mine) if (s.child.connected) s.child.send({ type: 'exit' } satisfies ToWorker, () => { /* it may be gone already */ });
        resolvePromise(results as JobOutcome[]);
      };
      const limit = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const dispatch = (s: Slot): void => {
        if (this.#interrupted || next >= paths.length) { s.busy = null; settleIfDone(); return; }
        const id = next++;
        // a dump that hangs its worker is killed with it; 'exit' below records it and starts another
        const timer = limit > 0 && Number.isFinite(limit)
          ? setTimeout(() => { s.timedOut = true; s.child.kill('SIGKILL'); }, limit)
          : undefined;
        s.busy = { id, path: paths[id], ...(timer ? { timer } : {}) };
        s.child.send({ type: 'job', id, path: paths[id], spec } satisfies ToWorker);
      };
      const spawn = (): void => {
        // --expose-gc: the worker collects after each dump, so its footprint stays that of one dump
        const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', execArgv: [...process.execArgv, '--expose-gc'] });
        const s: Slot = { child, busy: null, ready: false, stderr: '' };
        mine.push(s);
        this.#slots.push(s);
        // a worker that dies mid-send is handled by 'exit' below
        child.on('error', () => {});
        child.stderr?.on('data', (d: Buffer) => { s.stderr = (s.stderr + d.toString()).slice(-2000); });
        child.on('message', (m: FromWorker) => {
          if (m.type === 'ready') { s.ready = true; dispatch(s); return; }
          const { type: _t, id, ...o } = m;
          clearTimeout(s.busy?.timer);
          s.busy = null;
          finish(id, o);
          dispatch(s);
        });
        child.on('exit', (code, signal) => {
          mine.splice(mine.indexOf(s), 1);
          this.#slots = this.#slots.filter((x) => x !== s);
          const lastErr = s.stderr.trim().split('\n').pop();
          if (s.busy) {
            clearTimeout(s.busy.timer);
            const why = this.#interrupted ? 'not finished: interrupted'
              : s.timedOut ? `timed out: not finished after ${Math.round(limit / 1000)} s (--timeout)`
              : `worker died (${signal ?? `exit ${code}`}) analysing this dump${lastErr ? `: ${lastErr}` : ''}`;
            finish(s.busy.id, { path: s.busy.path, ok: false, ms: s.timedOut ? limit : 0, error: why, interrupted: this.#interrupted, ...(s.timedOut ? { timedOut: true } : {}) });
            s.busy = null;
            // keep the pool at strength: one bad dump must not slow the rest (a worker that could not start is not replaced)
            if (s.ready && !this.#interrupted && next < paths.length) spawn();
          }
          settleIfDone(lastErr);
        });
      };
      for (let i = 0; i < want; i++) spawn();
    });
  }
}
