/**
 * Incremental bucketing: each new dump joins a bucket as it lands, by the same three layers as
 * `vaat triage` (src/fleet/triage.ts) — the same crash written twice, then class + guilty frame,
 * then single-linkage similarity above a threshold — without comparing it with every dump seen.
 * An index of signature keys (table signature_keys) names the only dumps that can matter:
 *  - `dup:` the identity of a crash (crash time, build-id, host, panic CPU, pid, task);
 *  - `exact:` class, title and guilty frame (similarity.ts exactKey);
 *  - `frame:` each relevant frame, per class. Crashes of different classes score 0, and within a
 *    class two stacks with no frame in common score at most class 0.4 + state 0.15 = 0.55 (with
 *    the default weights), below any threshold above that, so sharing a frame is necessary;
 *  - `state:` each lock and blocked-stack key, per class, for the classes whose stack names no
 *    bug (sysrq, unknown): their score is the state's, which is 0 without a key in common.
 * Below that bound (a threshold ≤ 0.55) every dump of the class is a candidate (`class:` key).
 */
import { exactKey, compareSignatures, stateKeys, DEFAULT_WEIGHTS } from '../fleet/similarity.js';
import { stackNamesNoBug, type CrashSignature } from '../fleet/signature.js';
import { DEFAULT_THRESHOLD } from '../fleet/triage.js';
import type { Sql } from './db.js';

export interface BucketingOptions { threshold?: number }

/** the most two crashes of one class can score with no relevant frame in common */
const NO_FRAME_CEILING = DEFAULT_WEIGHTS.class + DEFAULT_WEIGHTS.state;

export function duplicateKey(s: CrashSignature): string | null {
  const x = s.identity;
  if (x.crashTime === null) return null;
  return `dup:${x.crashTime}|${x.buildId}|${x.nodename}|${x.panicCpu}|${x.panicPid}|${x.panicTask}`;
}

/** the keys a dump can be found by when a later one looks for its candidates */
export function candidateKeys(s: CrashSignature, threshold = DEFAULT_THRESHOLD): string[] {
  const keys = new Set<string>();
  const kind = s.class.kind;
  if (stackNamesNoBug(s.class)) {
    const st = stateKeys(s);
    for (const k of st.locks) keys.add(`state:${kind}|${k}`);
    for (const k of st.blocked) keys.add(`state:${kind}|blocked:${k}`);
  } else {
    for (const f of s.frames.relevant) keys.add(`frame:${kind}|${f}`);
    if (threshold <= NO_FRAME_CEILING) keys.add(`class:${kind}`);
  }
  return [...keys];
}

export function indexKeys(s: CrashSignature, threshold = DEFAULT_THRESHOLD): string[] {
  const d = duplicateKey(s), e = exactKey(s);
  return [...(d ? [d] : []), ...(e ? [`exact:${e}`] : []), ...candidateKeys(s, threshold)];
}

export interface Assignment { bucketId: number; duplicateOf: number | null; why: string; merged: number[] }

interface Candidate { id: number; path: string; bucket_id: number; signature: string }

const name = (p: string): string => p.split('/').slice(-2).join('/');
const inList = (n: number): string => new Array(n).fill('?').join(', ');

async function dumpsWithKeys(tx: Sql, keys: readonly string[], self: number): Promise<Candidate[]> {
  if (keys.length === 0) return [];
  return tx.all<Candidate>(
    `SELECT DISTINCT d.id, d.path, d.bucket_id, d.signature FROM signature_keys k JOIN dumps d ON d.id = k.dump_id
     WHERE k.key IN (${inList(keys.length)}) AND d.id <> ? AND d.state = 'done' AND d.bucket_id IS NOT NULL ORDER BY d.id`,
    [...keys, self],
  );
}

/**
 * Put dump `id` (its signature already stored) into a bucket, inside an exclusive transaction:
 * an existing one it matches, several merged into the oldest when it links them, or a new one.
 */
