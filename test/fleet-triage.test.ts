/**
 * Crash signatures, triage buckets and their evaluation against root-cause labels on the fixtures:
 * oops-null-a/b are one bug, the two sysrq-basic files are one crash written twice, and every
 * other scenario stands alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vaatJson } from './cli.js';
import type { Json } from './fixtures.js';
import { makeFleetDir, type FleetDir } from './fleet-dir.js';
import { frameSimilarity } from '../src/fleet/similarity.js';
import { normalizeText } from '../src/fleet/signature.js';
import { evaluate, parseLabels } from '../src/fleet/evaluate.js';
import { parseSkipList } from '../src/fleet/skip-frames.js';

let fd: FleetDir;
const sig = (scenario: string): Promise<Json> => vaatJson(['signature', fd.links.find((l) => l.fixture.scenario === scenario)!.path]);
/** the root cause of each scenario: the two oops scenarios are one bug, and one scenario on two kernel sets (cgroup-mutex-hung on 6.1 and 5.10) is one bug */
const label = (scenario: string): string => {
  const kind = scenario.replace(/^(k\d+|arm64)-/, '');
  return kind.startsWith('oops-null') ? 'oops-null' : kind;
};

beforeAll(() => { fd = makeFleetDir(); });
afterAll(() => { if (fd) { rmSync(fd.root, { recursive: true, force: true }); rmSync(`${fd.root}-labels.txt`, { force: true }); } });

