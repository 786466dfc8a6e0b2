/**
 * Bucketing crash signatures: crashes written twice collapse first, then exact matches on class +
 * guilty frame, then single-linkage on the similarity score above a threshold. Every merge keeps
 * the reason it was made, so a bucket can say why its members are together.
 */
import type { CrashSignature } from './signature.js';
import { compareSignatures, exactKey, sameCrash, type Similarity, type SimilarityWeights } from './similarity.js';

export interface TriageInput { path: string; signature: CrashSignature }

export interface BucketMember {
  path: string;
  crashTime: string | null;
  host: string | null;
  /** this file is another write of the crash in `duplicateOf` */
  duplicateOf: string | null;
}

export interface Bucket {
  id: number;
  title: string;
  kind: string;
  guilty: string | null;
  /** distinct crashes (duplicates counted once) */
  count: number;
  files: number;
  firstCrash: string | null;
  lastCrash: string | null;
  hosts: string[];
  releases: string[];
  representative: string;
  members: BucketMember[];
  /** why the members were grouped: one line per merge */
  why: string[];
}

export interface TriageOptions {
  /** similarity at or above which two crashes share a bucket (default 0.75) */
  threshold?: number;
  weights?: SimilarityWeights;
}

export const DEFAULT_THRESHOLD = 0.75;

class UnionFind {
  readonly parent: number[];
  constructor(n: number) { this.parent = Array.from({ length: n }, (_, i) => i); }
  find(i: number): number { while (this.parent[i] !== i) { this.parent[i] = this.parent[this.parent[i]]; i = this.parent[i]; } return i; }
  union(a: number, b: number): boolean {
    const ra = this.find(a), rb = this.find(b);
    if (ra === rb) return false;
    this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
    return true;
  }
}

const base = (p: string): string => p.split('/').slice(-2).join('/');

export function triage(inputs: readonly TriageInput[], opts: TriageOptions = {}): Bucket[] {
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  // oldest first, so representatives and duplicate originals are the first crash seen
  const items = [...inputs].sort((a, b) => (a.signature.identity.crashTime ?? Infinity) - (b.signature.identity.crashTime ?? Infinity) || a.path.localeCompare(b.path));
  const n = items.length;
  const uf = new UnionFind(n);
  const why = new Map<number, string[]>();
  const duplicateOf = new Array<number | null>(n).fill(null);
  const note = (i: number, j: number, text: string): void => {
    const ri = uf.find(i), rj = uf.find(j);
    if (!uf.union(ri, rj)) return;
    const merged = [...(why.get(ri) ?? []), ...(why.get(rj) ?? []), text];
    why.delete(ri); why.delete(rj); why.set(uf.find(ri), merged);
  };

  // 1: the same crash written twice
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (duplicateOf[j] === null && sameCrash(items[i].signature, items[j].signature)) {
        duplicateOf[i] = j;
        note(j, i, `${base(items[i].path)} is ${base(items[j].path)} written again (same crash time, build-id, host, panic CPU and task)`);
        break;
      }
    }
  }
  // 2: exact class + title + guilty frame
  const byKey = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if (duplicateOf[i] !== null) continue;
    const k = exactKey(items[i].signature);
    if (k === null) continue;
    const first = byKey.get(k);
    if (first === undefined) byKey.set(k, i);
    else note(first, i, `${base(items[i].path)}: exact match with ${base(items[first].path)} on class and guilty frame (${items[i].signature.class.title})`);
  }
  // 3: similarity, single linkage, within a crash class (other classes score 0)
  for (let i = 0; i < n; i++) {
    if (duplicateOf[i] !== null) continue;
    for (let j = 0; j < i; j++) {
      if (duplicateOf[j] !== null || uf.find(i) === uf.find(j)) continue;
      if (items[i].signature.class.kind !== items[j].signature.class.kind) continue;
      const s: Similarity = compareSignatures(items[i].signature, items[j].signature, opts.weights);
      if (s.score >= threshold) note(j, i, `${base(items[i].path)} ~ ${base(items[j].path)}: similarity ${s.score} ≥ ${threshold}: ${s.reasons.join('; ')}`);
    }
  }

  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) { const r = uf.find(i); groups.set(r, [...(groups.get(r) ?? []), i]); }
  const buckets: Bucket[] = [...groups.entries()].map(([root, idx]) => {
    const sigs = idx.map((i) => items[i].signature);
    const times = sigs.map((s) => s.identity.crashTimeUtc).filter((t): t is string => !!t).sort();
    // the representative: the oldest original whose signature read completely
    const rep = idx.find((i) => duplicateOf[i] === null && items[i].signature.errors.length === 0) ?? idx[0];
    const uniq = (xs: (string | null)[]): string[] => [...new Set(xs.filter((x): x is string => !!x))].sort();
    return {
      id: 0,
      title: items[rep].signature.class.title,
      kind: items[rep].signature.class.kind,
      guilty: items[rep].signature.frames.guilty,
      count: idx.filter((i) => duplicateOf[i] === null).length,
      files: idx.length,
      firstCrash: times[0] ?? null,
      lastCrash: times[times.length - 1] ?? null,
      hosts: uniq(sigs.map((s) => s.identity.nodename)),
      releases: uniq(sigs.map((s) => s.identity.release)),
      representative: items[rep].path,
      members: idx.map((i) => ({
        path: items[i].path,
        crashTime: items[i].signature.identity.crashTimeUtc,
        host: items[i].signature.identity.nodename,
        duplicateOf: duplicateOf[i] === null ? null : items[duplicateOf[i]!].path,
      })),
      why: why.get(root) ?? [idx.length === 1 ? 'alone: no other crash is similar enough' : ''],
    };
  });
  buckets.sort((a, b) => b.count - a.count || (a.firstCrash ?? '').localeCompare(b.firstCrash ?? ''));
  buckets.forEach((b, i) => { b.id = i + 1; });
  return buckets;
}

export interface RankedMatch { path: string; score: number; duplicate: boolean; exact: boolean; title: string; reasons: string[] }

/** every other crash ranked by similarity to `ref` */
export function rankSimilar(ref: TriageInput, others: readonly TriageInput[], weights?: SimilarityWeights): RankedMatch[] {
  return others
    .filter((o) => o.path !== ref.path)
    .map((o) => {
      const s = compareSignatures(ref.signature, o.signature, weights);
      return { path: o.path, score: s.score, duplicate: s.duplicate, exact: s.exact, title: o.signature.class.title, reasons: s.reasons };
    })
    .sort((a, b) => b.score - a.score || a.path.localeCompare(b.path));
}
