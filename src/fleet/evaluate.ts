/**
 * How good a bucketing is against labels people gave: a labels file maps each vmcore to its root
 * cause (`path label` per line, '#' comments, paths relative to the file), and we report pairwise
 * precision/recall/F1 (over pairs of dumps: put together rightly vs wrongly) and B-cubed
 * precision/recall/F1 (per dump: how pure its bucket is, how complete its label's group is).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export interface Labels { file: string; byPath: Map<string, string> }

/** absolute, symlinks resolved when the path exists: one dump has one key */
export function canonicalPath(p: string): string {
  const abs = resolve(p);
  try { return realpathSync(abs); } catch { return abs; }
}

export function parseLabels(text: string, baseDir: string, file = '(labels)'): Labels {
  const byPath = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const m = /^(\S+)\s+(\S.*)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected "path label"`);
    byPath.set(canonicalPath(isAbsolute(m[1]) ? m[1] : resolve(baseDir, m[1])), m[2].trim());
  });
  return { file, byPath };
}

export function loadLabels(file: string): Labels {
  return parseLabels(readFileSync(file, 'utf8'), dirname(resolve(file)), file);
}

export interface Scores { precision: number; recall: number; f1: number }

export interface Evaluation {
  items: number;
  /** labelled dumps the run did not bucket, and bucketed dumps without a label */
  unlabelled: string[];
  missing: string[];
  clusters: number;
  labels: number;
  pairwise: Scores & { truePairs: number; predictedPairs: number; correctPairs: number };
  bcubed: Scores;
}

const f1 = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
const r4 = (x: number): number => Math.round(x * 10000) / 10000;

/** `assigned`: dump path → bucket id */
export function evaluate(assigned: ReadonlyMap<string, number | string>, labels: Labels): Evaluation {
  const pred = new Map<string, string>();
  for (const [p, b] of assigned) pred.set(canonicalPath(p), String(b));
  const unlabelled = [...pred.keys()].filter((p) => !labels.byPath.has(p));
  const missing = [...labels.byPath.keys()].filter((p) => !pred.has(p));
  const items = [...pred.keys()].filter((p) => labels.byPath.has(p));
  const L = (p: string): string => labels.byPath.get(p)!;
  const C = (p: string): string => pred.get(p)!;

  let truePairs = 0, predictedPairs = 0, correctPairs = 0;
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const sameL = L(items[i]) === L(items[j]);
      const sameC = C(items[i]) === C(items[j]);
      if (sameL) truePairs++;
      if (sameC) predictedPairs++;
      if (sameL && sameC) correctPairs++;
    }
  }
  // no pairs predicted (or none true) is vacuously perfect on that side
  const pp = predictedPairs ? correctPairs / predictedPairs : 1;
  const pr = truePairs ? correctPairs / truePairs : 1;

  let bp = 0, br = 0;
  for (const e of items) {
    const sameC = items.filter((x) => C(x) === C(e));
    const sameL = items.filter((x) => L(x) === L(e));
    const both = sameC.filter((x) => L(x) === L(e)).length;
    bp += both / sameC.length;
    br += both / sameL.length;
  }
  bp = items.length ? bp / items.length : 1;
  br = items.length ? br / items.length : 1;
  return {
    items: items.length,
    unlabelled,
    missing,
    clusters: new Set(items.map(C)).size,
    labels: new Set(items.map(L)).size,
    pairwise: { precision: r4(pp), recall: r4(pr), f1: r4(f1(pp, pr)), truePairs, predictedPairs, correctPairs },
    bcubed: { precision: r4(bp), recall: r4(br), f1: r4(f1(bp, br)) },
  };
}

export function evaluationText(e: Evaluation): string[] {
  const f = (x: number): string => x.toFixed(3);
  return [
    `labelled dumps: ${e.items} in ${e.labels} root causes; buckets: ${e.clusters}`,
    `pairwise: precision ${f(e.pairwise.precision)}  recall ${f(e.pairwise.recall)}  F1 ${f(e.pairwise.f1)}  (${e.pairwise.correctPairs} of ${e.pairwise.predictedPairs} predicted pairs right, ${e.pairwise.truePairs} true pairs)`,
    `B-cubed:  precision ${f(e.bcubed.precision)}  recall ${f(e.bcubed.recall)}  F1 ${f(e.bcubed.f1)}`,
    ...(e.missing.length ? [`labelled but not analysed: ${e.missing.join(', ')}`] : []),
    ...(e.unlabelled.length ? [`analysed but not labelled: ${e.unlabelled.join(', ')}`] : []),
  ];
}
