/**
 * The scheduler model against every real fixture dump: each CPU's runqueue equals drgn's
 * (truth.json `runqueues`: curr, counters, min_vruntime and the exact CFS listing with groups),
 * MANIFEST's pinned busy loops sit on their CPU in their cgroup with their nice's weight, and
 * the task-group tree accounts for exactly the tasks the rbtree walk found.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { KObject } from '../src/object/kobject.js';
import { parseBtf } from '../src/types/btf.js';
import { staticContext } from '../src/context.js';
import {
  avgVruntime, cfsRqForEachEntity, cfsRqInfo, cpuRq, runqueues, taskGroupTree, throttledGroups,
  type CfsEntity, type RqModel, type TaskGroupNode,
} from '../src/kernel/sched/index.js';
import { drgnTruth, dumps, manifest, truth, type Json } from './fixtures.js';
import { flatMemory } from './synthetic.js';

/** drgn 0.0.22 could not read qemu-dump's page tables (truth.json `errors`); newer drgn could */
function rqTruth(scenario: string): { file: string; runqueues: Json[] } {
  for (const t of [truth(scenario), drgnTruth(scenario)]) {
    const file = `drgn ${t.drgn_version}`;
    if (t.runqueues?.length) return { file, runqueues: t.runqueues };
  }
  throw new Error(`${scenario}: no truth file has runqueues`);
}

/** our entity in drgn's `queued` shape */
function asTruth(e: CfsEntity): Json {
  const common = { depth: e.depth, running: e.running, vruntime: Number(e.vruntime), weight: Number(e.weight), type: e.type };
  return e.type === 'task'
    ? { ...common, pid: e.pid, comm: e.comm, cgroup: e.cgroup, state: e.state }
    : { ...common, cgroup: e.cgroup, nr_running: e.nrRunning };
}

// sched_prio_to_weight[] for the nice values the scenarios use, scale_load()ed (<< 10) on 64-bit
const NICE_WEIGHT: Record<number, number> = { [-5]: 3121 << 10, 0: 1024 << 10, 5: 335 << 10, 10: 110 << 10, 19: 15 << 10 };

interface Pinned { pid: number; comm: string; cgroup: string; cpu: number; nice: number }
function pinnedTasks(scenario: string): Pinned[] {
  return [...manifest(scenario).matchAll(/^task pid=(\d+) comm=(\S+) mode=spin cgroup=(\S+) cpu=(\d+) nice=(-?\d+)$/gm)]
    .map((m) => ({ pid: Number(m[1]), comm: m[2], cgroup: m[3], cpu: Number(m[4]), nice: Number(m[5]) }));
}

function treeTasks(n: TaskGroupNode): { pid: number; cgroup: string | null; group: string }[] {
  return [...n.tasks.map((t) => ({ pid: t.pid, cgroup: t.cgroup, group: n.cgroup })), ...n.children.flatMap(treeTasks)];
}

const opened: Vmcore[] = [];
afterAll(() => opened.forEach((vm) => vm.close()));

