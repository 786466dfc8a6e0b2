/**
 * The service's schema, as numbered migrations applied in order and recorded in
 * schema_migrations; the same tables on SQLite and PostgreSQL, the column types spelled per
 * dialect. Add a migration at the end, never edit one that has shipped.
 */
import type { Db, Sql } from './db.js';

type Dialect = Sql['dialect'];
/** an auto-numbered primary key, and a 64-bit integer (ms timestamps, sizes) */
const types = (d: Dialect): { id: string; big: string } =>
  d === 'sqlite' ? { id: 'INTEGER PRIMARY KEY AUTOINCREMENT', big: 'INTEGER' } : { id: 'BIGSERIAL PRIMARY KEY', big: 'BIGINT' };

export const MIGRATIONS: readonly { version: number; name: string; sql: (d: Dialect) => string[] }[] = [
  {
    version: 1,
    name: 'dumps, buckets, report sections, signature index',
    sql: (d) => {
      const { id, big } = types(d);
      return [
        `CREATE TABLE buckets (
          id ${id},
          title TEXT NOT NULL,
          kind TEXT NOT NULL,
          guilty TEXT,
          representative_id ${big},
          created_at ${big} NOT NULL,
          updated_at ${big} NOT NULL
        )`,
        `CREATE TABLE dumps (
          id ${id},
          path TEXT NOT NULL UNIQUE,
          fingerprint TEXT NOT NULL,
          size ${big} NOT NULL,
          state TEXT NOT NULL,
          format TEXT,
          incomplete INTEGER NOT NULL DEFAULT 0,
          truncated INTEGER NOT NULL DEFAULT 0,
          error TEXT,
          dead_letter INTEGER NOT NULL DEFAULT 0,
          warnings TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          analyses INTEGER NOT NULL DEFAULT 0,
          worker TEXT,
          bucket_id ${big} REFERENCES buckets(id),
          duplicate_of ${big},
          why TEXT,
          signature TEXT,
          title TEXT,
          kind TEXT,
          guilty TEXT,
          host TEXT,
          kernel TEXT,
          crash_time TEXT,
          report_dir TEXT,
          arrived_at ${big} NOT NULL,
          queued_at ${big},
          started_at ${big},
          analysed_at ${big},
          bucketed_at ${big},
          analysis_ms INTEGER
        )`,
        'CREATE INDEX dumps_state ON dumps(state)',
        'CREATE INDEX dumps_bucket ON dumps(bucket_id)',
        `CREATE TABLE sections (
          dump_id ${big} NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          command TEXT NOT NULL,
          ok INTEGER NOT NULL,
          ms INTEGER NOT NULL,
          error TEXT,
          json TEXT,
          text TEXT,
          PRIMARY KEY (dump_id, name)
        )`,
        // the signature index: a new dump is compared only with dumps sharing a key (src/service/bucketing.ts)
        `CREATE TABLE signature_keys (
          key TEXT NOT NULL,
          dump_id ${big} NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
          PRIMARY KEY (key, dump_id)
        )`,
        'CREATE INDEX signature_keys_dump ON signature_keys(dump_id)',
      ];
    },
  },
  {
    version: 2,
    name: "the report's summary, for the dump's HTML page",
    // summary.json of src/fleet/report.ts as the worker wrote it (analyses, overview); the sections hold the rest
    sql: () => ['ALTER TABLE dumps ADD COLUMN summary TEXT'],
  },
];

export async function migrate(db: Db): Promise<number[]> {
  const { big } = types(db.dialect);
  return db.transaction(async (tx) => {
    await tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${big} NOT NULL)`);
    const done = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const s of m.sql(db.dialect)) await tx.run(s);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
      applied.push(m.version);
    }
    return applied;
  }, { exclusive: true }); // serve and workers may start together: one migrates, the others wait and find it done
}
