/**
 * Where analysis jobs wait: one interface, two engines. The in-process queue of the embedded
 * default, and BullMQ on Redis for many machines. Both retry a job whose worker was lost (a
 * killed or crashed process, a timeout) and, after the last attempt, hand it to `onDead`: the
 * dead-letter list (the database marks the dump; BullMQ also keeps the job in its failed set).
 */
import type { AnalysisJob } from './storage.js';
import { importModule } from '../dynamic-import.js';

export interface JobContext { attempt: number; attempts: number }
/** throws to have the job retried */
export type JobHandler = (job: AnalysisJob, ctx: JobContext) => Promise<void>;

export interface ConsumeOptions {
  concurrency: number;
  /** the job failed its last attempt */
  onDead(job: AnalysisJob, error: string): Promise<void>;
}

export interface JobQueue {
  readonly kind: 'local' | 'bullmq';
  add(job: AnalysisJob): Promise<void>;
  consume(handler: JobHandler, opts: ConsumeOptions): void;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface QueueOptions {
  /** tries per job (default 3) */
  attempts?: number;
}

const jobKey = (j: AnalysisJob): string => `${j.dumpId}@${j.fingerprint}`;

/** the embedded default: jobs in memory (the database knows what is unfinished after a restart) */
export class LocalQueue implements JobQueue {
  readonly kind = 'local';
  #waiting: AnalysisJob[] = [];
  #known = new Set<string>();
  #active = 0;
  #done = 0;
  #failed = 0;
  #run: (() => void) | null = null;
  #closed = false;
  constructor(readonly opts: QueueOptions = {}) {}

  async add(job: AnalysisJob): Promise<void> {
    if (this.#closed || this.#known.has(jobKey(job))) return;
    this.#known.add(jobKey(job));
    this.#waiting.push(job);
    this.#run?.();
  }

  consume(handler: JobHandler, opts: ConsumeOptions): void {
    const attempts = this.opts.attempts ?? 3;
    const one = async (job: AnalysisJob): Promise<void> => {
      let last = '';
      for (let attempt = 1; attempt <= attempts && !this.#closed; attempt++) {
        try { await handler(job, { attempt, attempts }); this.#done++; return; } catch (e) { last = (e as Error).message; }
      }
      if (this.#closed) return;
      this.#failed++;
      await opts.onDead(job, last);
    };
    this.#run = (): void => {
      while (!this.#closed && this.#active < opts.concurrency && this.#waiting.length) {
        const job = this.#waiting.shift()!;
        this.#active++;
        one(job).catch(() => {}).finally(() => { this.#active--; this.#known.delete(jobKey(job)); this.#run?.(); });
      }
    };
    this.#run();
  }

  async counts(): Promise<Record<string, number>> {
    return { waiting: this.#waiting.length, active: this.#active, completed: this.#done, failed: this.#failed };
  }

  async close(): Promise<void> { this.#closed = true; this.#waiting = []; }
}

export interface BullOptions extends QueueOptions {
  /** how long a job's lock lasts without renewal, ms: a killed worker's job runs again after this (default 30 s) */
  lockMs?: number;
  /** how often workers look for jobs whose worker vanished, ms (default lockMs) */
  stalledMs?: number;
  /** the queue's name, so that several services can share one Redis (default 'vaat-analysis') */
  name?: string;
}

/** BullMQ on Redis: any number of `vaat worker` processes on any machines */
export async function openBullQueue(url: string, opts: BullOptions = {}): Promise<JobQueue> {
  const { Queue, Worker } = await importModule<typeof import('bullmq')>('bullmq');
  const { Redis } = await importModule<typeof import('ioredis')>('ioredis');
  // BullMQ's workers block on Redis: no per-request retry limit
  const connect = (): InstanceType<typeof Redis> => new Redis(url, { maxRetriesPerRequest: null });
  const name = opts.name ?? 'vaat-analysis';
  const attempts = opts.attempts ?? 3;
  const conn = connect();
  const queue = new Queue<AnalysisJob>(name, { connection: conn });
  let worker: InstanceType<typeof Worker<AnalysisJob>> | null = null;
  let workerConn: InstanceType<typeof Redis> | null = null;
  return {
    kind: 'bullmq',
    async add(job) {
      await queue.add('analyse', job, {
        // one job per dump version: queuing it again while it waits or runs is a no-op
        jobId: `d${job.dumpId}-${job.fingerprint.replace(/[^\w]/g, '_')}`,
        attempts, backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { count: 1000 }, removeOnFail: false,
      });
    },
    consume(handler, c) {
      workerConn = connect();
      worker = new Worker<AnalysisJob>(name, async (job) => {
        const ctx = { attempt: job.attemptsMade + 1, attempts: job.opts.attempts ?? attempts };
        try {
          await handler(job.data, ctx);
        } catch (e) {
          if (ctx.attempt >= ctx.attempts) await c.onDead(job.data, (e as Error).message);
          throw e;
        }
      }, {
        connection: workerConn, concurrency: c.concurrency, autorun: true,
        lockDuration: opts.lockMs ?? 30_000, stalledInterval: opts.stalledMs ?? opts.lockMs ?? 30_000, maxStalledCount: 2,
      });
      worker.on('error', (e) => process.stderr.write(`vaat: queue: ${e.message}\n`));
    },
    async counts() {
      return queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed') as Promise<Record<string, number>>;
    },
    async close() {
      await worker?.close();
      await queue.close();
      conn.disconnect();
      workerConn?.disconnect();
    },
  };
}
