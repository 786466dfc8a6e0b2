/**
 * How alike two crash signatures are, as a score in [0, 1] with the reasons in words.
 *  - the same crash written twice (same crash time, build-id, host, panic CPU and task) is 1;
 *  - different crash classes are different bugs: 0;
 *  - deliberate crashes (sysrq) have one stack by construction, so only their state can match;
 *  - otherwise class title, the relevant frames (a position-weighted longest common subsequence:
 *    the innermost frames matter most) and the state (locks, blocked stacks) are blended.
 */
import { stackNamesNoBug, type CrashSignature } from './signature.js';

export interface Similarity {
  score: number;
  duplicate: boolean;
  /** same class, title and guilty frame: the first-pass exact match */
  exact: boolean;
  parts: { class: number; frames: number; state: number | null };
  reasons: string[];
}

export interface SimilarityWeights { class: number; frames: number; state: number }
export const DEFAULT_WEIGHTS: SimilarityWeights = { class: 0.4, frames: 0.45, state: 0.15 };

/** one crash written twice: everything that identifies a moment and a machine matches */
export function sameCrash(a: CrashSignature, b: CrashSignature): boolean {
  const x = a.identity, y = b.identity;
  return x.crashTime !== null && x.crashTime === y.crashTime && x.buildId === y.buildId && x.nodename === y.nodename
    && x.panicCpu === y.panicCpu && x.panicPid === y.panicPid && x.panicTask === y.panicTask;
}

export function exactKey(s: CrashSignature): string | null {
  if (stackNamesNoBug(s.class) || !s.frames.guilty) return null;
  return `${s.class.kind}|${s.class.title}|${s.frames.guilty}`;
}

/** frame i weighs 1/(1 + i/2): the guilty end of a stack decides more than its syscall end */
const weight = (i: number): number => 1 / (1 + i / 2);

/** position-weighted LCS of two frame sequences, normalized to [0, 1] */
export function frameSimilarity(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      dp[i][j] = a[i] === b[j]
        ? dp[i + 1][j + 1] + (weight(i) + weight(j)) / 2
        : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
  }
  const total = (n: number): number => { let s = 0; for (let i = 0; i < n; i++) s += weight(i); return s; };
  return Math.min(1, dp[0][0] / ((total(a.length) + total(b.length)) / 2));
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** state features that point at a cause: locks with their owners, and what blocked tasks do */
export function stateKeys(s: CrashSignature): { locks: Set<string>; blocked: Set<string> } {
  const locks = new Set<string>();
  if (s.state.lockGraph.available) {
    for (const e of s.state.lockGraph.edges) {
      locks.add(`lock:${e.lock}`);
      if (e.ownerIn) locks.add(`owner:${e.lock}@${e.ownerIn}`);
    }
  }
  const blocked = new Set((s.state.blocked?.groups ?? []).map((g) => g.frames.slice(0, 3).join('<')).filter(Boolean));
  return { locks, blocked };
}

/** null when neither dump has any lock wait or blocked task: no evidence either way */
export function stateSimilarity(a: CrashSignature, b: CrashSignature): { score: number | null; reasons: string[] } {
  const x = stateKeys(a), y = stateKeys(b);
  const reasons: string[] = [];
  const parts: { w: number; v: number }[] = [];
  if (x.locks.size || y.locks.size) {
    const v = jaccard(x.locks, y.locks);
    parts.push({ w: 0.6, v });
    const common = [...x.locks].filter((k) => y.locks.has(k) && k.startsWith('lock:')).map((k) => k.slice(5));
    if (common.length) reasons.push(`both block on ${common.join(', ')}`);
  }
  if (x.blocked.size || y.blocked.size) {
    const v = jaccard(x.blocked, y.blocked);
    parts.push({ w: 0.4, v });
    if (v > 0) reasons.push(`blocked-task stacks overlap ${(v * 100).toFixed(0)}%`);
  }
  if (parts.length === 0) return { score: null, reasons };
  const w = parts.reduce((s, p) => s + p.w, 0);
  return { score: parts.reduce((s, p) => s + p.w * p.v, 0) / w, reasons };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

export function compareSignatures(a: CrashSignature, b: CrashSignature, w: SimilarityWeights = DEFAULT_WEIGHTS): Similarity {
  if (sameCrash(a, b)) {
    return {
      score: 1, duplicate: true, exact: exactKey(a) !== null && exactKey(a) === exactKey(b), parts: { class: 1, frames: 1, state: 1 },
      reasons: [`same crash written twice: crash time ${a.identity.crashTimeUtc}, build-id, host ${a.identity.nodename}, panic CPU ${a.identity.panicCpu} and task ${a.identity.panicComm}(${a.identity.panicPid}) match`],
    };
  }
  const st = stateSimilarity(a, b);
  if (a.class.kind !== b.class.kind) {
    return { score: 0, duplicate: false, exact: false, parts: { class: 0, frames: 0, state: st.score }, reasons: [`different crash classes (${a.class.kind} vs ${b.class.kind})`] };
  }
  const frames = frameSimilarity(a.frames.relevant, b.frames.relevant);
  if (stackNamesNoBug(a.class)) {
    const score = st.score ?? 0;
    const reasons = [a.class.deliberate
      ? `${a.class.kind}: deliberate crashes share their stack by construction; only the state can group them`
      : `${a.class.kind}: no readable panic; only the state can group them`];
    reasons.push(st.score === null ? 'no lock waits or blocked tasks in either dump: no evidence of a common cause' : `state similarity ${round(st.score)}`, ...st.reasons);
    return { score: round(score), duplicate: false, exact: false, parts: { class: 1, frames: round(frames), state: st.score === null ? null : round(st.score) }, reasons };
  }
  const ka = exactKey(a), kb = exactKey(b);
  const exact = ka !== null && ka === kb;
  const cls = a.class.title === b.class.title ? 1 : 0.4;
  const state = st.score ?? frames;
  const score = w.class * cls + w.frames * frames + w.state * state;
  const reasons: string[] = [];
  if (exact) reasons.push(`same class and guilty frame: ${a.class.title}`);
  else reasons.push(cls === 1 ? `same title: ${a.class.title}` : `same class (${a.class.kind}), different titles`);
  reasons.push(`frames ${round(frames)} alike (weighted LCS over ${a.frames.relevant.length}/${b.frames.relevant.length} relevant frames)`);
  reasons.push(...st.reasons);
  return { score: round(score), duplicate: false, exact, parts: { class: cls, frames: round(frames), state: st.score === null ? null : round(st.score) }, reasons };
}
