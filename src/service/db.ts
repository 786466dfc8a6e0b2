/**
 * The two databases behind one small SQL interface, so that every query and the bucketing are
 * written once: SQLite (better-sqlite3, the embedded default) and PostgreSQL (pg, the
 * distributed setup). Queries use `?` placeholders; numbers are JavaScript numbers on both.
 */
import { importModule } from '../dynamic-import.js';
export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

export interface Sql {
  readonly dialect: 'sqlite' | 'postgres';
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** rows changed */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface Db extends Sql {
  /**
   * fn in one transaction. `exclusive`: no other exclusive transaction of any process runs at the
   * same time (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock) — what
   * incremental bucketing needs, since each assignment depends on the ones before it.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>, opts?: { exclusive?: boolean }): Promise<T>;
  close(): Promise<void>;
  /** where it is, without secrets: a file path, or host:port/database */
  readonly where: string;
}

/** a serial queue: SQLite has one connection, and a transaction must not interleave with other work on it */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.#tail.then(fn, fn);
    this.#tail = r.catch(() => {});
    return r;
  }
}

export async function openSqlite(file: string): Promise<Db> {
  const { default: Database } = await importModule<{ default: typeof import('better-sqlite3') }>('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  const mutex = new Mutex();
  const direct: Sql = {
    dialect: 'sqlite',
    all: async <T>(sql: string, p: readonly SqlValue[] = []) => db.prepare(sql).all(...p) as T[],
    get: async <T>(sql: string, p: readonly SqlValue[] = []) => db.prepare(sql).get(...p) as T | undefined,
    run: async (sql, p = []) => db.prepare(sql).run(...p).changes,
  };
  return {
    dialect: 'sqlite',
    where: file,
    all: (sql, p) => mutex.run(() => direct.all(sql, p)),
    get: (sql, p) => mutex.run(() => direct.get(sql, p)),
    run: (sql, p) => mutex.run(() => direct.run(sql, p)),
    transaction: (fn, opts) => mutex.run(async () => {
      db.exec(opts?.exclusive ? 'BEGIN IMMEDIATE' : 'BEGIN');
      try {
        const r = await fn(direct);
        db.exec('COMMIT');
        return r;
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    }),
    close: async () => { db.close(); },
  };
}

/** `?` → `$1, $2 ...` (our SQL has no `?` inside literals) */
const numbered = (sql: string): string => { let i = 0; return sql.replace(/\?/g, () => `$${++i}`); };

/** the advisory lock key for exclusive transactions: any constant both sides agree on */
const BUCKET_LOCK = 0x7661_6174;

export async function openPostgres(url: string): Promise<Db> {
  const pg = (await importModule<typeof import('pg')>('pg')).default;
  // BIGINT (ms timestamps, sizes) as numbers: all ours are below 2^53
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const u = new URL(url);
  const over = (q: { query: (s: string, p?: unknown[]) => Promise<{ rows: unknown[]; rowCount: number | null }> }): Sql => ({
    dialect: 'postgres',
    all: async <T>(sql: string, p: readonly SqlValue[] = []) => (await q.query(numbered(sql), [...p])).rows as T[],
    get: async <T>(sql: string, p: readonly SqlValue[] = []) => (await q.query(numbered(sql), [...p])).rows[0] as T | undefined,
    run: async (sql, p = []) => (await q.query(numbered(sql), [...p])).rowCount ?? 0,
  });
  return {
    ...over(pool),
    where: `${u.hostname}:${u.port || 5432}${u.pathname}`,
    transaction: async (fn, opts) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        if (opts?.exclusive) await c.query('SELECT pg_advisory_xact_lock($1)', [BUCKET_LOCK]);
        const r = await fn(over(c));
        await c.query('COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        c.release();
      }
    },
    close: () => pool.end(),
  };
}

export async function openDb(spec: string): Promise<Db> {
  return /^postgres(ql)?:\/\//.test(spec) ? openPostgres(spec) : openSqlite(spec.replace(/^sqlite:(\/\/)?/, ''));
}
