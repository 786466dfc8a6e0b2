/**
 * What the fleet service keeps: one Storage interface, implemented once over the SQL of db.ts
 * for both SQLite (embedded) and PostgreSQL (distributed). A dump row is keyed by its path and
 * carries the fingerprint (size, mtime, inode) it was analysed at: the same file is analysed once,
 * across restarts and across workers; a changed file is analysed again.
 */
import type { Db, Row, Sql } from './db.js';
import { migrate } from './migrations.js';
import { assignBucket, similarTo, type BucketingOptions } from './bucketing.js';
import type { ServiceAnalysis } from './analyse.js';
import type { CrashSignature } from '../fleet/signature.js';
import type { ReportSummary } from '../fleet/report.js';

export type DumpState = 'queued' | 'analysing' | 'done' | 'failed' | 'rejected';

/** a complete file the watcher hands over */
export interface Arrival {
  path: string;
  /** `size:mtimeMs:ino`: a change to any is a new file to analyse */
  fingerprint: string;
  size: number;
  /** the format probe's answer; null with rejectReason when it is not a dump */
  format: string | null;
  rejectReason: string | null;
  incomplete: boolean;
  arrivedAt: number;
}

/** what goes on a queue: the dump, at the fingerprint it was queued for */
export interface AnalysisJob { dumpId: number; path: string; fingerprint: string }

export interface DumpRecord {
  id: number;
  path: string;
  fingerprint: string;
  size: number;
  state: DumpState;
  format: string | null;
  incomplete: boolean;
  truncated: boolean;
  error: string | null;
  deadLetter: boolean;
  warnings: string[];
  /** times an analysis started (a killed worker's try counts), and times one was stored (1 when done) */
  attempts: number;
  analyses: number;
  worker: string | null;
  bucketId: number | null;
  duplicateOf: number | null;
  why: string | null;
  title: string | null;
  kind: string | null;
  guilty: string | null;
  host: string | null;
  kernel: string | null;
  crashTime: string | null;
  reportDir: string | null;
  arrivedAt: number;
  startedAt: number | null;
  analysedAt: number | null;
  bucketedAt: number | null;
  analysisMs: number | null;
}

export interface BucketRecord {
  id: number;
  title: string;
  kind: string;
  guilty: string | null;
  /** dumps in it, and distinct crashes (copies of one crash counted once) */
  files: number;
  count: number;
  representativeId: number | null;
  hosts: string[];
  kernels: string[];
  firstCrash: string | null;
  lastCrash: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface SectionRecord { name: string; command: string; ok: boolean; ms: number; error: string | null; json: string | null; text: string | null }

export interface Stats { byState: Record<string, number>; buckets: number }

export interface DumpFilter { state?: DumpState; bucketId?: number; afterId?: number; limit?: number }

export interface Storage {
  readonly where: string;
  migrate(): Promise<number[]>;
  /** record a complete file; `queue` when it needs analysing (new, changed, or queued before a restart) */
  arrive(a: Arrival): Promise<{ id: number; queue: boolean; state: DumpState }>;
  /** a worker takes the job; false when it is stale (the file changed) or already done */
  start(job: AnalysisJob, worker: string, now?: number): Promise<boolean>;
  /** store an analysis and bucket the dump, exactly once; null when someone stored it first */
  finish(job: AnalysisJob, worker: string, a: ServiceAnalysis, ms: number): Promise<{ bucketId: number | null } | null>;
  /** the dump could not be analysed: kept with its error until the file changes */
  fail(job: AnalysisJob, worker: string, error: string, deadLetter: boolean): Promise<boolean>;
  /** dumps queued or analysing: after a restart, their jobs are queued again */
  unfinished(): Promise<AnalysisJob[]>;
  dump(id: number): Promise<DumpRecord | null>;
  dumpByPath(path: string): Promise<DumpRecord | null>;
  /** dumps in id order; `afterId` and `limit` page through them (keyset: stable while dumps arrive) */
  dumps(filter?: DumpFilter): Promise<DumpRecord[]>;
  buckets(): Promise<BucketRecord[]>;
  bucket(id: number): Promise<BucketRecord | null>;
  sections(id: number): Promise<Omit<SectionRecord, 'json' | 'text'>[]>;
  section(id: number, name: string): Promise<SectionRecord | null>;
  /** the report's summary.json, once analysed */
  summary(id: number): Promise<ReportSummary | null>;
  /** every section's --json output by name (the dump page's data) */
  sectionsJson(id: number): Promise<Map<string, string>>;
  /** per dump, how many of its report's analyses succeeded and failed (the fleet page) */
  sectionCounts(): Promise<Map<number, { ok: number; failed: number }>>;
  similar(id: number, limit?: number): Promise<{ id: number; path: string; bucketId: number; score: number; duplicate: boolean; exact: boolean; reasons: string[] }[] | null>;
  stats(): Promise<Stats>;
  close(): Promise<void>;
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function dumpRecord(r: Row): DumpRecord {
  return {
    id: Number(r.id), path: String(r.path), fingerprint: String(r.fingerprint), size: Number(r.size), state: r.state as DumpState,
    format: s(r.format), incomplete: !!Number(r.incomplete), truncated: !!Number(r.truncated), error: s(r.error), deadLetter: !!Number(r.dead_letter),
    warnings: r.warnings ? JSON.parse(String(r.warnings)) as string[] : [],
    attempts: Number(r.attempts), analyses: Number(r.analyses), worker: s(r.worker), bucketId: n(r.bucket_id), duplicateOf: n(r.duplicate_of),
    why: s(r.why), title: s(r.title), kind: s(r.kind), guilty: s(r.guilty), host: s(r.host), kernel: s(r.kernel), crashTime: s(r.crash_time),
    reportDir: s(r.report_dir), arrivedAt: Number(r.arrived_at), startedAt: n(r.started_at), analysedAt: n(r.analysed_at), bucketedAt: n(r.bucketed_at),
    analysisMs: n(r.analysis_ms),
  };
}

/** dump columns without the big signature text */
const DUMP_COLUMNS = `id, path, fingerprint, size, state, format, incomplete, truncated, error, dead_letter, warnings, attempts, analyses, worker,
  bucket_id, duplicate_of, why, title, kind, guilty, host, kernel, crash_time, report_dir, arrived_at, started_at, analysed_at, bucketed_at, analysis_ms`;

export class SqlStorage implements Storage {
  constructor(readonly db: Db, readonly bucketing: BucketingOptions = {}) {}