let entitiesMatched = 0;
describe('runqueues from every fixture dump', () => {
  it('has fixtures to read', () => expect(dumps.length).toBeGreaterThanOrEqual(7));

  for (const d of dumps) {
    describe(`${d.scenario}/${d.name}`, () => {
      let cache: { vm: Vmcore; rqs: RqModel[] } | undefined;
      const model = () => {
        if (!cache) {
          const vm = openVmcore(d.path);
          opened.push(vm);
          cache = { vm, rqs: runqueues(vm) };
        }
        return cache;
      };
      const t = rqTruth(d.scenario);

      it('has every CPU drgn lists, with rq address, online flag, curr, idle and clock', () => {
        const { rqs } = model();
        expect(rqs.map((r) => r.cpu)).toEqual(t.runqueues.map((r: Json) => r.cpu));
        for (const [i, tr] of t.runqueues.entries()) {
          const r = rqs[i];
          expect({ rq: r.rq, online: r.online, pid: r.curr.pid, comm: r.curr.comm, task: r.curr.task, idle: r.idle.comm, clock: Number(r.clock) })
            .toEqual({ rq: BigInt(tr.rq), online: tr.online, pid: tr.curr.pid, comm: tr.curr.comm, task: BigInt(tr.curr.task_struct), idle: tr.idle.comm, clock: tr.clock });
          expect(r.idle.pid).toBe(tr.idle.pid);
        }
      });

      it('counters equal drgn: nr_running, cfs nr_running/h_nr_running/idle_h_nr_running/min_vruntime, rt, dl', () => {
        const { rqs } = model();
        for (const [i, tr] of t.runqueues.entries()) {
          const r = rqs[i];
          expect({
            nr: r.nrRunning, cfs: r.cfs.nrRunning, h: r.cfs.hNrRunning, idleH: r.cfs.idleHNrRunning,
            minv: Number(r.cfs.minVruntime), rt: r.rt.rtNrRunning, dl: r.dl.dlNrRunning,
          }).toEqual({
            nr: tr.nr_running, cfs: tr.cfs.nr_running, h: tr.cfs.h_nr_running, idleH: tr.cfs.idle_h_nr_running,
            minv: tr.cfs.min_vruntime, rt: tr.rt_nr_running, dl: tr.dl_nr_running,
          });
          // the queues hold what the counters say (RT/DL keep their running task queued)
          expect(r.rt.entities.length).toBe(r.rt.rtNrRunning);
          expect(r.dl.entities.length).toBe(r.dl.dlNrRunning);
          expect(r.rt.bitmapMismatch).toEqual([]);
          expect(r.cfs.entities.filter((e) => e.type === 'task').length).toBe(r.cfs.hNrRunning);
          // the stop class (migration/N) counts too: softlockup's CPU 3 has it queued by the watchdog
          expect(r.stop?.task.comm).toBe(`migration/${r.cpu}`);
          expect(r.nrRunning).toBe(r.cfs.hNrRunning + r.rt.rtNrRunning + r.dl.dlNrRunning + (r.stop?.queued ? 1 : 0));
        }
      });

      it('CFS entities equal drgn queued exactly: order, depth, running, vruntime, weight, type, cgroup', () => {
        const { rqs } = model();
        for (const [i, tr] of t.runqueues.entries()) {
          expect(rqs[i].cfs.entities.map(asTruth), `CPU ${tr.cpu}`).toEqual(tr.cfs.queued);
          entitiesMatched += tr.cfs.queued.length;
        }
      });

      it('queued tasks, all tasks and the running chain equal drgn', () => {
        const { rqs } = model();
        for (const [i, tr] of t.runqueues.entries()) {
          const c = rqs[i].cfs;
          expect(c.queuedTasks.map((e) => [e.pid, e.comm])).toEqual(tr.cfs.queued_tasks);
          expect(c.entities.filter((e) => e.type === 'task').map((e) => e.type === 'task' && { pid: e.pid, comm: e.comm, cgroup: e.cgroup, running: e.running }))
            .toEqual(tr.cfs.tasks);
          expect(c.currChain.map((e) => (e.type === 'group' ? { group: e.cgroup, vruntime: Number(e.vruntime) } : { pid: e.pid, comm: e.comm, vruntime: Number(e.vruntime) })))
            .toEqual(tr.cfs.curr_chain);
        }
      });

      it('lag behind min_vruntime is vruntime minus the own cfs_rq floor; running chain ends at rq->curr', () => {
        const { rqs } = model();
        for (const r of rqs) {
          for (const e of r.cfs.entities.filter((x) => x.depth === 0)) expect(e.minVruntimeLag).toBe(e.vruntime - r.cfs.minVruntime);
          const last = r.cfs.currChain.at(-1);
          if (last) expect(last.type === 'task' && last.task).toBe(r.curr.task);
          else expect(r.cfs.hNrRunning === 0 || r.curr.prio < 100 || r.curr.pid === 0).toBe(true);
          // 6.1 is pre-EEVDF: no EEVDF fields, tree sorted by vruntime
          expect(r.cfs.order).toBe('vruntime');
          expect(r.cfs.entities.every((e) => e.eevdf === null)).toBe(true);
        }
      });

      it("MANIFEST's pinned busy loops are on their CPU, in their cgroup, with their nice's weight and prio", () => {
        const { rqs } = model();
        const pinned = pinnedTasks(d.scenario);
        expect(pinned.length).toBeGreaterThanOrEqual(6);
        for (const p of pinned) {
          const e = rqs.find((r) => r.cpu === p.cpu)!.cfs.entities.find((x) => x.type === 'task' && x.pid === p.pid);
          if (!e) throw new Error(`${p.comm} (${p.pid}) is not queued on CPU ${p.cpu}`);
          expect(e.type === 'task' && { comm: e.comm, cgroup: e.cgroup, weight: Number(e.weight), prio: e.prio, state: e.state })
            .toEqual({ comm: p.comm, cgroup: p.cgroup, weight: NICE_WEIGHT[p.nice], prio: 120 + p.nice, state: 'R' });
          // a group-nested task sits below one group entity per cgroup level
          expect(e.depth).toBe(p.cgroup === '/' ? 0 : p.cgroup.split('/').length - 1);
        }
      });

      it('task-group tree holds exactly the CFS tasks, each under its own cgroup; none throttled', () => {
        const { vm, rqs } = model();
        for (const r of rqs) {
          const tree = taskGroupTree(vm, r.cpu)!;
          expect(tree.cgroup).toBe('/');
          expect(tree.cfsRq.address).toBe(r.cfs.address);
          const fromTree = treeTasks(tree);
          const fromWalk = r.cfs.entities.filter((e) => e.type === 'task').map((e) => e.type === 'task' && e.pid);
          expect(fromTree.map((x) => x.pid).sort()).toEqual([...fromWalk].sort());
          for (const x of fromTree) expect(x.cgroup).toBe(x.group);
          expect(throttledGroups(tree)).toEqual([]);
          // each group's entity on this CPU is the one the rbtree walk reached
          const walkGroups = new Map(r.cfs.entities.filter((e) => e.type === 'group').map((e) => [e.se, e]));
          const check = (n: TaskGroupNode) => {
            if (n.se && (n.cfsRq.nrRunning > 0)) expect(walkGroups.get(n.se.se)).toEqual(n.se);
            n.children.forEach(check);
          };
          check(tree);
        }
      });

      it('a walk limited to depth 0 lists only the root level', () => {
        const { vm, rqs } = model();
        for (const r of rqs) {
          const top = cfsRqForEachEntity(vm, cpuRq(vm, r.cpu).member('cfs'), { maxDepth: 0 });
          expect(top).toEqual(r.cfs.entities.filter((e) => e.depth === 0));
          expect(top.length).toBe(r.cfs.nrRunning);
        }
      });
    });
  }

  it('matched a meaningful number of entities', () => {
    // 7 dump files x 4 CPUs; each scenario queues 10+ entities
    expect(entitiesMatched).toBeGreaterThanOrEqual(70);
  });
});