export async function assignBucket(tx: Sql, id: number, path: string, sig: CrashSignature, now: number, opts: BucketingOptions = {}): Promise<Assignment> {
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  const dk = duplicateKey(sig);
  const original = dk ? (await dumpsWithKeys(tx, [dk], id))[0] : undefined;
  let target: { bucket: number; why: string }[] = [];
  let duplicateOf: number | null = null;
  if (original) {
    duplicateOf = original.id;
    target = [{ bucket: original.bucket_id, why: `${name(path)} is ${name(original.path)} written again (same crash time, build-id, host, panic CPU and task)` }];
  } else {
    const ek = exactKey(sig);
    const exact = ek ? (await dumpsWithKeys(tx, [`exact:${ek}`], id))[0] : undefined;
    if (exact) target.push({ bucket: exact.bucket_id, why: `${name(path)}: exact match with ${name(exact.path)} on class and guilty frame (${sig.class.title})` });
    // single linkage: any member of a bucket close enough pulls the dump in
    const best = new Map<number, { score: number; why: string }>();
    for (const c of await dumpsWithKeys(tx, candidateKeys(sig, threshold), id)) {
      if (target.some((t) => t.bucket === c.bucket_id) && !best.has(c.bucket_id)) continue;
      const s = compareSignatures(sig, JSON.parse(c.signature) as CrashSignature);
      if (s.score >= threshold && s.score > (best.get(c.bucket_id)?.score ?? -1)) {
        best.set(c.bucket_id, { score: s.score, why: `${name(path)} ~ ${name(c.path)}: similarity ${s.score} ≥ ${threshold}: ${s.reasons.join('; ')}` });
      }
    }
    for (const [bucket, b] of best) if (!target.some((t) => t.bucket === bucket)) target.push({ bucket, why: b.why });
  }

  let bucketId: number;
  const merged: number[] = [];
  if (target.length === 0) {
    const row = await tx.get<{ id: number }>(
      'INSERT INTO buckets (title, kind, guilty, representative_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      [sig.class.title, sig.class.kind, sig.frames.guilty, id, now, now],
    );
    bucketId = Number(row!.id);
  } else {
    // the dump links these buckets: they become one, under the oldest
    bucketId = Math.min(...target.map((t) => t.bucket));
    for (const t of target) {
      if (t.bucket === bucketId || merged.includes(t.bucket)) continue;
      await tx.run('UPDATE dumps SET bucket_id = ? WHERE bucket_id = ?', [bucketId, t.bucket]);
      await tx.run('DELETE FROM buckets WHERE id = ?', [t.bucket]);
      merged.push(t.bucket);
    }
    await tx.run('UPDATE buckets SET updated_at = ? WHERE id = ?', [now, bucketId]);
  }
  const why = target.length ? target.map((t) => t.why).join('\n') : 'alone: no earlier crash is similar enough';
  await tx.run('UPDATE dumps SET bucket_id = ?, duplicate_of = ?, why = ? WHERE id = ?', [bucketId, duplicateOf, why, id]);
  // only originals are indexed: a later copy of the crash finds the first write, as triage does
  if (duplicateOf === null) {
    for (const k of indexKeys(sig, threshold)) {
      await tx.run('INSERT INTO signature_keys (key, dump_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [k, id]);
    }
  }
  return { bucketId, duplicateOf, why, merged };
}

/** dumps sharing any index key with `sig`, ranked by similarity (the `similar` command over the database) */
export async function similarTo(tx: Sql, id: number, sig: CrashSignature, limit = 20): Promise<{ id: number; path: string; bucketId: number; score: number; duplicate: boolean; exact: boolean; reasons: string[] }[]> {
  const cands = await dumpsWithKeys(tx, indexKeys(sig, 0), id);
  return cands
    .map((c) => {
      const s = compareSignatures(sig, JSON.parse(c.signature) as CrashSignature);
      return { id: Number(c.id), path: c.path, bucketId: Number(c.bucket_id), score: s.score, duplicate: s.duplicate, exact: s.exact, reasons: s.reasons };
    })
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, limit);
}