  get where(): string { return this.db.where; }

  migrate(): Promise<number[]> { return migrate(this.db); }

  close(): Promise<void> { return this.db.close(); }

  arrive(a: Arrival): Promise<{ id: number; queue: boolean; state: DumpState }> {
    const state: DumpState = a.rejectReason ? 'rejected' : 'queued';
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ id: number; fingerprint: string; state: DumpState }>('SELECT id, fingerprint, state FROM dumps WHERE path = ?', [a.path]);
      if (row && row.fingerprint === a.fingerprint) {
        const st = row.state;
        return { id: Number(row.id), queue: st === 'queued' || st === 'analysing', state: st };
      }
      if (row) {
        // the file changed: what was known of it goes, and it is analysed afresh
        await this.#forget(tx, Number(row.id));
        await tx.run(
          `UPDATE dumps SET fingerprint = ?, size = ?, state = ?, format = ?, incomplete = ?, truncated = 0, error = ?, dead_letter = 0, warnings = NULL,
             analyses = 0, worker = NULL, bucket_id = NULL, duplicate_of = NULL, why = NULL, signature = NULL, title = NULL, kind = NULL, guilty = NULL,
             host = NULL, kernel = NULL, crash_time = NULL, report_dir = NULL, summary = NULL, arrived_at = ?, queued_at = ?, started_at = NULL, analysed_at = NULL,
             bucketed_at = NULL, analysis_ms = NULL WHERE id = ?`,
          [a.fingerprint, a.size, state, a.format, a.incomplete ? 1 : 0, a.rejectReason, a.arrivedAt, Date.now(), row.id],
        );
        return { id: Number(row.id), queue: state === 'queued', state };
      }
      const ins = await tx.get<{ id: number }>(
        `INSERT INTO dumps (path, fingerprint, size, state, format, incomplete, error, arrived_at, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [a.path, a.fingerprint, a.size, state, a.format, a.incomplete ? 1 : 0, a.rejectReason, a.arrivedAt, Date.now()],
      );
      return { id: Number(ins!.id), queue: state === 'queued', state };
    }, { exclusive: true });
  }

  /** drop a dump's results and take it out of its bucket (the bucket goes when it empties) */
  async #forget(tx: Sql, id: number): Promise<void> {
    const b = await tx.get<{ bucket_id: number | null }>('SELECT bucket_id FROM dumps WHERE id = ?', [id]);
    await tx.run('DELETE FROM sections WHERE dump_id = ?', [id]);
    await tx.run('DELETE FROM signature_keys WHERE dump_id = ?', [id]);
    await tx.run('UPDATE dumps SET bucket_id = NULL, duplicate_of = NULL WHERE id = ?', [id]);
    await tx.run('UPDATE dumps SET duplicate_of = NULL WHERE duplicate_of = ?', [id]);
    if (b?.bucket_id != null) {
      const left = await tx.get<{ c: number }>('SELECT COUNT(*) AS c FROM dumps WHERE bucket_id = ?', [b.bucket_id]);
      if (Number(left?.c ?? 0) === 0) await tx.run('DELETE FROM buckets WHERE id = ?', [b.bucket_id]);
      else await tx.run("UPDATE buckets SET representative_id = (SELECT MIN(id) FROM dumps WHERE bucket_id = ? AND duplicate_of IS NULL) WHERE id = ? AND representative_id = ?", [b.bucket_id, b.bucket_id, id]);
    }
  }

  async start(job: AnalysisJob, worker: string, now = Date.now()): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE dumps SET state = 'analysing', attempts = attempts + 1, worker = ?, started_at = ? WHERE id = ? AND fingerprint = ? AND state IN ('queued', 'analysing')`,
      [worker, now, job.dumpId, job.fingerprint],
    );
    return changed > 0;
  }