// ---------------------------------------------------------------------------------------------
// EEVDF (v6.6+) on a hand-built cfs_rq: the 6.1 fixtures cannot exercise the zero-lag point V,
// lag, eligibility or the deadline tree order, so this builds just enough BTF and memory.

/** BTF records for the few types the CFS walk reads, with 6.8+ EEVDF members */
function eevdfBtf(): Buffer {
  const strs: string[] = [''];
  const str = (s: string) => { const at = strs.join('\0').length + 1; strs.push(s); return at; };
  const words: number[] = [];
  const INT = 1, PTR = 2, STRUCT = 4;
  const rec = (name: string, kind: number, vlen: number, sizeOrType: number, ...rest: number[]) => {
    words.push(name ? str(name) : 0, ((kind << 24) | vlen) >>> 0, sizeOrType, ...rest);
  };
  const struct = (name: string, size: number, members: [string, number, number][]) =>
    rec(name, STRUCT, members.length, size, ...members.flatMap(([n, t, off]) => [str(n), t, off * 8]));
  rec('unsigned int', INT, 0, 4, 32); //                                         1
  rec('long long unsigned int', INT, 0, 8, 64); //                               2
  rec('long long int', INT, 0, 8, (1 << 24) | 64); //                           3
  struct('load_weight', 16, [['weight', 2, 0], ['inv_weight', 1, 8]]); //       4
  struct('rb_node', 24, [['__rb_parent_color', 2, 0], ['rb_right', 6, 8], ['rb_left', 6, 16]]); // 5
  rec('', PTR, 0, 5); //                                                         6
  struct('rb_root', 8, [['rb_node', 6, 0]]); //                                  7
  struct('rb_root_cached', 16, [['rb_root', 7, 0], ['rb_leftmost', 6, 8]]); //   8
  struct('sched_entity', 96, [['load', 4, 0], ['run_node', 5, 16], ['deadline', 2, 40], ['min_vruntime', 2, 48],
    ['on_rq', 1, 56], ['vruntime', 2, 64], ['vlag', 3, 72], ['slice', 2, 80], ['my_q', 15, 88]]); // 9
  rec('', PTR, 0, 9); //                                                         10
  struct('cfs_rq', 80, [['load', 4, 0], ['nr_running', 1, 16], ['h_nr_running', 1, 20], ['avg_vruntime', 3, 24],
    ['avg_load', 2, 32], ['min_vruntime', 2, 40], ['tasks_timeline', 8, 48], ['curr', 10, 64], ['tg', 14, 72]]); // 11
  struct('cgroup_subsys_state', 8, [['cgroup', 16, 0]]); //                     12
  struct('task_group', 8, [['css', 12, 0]]); //                                  13
  rec('', PTR, 0, 13); //                                                        14
  rec('', PTR, 0, 11); //                                                        15
  rec('', PTR, 0, 0); //                                                         16 void *
  const strBytes = Buffer.from(strs.join('\0') + '\0');
  const buf = Buffer.alloc(24 + words.length * 4 + strBytes.length);
  buf.writeUInt16LE(0xeb9f, 0); buf[2] = 1; buf.writeUInt32LE(24, 4);
  buf.writeUInt32LE(0, 8); buf.writeUInt32LE(words.length * 4, 12);
  buf.writeUInt32LE(words.length * 4, 16); buf.writeUInt32LE(strBytes.length, 20);
  words.forEach((w, i) => buf.writeUInt32LE(w >>> 0, 24 + i * 4));
  strBytes.copy(buf, 24 + words.length * 4);
  return buf;
}