describe('signature', () => {
  it('oops-null-a and oops-null-b: equal class and guilty frame, numbers and addresses stripped', async () => {
    const a = await sig('oops-null-a'), b = await sig('oops-null-b');
    expect(a.class.title).toBe('BUG: kernel NULL pointer dereference in vaat_parse_request [vaat_oops]');
    expect(b.class.title).toBe(a.class.title);
    expect(b.frames.guilty).toBe(a.frames.guilty);
    expect(a.frames.top).toEqual(b.frames.top);
    expect(a.identity.panicCpu).not.toBe(b.identity.panicCpu);
  });

  it('hung task: frames from the blocked tasks, the lock and its owner from the wait-for graph', async () => {
    const s = await sig('cgroup-mutex-hung');
    expect(s.class.kind).toBe('hung-task');
    expect(s.class.title).toBe('hung task: blocked on cgroup_mutex in cgroup_kn_lock_live');
    expect(s.frames.source).toMatch(/^blocked tasks \(3 × mkdir\)/);
    expect(s.frames.top).not.toContain('watchdog');
    const g = s.state.lockGraph;
    expect(g.available).toBe(true);
    expect(g.edges[0]).toMatchObject({ lock: 'cgroup_mutex', kind: 'mutex', waiters: 3, owner: 'vaat_holder' });
    expect(g.edges[0].ownerIn).toMatch(/\[vaat_holder\]$/);
    expect(s.state.taint).toBe('OE');
    expect(s.state.modules).toContain('vaat_holder');
  });

  it('soft lockup: the interrupted module frame, past the timer interrupt', async () => {
    const s = await sig('softlockup');
    expect(s.class.title).toBe('soft lockup in vaat_spin_locked [vaat_softlock]');
    expect(s.state.runqueue).toHaveLength(4);
    expect(s.state.memory.freeRatio).toBeGreaterThan(0);
    expect(s.state.memory.freeRatio).toBeLessThan(1);
  });

  it('normalizes titles and frames the way bug trackers do', () => {
    expect(normalizeText('[   22.835500] watchdog: BUG: soft lockup - CPU#3 stuck for 11s! [vaat_spin:297]')).toBe('watchdog: BUG: soft lockup - CPU stuck for ! [vaat_spin]');
    const skip = parseSkipList('# c\n(__)?schedule\n__mutex_lock.*\n', 'test');
    expect(skip.skips('schedule')).toBe(true);
    expect(skip.skips('__mutex_lock.constprop.0')).toBe(true);
    expect(skip.skips('cgroup_kn_lock_live')).toBe(false);
    expect(frameSimilarity(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(1);
    expect(frameSimilarity(['a', 'b'], ['x', 'y'])).toBe(0);
    // agreeing at the guilty end counts more than agreeing at the syscall end
    expect(frameSimilarity(['a', 'b', 'c', 'd'], ['a', 'x', 'y', 'z'])).toBeGreaterThan(frameSimilarity(['a', 'b', 'c', 'd'], ['w', 'x', 'y', 'd']));
  });
});

describe('triage', () => {
  let t: Json;
  let labelsFile: string;
  beforeAll(async () => {
    // beside DIR, not in it: the labels file is not a dump, but it is not part of the set either
    labelsFile = join(fd.root, '..', `${fd.root.split('/').pop()}-labels.txt`);
    writeFileSync(labelsFile, '# vmcore  root cause\n' + fd.links.map((l) => `${l.path} ${label(l.fixture.scenario)}`).join('\n') + '\n');
    t = await vaatJson(['triage', '-d', fd.root, '--labels', labelsFile]);
  });

  const bucketOf = (scenario: string, name?: string): Json => {
    const p = fd.links.find((l) => l.fixture.scenario === scenario && (!name || l.fixture.name === name))!.path;
    return t.buckets.find((b: Json) => b.members.some((m: Json) => m.path === p));
  };

  it('oops-null-a and oops-null-b share a bucket, grouped exactly on class and guilty frame', () => {
    const b = bucketOf('oops-null-a');
    expect(bucketOf('oops-null-b').id).toBe(b.id);
    expect(b.count).toBe(2);
    expect(b.hosts).toEqual(['vaat-dev-oops-null-a', 'vaat-dev-oops-null-b']);
    expect(b.firstCrash < b.lastCrash).toBe(true);
    expect(b.why.join(' ')).toMatch(/exact match .* class and guilty frame/);
  });

  it('the two sysrq-basic files are recognised as one crash written twice', () => {
    const b = bucketOf('sysrq-basic', 'vmcore.kdump-lzo');
    expect(bucketOf('sysrq-basic', 'vmcore.kdump-zlib').id).toBe(b.id);
    expect(b.files).toBe(2);
    expect(b.count).toBe(1);
    expect(b.members.filter((m: Json) => m.duplicateOf !== null)).toHaveLength(1);
    expect(b.why.join(' ')).toMatch(/written again/);
  });

  it('the same hung task on every kernel set shares one bucket', () => {
    const hung = fd.links.filter((l) => l.fixture.kind === 'cgroup-mutex-hung');
    const ids = new Set(hung.map((l) => bucketOf(l.fixture.scenario).id));
    expect(ids.size).toBe(1);
    expect(bucketOf('cgroup-mutex-hung').files).toBe(hung.length);
  });

  it('every other scenario is alone in its bucket (qemu-dump is a sysrq crash too, but another one)', () => {
    for (const s of ['softlockup', 'qemu-dump']) {
      expect(bucketOf(s).files, s).toBe(1);
    }
    expect(bucketOf('qemu-dump').id).not.toBe(bucketOf('sysrq-basic', 'vmcore.kdump-lzo').id);
    // one bucket per root cause, plus the incomplete copy in its own
    expect(t.buckets).toHaveLength(new Set(fd.links.map((l) => label(l.fixture.scenario))).size + 1);
    expect(t.incomplete).toEqual([fd.incomplete]);
  });

  it('evaluation: pairwise and B-cubed precision and recall are 1 on the fixtures', () => {
    const e = t.evaluation;
    console.log(`fleet triage on the fixtures: ${e.items} labelled dumps, ${e.labels} root causes, ${e.clusters} buckets; `
      + `pairwise P=${e.pairwise.precision} R=${e.pairwise.recall} F1=${e.pairwise.f1}; B-cubed P=${e.bcubed.precision} R=${e.bcubed.recall} F1=${e.bcubed.f1}`);
    expect(e.items).toBe(fd.links.length);
    const byLabel = new Map<string, number>();
    for (const l of fd.links) byLabel.set(label(l.fixture.scenario), (byLabel.get(label(l.fixture.scenario)) ?? 0) + 1);
    const pairs = [...byLabel.values()].reduce((n, k) => n + (k * (k - 1)) / 2, 0);
    expect(e.labels).toBe(byLabel.size);
    expect(e.pairwise).toMatchObject({ precision: 1, recall: 1, f1: 1, truePairs: pairs, correctPairs: pairs });
    expect(e.bcubed).toMatchObject({ precision: 1, recall: 1, f1: 1 });
    expect(e.missing).toEqual([]);
    expect(e.unlabelled).toEqual([fd.incomplete]);
  });

  it('evaluation scores a wrong bucketing below 1', () => {
    const labels = parseLabels('a x\nb x\nc y\nd z\n', '/');
    const all = evaluate(new Map([['/a', 1], ['/b', 1], ['/c', 1], ['/d', 2]]), labels);
    expect(all.pairwise.precision).toBeCloseTo(1 / 3, 4);
    expect(all.pairwise.recall).toBe(1);
    const split = evaluate(new Map([['/a', 1], ['/b', 2], ['/c', 3], ['/d', 4]]), labels);
    expect(split.pairwise.recall).toBe(0);
    expect(split.bcubed.precision).toBe(1);
    expect(split.bcubed.recall).toBeCloseTo((0.5 + 0.5 + 1 + 1) / 4, 4);
  });

  it('similar ranks the other oops first, with reasons', async () => {
    const b = fd.links.find((l) => l.fixture.scenario === 'oops-null-b')!.path;
    const r = await vaatJson(['similar', b, '-d', fd.root]);
    expect(r.matches[0].path).toBe(fd.links.find((l) => l.fixture.scenario === 'oops-null-a')!.path);
    expect(r.matches[0].exact).toBe(true);
    expect(r.matches[0].score).toBeGreaterThan(0.9);
    expect(r.matches.find((m: Json) => m.path === b)).toBeUndefined();
    expect(r.matches[1].score).toBeLessThan(0.75);
  });
});