  finish(job: AnalysisJob, worker: string, a: ServiceAnalysis, ms: number): Promise<{ bucketId: number | null } | null> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ state: DumpState; path: string }>('SELECT state, path FROM dumps WHERE id = ? AND fingerprint = ?', [job.dumpId, job.fingerprint]);
      // done already (another worker finished first) or the file changed meanwhile: not stored twice
      if (!row || row.state === 'done' || row.state === 'rejected') return null;
      const now = Date.now();
      const sig = a.signature;
      await tx.run('DELETE FROM sections WHERE dump_id = ?', [job.dumpId]);
      for (const x of a.sections) {
        await tx.run('INSERT INTO sections (dump_id, name, command, ok, ms, error, json, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [job.dumpId, x.name, x.command, x.ok ? 1 : 0, x.ms, x.error, x.json, x.text]);
      }
      await tx.run(
        `UPDATE dumps SET state = 'done', error = NULL, dead_letter = 0, format = ?, truncated = ?, warnings = ?, analyses = analyses + 1, worker = ?,
           signature = ?, title = ?, kind = ?, guilty = ?, host = ?, kernel = ?, crash_time = ?, report_dir = ?, summary = ?, analysed_at = ?, analysis_ms = ? WHERE id = ?`,
        [a.format, a.truncated ? 1 : 0, JSON.stringify(a.warnings), worker, sig ? JSON.stringify(sig) : null, sig?.class.title ?? a.title,
          sig?.class.kind ?? null, sig?.frames.guilty ?? null, sig?.identity.nodename ?? null, sig?.identity.release ?? null,
          sig?.identity.crashTimeUtc ?? null, a.reportDir, a.summary ? JSON.stringify(a.summary) : null, now, Math.round(ms), job.dumpId],
      );
      let bucketId: number | null = null;
      if (sig) {
        bucketId = (await assignBucket(tx, job.dumpId, row.path, sig, now, this.bucketing)).bucketId;
        await tx.run('UPDATE dumps SET bucketed_at = ? WHERE id = ?', [Date.now(), job.dumpId]);
      }
      return { bucketId };
    }, { exclusive: true });
  }

  async fail(job: AnalysisJob, worker: string, error: string, deadLetter: boolean): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE dumps SET state = 'failed', error = ?, dead_letter = ?, worker = ?, analysed_at = ? WHERE id = ? AND fingerprint = ? AND state IN ('queued', 'analysing')`,
      [error.split('\n')[0], deadLetter ? 1 : 0, worker, Date.now(), job.dumpId, job.fingerprint],
    );
    return changed > 0;
  }

  async unfinished(): Promise<AnalysisJob[]> {
    const rows = await this.db.all<{ id: number; path: string; fingerprint: string }>("SELECT id, path, fingerprint FROM dumps WHERE state IN ('queued', 'analysing') ORDER BY id");
    return rows.map((r) => ({ dumpId: Number(r.id), path: r.path, fingerprint: r.fingerprint }));
  }

  async dump(id: number): Promise<DumpRecord | null> {
    const r = await this.db.get(`SELECT ${DUMP_COLUMNS} FROM dumps WHERE id = ?`, [id]);
    return r ? dumpRecord(r) : null;
  }

  async dumpByPath(path: string): Promise<DumpRecord | null> {
    const r = await this.db.get(`SELECT ${DUMP_COLUMNS} FROM dumps WHERE path = ?`, [path]);
    return r ? dumpRecord(r) : null;
  }

  async signature(id: number): Promise<CrashSignature | null> {
    const r = await this.db.get<{ signature: string | null }>('SELECT signature FROM dumps WHERE id = ?', [id]);
    return r?.signature ? JSON.parse(r.signature) as CrashSignature : null;
  }

  async dumps(filter: DumpFilter = {}): Promise<DumpRecord[]> {
    const where: string[] = [], p: (string | number)[] = [];
    if (filter.state) { where.push('state = ?'); p.push(filter.state); }
    if (filter.bucketId !== undefined) { where.push('bucket_id = ?'); p.push(filter.bucketId); }
    if (filter.afterId !== undefined) { where.push('id > ?'); p.push(filter.afterId); }
    if (filter.limit !== undefined) p.push(filter.limit);
    const rows = await this.db.all(
      `SELECT ${DUMP_COLUMNS} FROM dumps ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id${filter.limit !== undefined ? ' LIMIT ?' : ''}`, p);
    return rows.map(dumpRecord);
  }

  async buckets(): Promise<BucketRecord[]> {
    const bs = await this.db.all('SELECT id, title, kind, guilty, representative_id, created_at, updated_at FROM buckets ORDER BY id');
    const members = await this.db.all<{ bucket_id: number; duplicate_of: number | null; host: string | null; kernel: string | null; crash_time: string | null }>(
      'SELECT bucket_id, duplicate_of, host, kernel, crash_time FROM dumps WHERE bucket_id IS NOT NULL');
    const by = new Map<number, typeof members>();
    for (const m of members) by.set(Number(m.bucket_id), [...(by.get(Number(m.bucket_id)) ?? []), m]);
    const uniq = (xs: (string | null)[]): string[] => [...new Set(xs.filter((x): x is string => !!x))].sort();
    return bs.map((b) => {
      const ms = by.get(Number(b.id)) ?? [];
      const times = uniq(ms.map((m) => m.crash_time));
      return {
        id: Number(b.id), title: String(b.title), kind: String(b.kind), guilty: s(b.guilty), files: ms.length,
        count: ms.filter((m) => m.duplicate_of === null).length, representativeId: n(b.representative_id),
        hosts: uniq(ms.map((m) => m.host)), kernels: uniq(ms.map((m) => m.kernel)),
        firstCrash: times[0] ?? null, lastCrash: times[times.length - 1] ?? null, createdAt: Number(b.created_at), updatedAt: Number(b.updated_at),
      };
    }).sort((a, b) => b.count - a.count || a.id - b.id);
  }

  async bucket(id: number): Promise<BucketRecord | null> {
    return (await this.buckets()).find((b) => b.id === id) ?? null;
  }

  async sections(id: number): Promise<Omit<SectionRecord, 'json' | 'text'>[]> {
    const rows = await this.db.all('SELECT name, command, ok, ms, error FROM sections WHERE dump_id = ? ORDER BY name', [id]);
    return rows.map((r) => ({ name: String(r.name), command: String(r.command), ok: !!Number(r.ok), ms: Number(r.ms), error: s(r.error) }));
  }

  async section(id: number, name: string): Promise<SectionRecord | null> {
    const r = await this.db.get('SELECT name, command, ok, ms, error, json, text FROM sections WHERE dump_id = ? AND name = ?', [id, name]);
    return r ? { name: String(r.name), command: String(r.command), ok: !!Number(r.ok), ms: Number(r.ms), error: s(r.error), json: s(r.json), text: s(r.text) } : null;
  }

  async summary(id: number): Promise<ReportSummary | null> {
    const r = await this.db.get<{ summary: string | null }>('SELECT summary FROM dumps WHERE id = ?', [id]);
    return r?.summary ? JSON.parse(r.summary) as ReportSummary : null;
  }

  async sectionsJson(id: number): Promise<Map<string, string>> {
    const rows = await this.db.all<{ name: string; json: string | null }>('SELECT name, json FROM sections WHERE dump_id = ? AND ok = 1', [id]);
    return new Map(rows.filter((r) => r.json !== null).map((r) => [String(r.name), String(r.json)]));
  }

  async sectionCounts(): Promise<Map<number, { ok: number; failed: number }>> {
    const rows = await this.db.all<{ dump_id: number; ok: number; c: number }>('SELECT dump_id, ok, COUNT(*) AS c FROM sections GROUP BY dump_id, ok');
    const out = new Map<number, { ok: number; failed: number }>();
    for (const r of rows) {
      const e = out.get(Number(r.dump_id)) ?? { ok: 0, failed: 0 };
      if (Number(r.ok)) e.ok += Number(r.c); else e.failed += Number(r.c);
      out.set(Number(r.dump_id), e);
    }
    return out;
  }

  async similar(id: number, limit = 20): ReturnType<Storage['similar']> {
    const sig = await this.signature(id);
    if (!sig) return null;
    return similarTo(this.db, id, sig, limit);
  }

  async stats(): Promise<Stats> {
    const rows = await this.db.all<{ state: string; c: number }>('SELECT state, COUNT(*) AS c FROM dumps GROUP BY state');
    const b = await this.db.get<{ c: number }>('SELECT COUNT(*) AS c FROM buckets');
    return { byState: Object.fromEntries(rows.map((r) => [r.state, Number(r.c)])), buckets: Number(b?.c ?? 0) };
  }
}