describe('EEVDF cfs_rq (synthetic, v6.8 layout)', () => {
  const { mem, BASE, w64: u64, w32: u32 } = flatMemory(0x1000);
  const types = parseBtf(eevdfBtf(), { label: 'synthetic' });
  const vm = staticContext({ mem, types });
  const ctx = vm;

  const MINV = 1_000_000n;
  const root = BASE, tg = BASE + 0x800n;
  const [A, B, C] = [BASE + 0x100n, BASE + 0x200n, BASE + 0x300n];
  // three group entities (each owns an empty cfs_rq of the same task group), so no task_struct is needed
  const entity = (se: bigint, weight: bigint, key: bigint, deadline: bigint, myQ: bigint) => {
    u64(se, weight << 10n); u32(se + 56n, 1); u64(se + 64n, MINV + key); u64(se + 40n, deadline);
    u64(se + 80n, 3_000_000n); u64(se + 72n, -7n); u64(se + 88n, myQ); u64(myQ + 72n, tg);
  };
  entity(A, 1024n, 3000n, 50n, BASE + 0x400n); // running: cfs_rq->curr, not in the tree
  entity(B, 2048n, 1000n, 60n, BASE + 0x480n);
  entity(C, 1024n, 9000n, 70n, BASE + 0x500n);
  // tree: B at the root, C its right child (in order: B, C)
  u64(root + 48n, B + 16n); u64(root + 56n, B + 16n); u64(B + 16n + 8n, C + 16n);
  u64(root + 64n, A); u64(root + 72n, tg); u32(root + 16n, 3); u32(root + 20n, 0);
  u64(root + 40n, MINV);
  // the tree's sum of key * scale_load_down(weight), and of the weights, as the kernel keeps them
  u64(root + 24n, 1000n * 2048n + 9000n * 1024n); u64(root + 32n, 2048n + 1024n);

  it('avg_vruntime() includes curr: V = min_vruntime + (11264000 + 3000*1024) / 4096', () => {
    const info = cfsRqInfo(vm, KObject.at(ctx, root, 'struct cfs_rq'));
    expect(info.avgVruntime).toBe(MINV + 3500n);
    expect(info.order).toBe('deadline'); // sched_entity has min_vruntime: the v6.8 deadline-sorted tree
    expect([info.nrRunning, info.idleHNrRunning, info.throttled]).toEqual([3, null, null]);
  });

  it('entities: curr first, then the tree; lag = V - vruntime, eligible iff lag >= 0', () => {
    const es = cfsRqForEachEntity(vm, KObject.at(ctx, root, 'struct cfs_rq'));
    expect(es.map((e) => [e.se, e.depth, e.running, e.type, e.cgroup])).toEqual([
      [A, 0, true, 'group', '/'], [B, 0, false, 'group', '/'], [C, 0, false, 'group', '/'],
    ]);
    expect(es.map((e) => [e.minVruntimeLag, e.eevdf?.lag, e.eevdf?.eligible, e.eevdf?.deadline, e.eevdf?.vlag, e.eevdf?.delayed]))
      .toEqual([[3000n, 500n, true, 50n, -7n, null], [1000n, 2500n, true, 60n, -7n, null], [9000n, -5500n, false, 70n, -7n, null]]);
    // each group's own (empty) runqueue was reached through se->my_q
    expect(es.map((e) => e.type === 'group' && [e.cfsRq, e.nrRunning, e.taskGroup])).toEqual(
      [0x400n, 0x480n, 0x500n].map((o) => [BASE + o, 0, tg]));
  });

  it('a negative average rounds down, as the kernel floors it', () => {
    const q = BASE + 0x600n;
    u64(q + 40n, MINV); u64(q + 24n, -5n); u64(q + 32n, 2n); // no curr
    expect(avgVruntime(vm, KObject.at(ctx, q, 'struct cfs_rq'))).toBe(MINV - 3n);
  });
});
