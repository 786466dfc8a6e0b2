/**
 * The fair class (CFS, EEVDF since v6.6): a cfs_rq's counters and its entities in scheduling
 * order, descending into group entities' own runqueues. The running entity is a cfs_rq's `curr`,
 * which the kernel keeps out of the rbtree while it runs; it is listed first on its level, before
 * the tree's entities in tree order (as drgn's runqueue listings show it).
 *
 * Layouts, told apart by the members present:
 *  - EEVDF: 147f3efaa241 "sched/fair: Implement an EEVDF-like scheduling policy" (v6.6) with
 *    af4cf40470c2 "sched/fair: Add cfs_rq::avg_vruntime" (v6.6): cfs_rq.avg_vruntime/avg_load
 *    give the zero-lag point, sched_entity.deadline/vlag each entity's lag.
 *  - tree order is vruntime order up to v6.7 and virtual-deadline order from 2227a957e1d5
 *    "sched/eevdf: Sort the rbtree by virtual deadline" (v6.8), which augments the tree with
 *    sched_entity.min_vruntime; `CfsRqInfo.order` says which.
 *  - v6.14 renamed the counters: 736c55a02c47 "sched/fair: Rename cfs_rq.nr_running into
 *    nr_queued", 7b8a702d9438 "sched/fair: Rename h_nr_running into h_nr_queued", 31898e7b87dd
 *    "sched/fair: Rename cfs_rq.idle_h_nr_running into h_nr_idle".
 * test/kernel-shapes.test.ts builds each of these on hand-written BTF.
 */
import type { KernelContext } from '../../context.js';
import { ObjectError, type KObject } from '../../object/kobject.js';
import { rbInorder } from '../../object/helpers.js';
import { schedTask, taskGroupPath, type SchedTask } from './task.js';

/** EEVDF state of an entity (v6.6+). All values are virtual nanoseconds. */
export interface EevdfInfo {
  /** se.deadline: virtual deadline */
  deadline: bigint;
  /** se.slice: requested slice (real ns) */
  slice: bigint;
  /** se.vlag: lag saved at dequeue (meaningful for dequeued / delayed entities) */
  vlag: bigint;
  /** avg_vruntime(cfs_rq) - vruntime, unclamped: > 0 means owed CPU time; null when not computable */
  lag: bigint | null;
  /** vruntime_eligible(): lag >= 0, computed without division as the kernel does */
  eligible: boolean | null;
  /** se.sched_delayed (v6.12 delayed dequeue): sleeping but still queued until its lag decays */
  delayed: boolean | null;
}

interface CfsEntityBase {
  /** sched_entity address */
  se: bigint;
  /** nesting below the CPU's root cfs_rq (0 = on rq->cfs) */
  depth: number;
  /** this entity is its cfs_rq's curr (running, or last picked), so not in the rbtree */
  running: boolean;
  onRq: boolean;
  vruntime: bigint;
  /** vruntime - min_vruntime of the cfs_rq it is queued on (how far ahead of the queue's floor) */
  minVruntimeLag: bigint;
  /** se.load.weight as stored: scale_load()ed (<< 10) on 64-bit kernels, so nice 0 is 1048576 */
  weight: bigint;
  /** cgroup v2 path: the task's cgroup, or the group's own */
  cgroup: string | null;
  eevdf: EevdfInfo | null;
}

export interface CfsTaskEntity extends CfsEntityBase, Omit<SchedTask, 'cgroup'> {
  type: 'task';
}

export interface CfsGroupEntity extends CfsEntityBase {
  type: 'group';
  taskGroup: bigint;
  /** the group's own cfs_rq on this CPU (se->my_q) */
  cfsRq: bigint;
  nrRunning: number;
  hNrRunning: number;
  throttled: boolean;
}

export type CfsEntity = CfsTaskEntity | CfsGroupEntity;

/** A cfs_rq's counters. */
export interface CfsRqInfo {
  address: bigint;
  /** entities queued directly here, curr included */
  nrRunning: number;
  /** tasks queued here and below */
  hNrRunning: number;
  /** SCHED_IDLE tasks here and below (v5.4+), null before */
  idleHNrRunning: number | null;
  minVruntime: bigint;
  /** EEVDF: the weighted average vruntime V (avg_vruntime()); null before v6.6 */
  avgVruntime: bigint | null;
  /** the rbtree's sort key */
  order: 'vruntime' | 'deadline';
  /** CFS bandwidth state (null without CONFIG_CFS_BANDWIDTH) */
  throttled: boolean | null;
  throttleCount: number | null;
  runtimeEnabled: boolean | null;
  runtimeRemaining: bigint | null;
}

// v6.14 renames (736c55a02c47, 7b8a702d9438, 31898e7b87dd above); 5.4..6.13 use the right-hand names.
const NR_QUEUED = ['nr_queued', 'nr_running'] as const;
const H_NR_QUEUED = ['h_nr_queued', 'h_nr_running'] as const;
const H_NR_IDLE = ['h_nr_idle', 'idle_h_nr_running'] as const;
// v6.19 ("sched/fair: Replace cfs_rq::min_vruntime with zero_vruntime"): the reference point of
// the averages; the closest thing to a queue floor those kernels keep.
const MIN_VRUNTIME = ['min_vruntime', 'zero_vruntime'] as const;

/** 64-bit kernels keep load weights scaled up by SCHED_FIXEDPOINT_SHIFT (scale_load, v4.11+) */
function scaleLoadDown(vm: KernelContext, w: bigint): bigint {
  if (vm.types.pointerSize !== 8 || w === 0n) return w;
  const d = w >> 10n;
  return d < 2n ? 2n : d;
}

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

function optNumber(o: KObject, paths: readonly string[]): number | null {
  const r = o.ctx.types.tryResolveMember(o.type, paths);
  return r ? o.member(r.path).number() : null;
}

/** cfs_rq counters and bandwidth state */
export function cfsRqInfo(vm: KernelContext, cfsRq: KObject): CfsRqInfo {
  const q = cfsRq.snapshot();
  const has = (m: string) => q.hasMember(m);
  const eevdf = has('avg_vruntime') && has('avg_load');
  return {
    address: q.address,
    nrRunning: q.memberOf(NR_QUEUED).number(),
    hNrRunning: q.memberOf(H_NR_QUEUED).number(),
    idleHNrRunning: optNumber(q, H_NR_IDLE),
    minVruntime: q.memberOf(MIN_VRUNTIME).bigint(),
    avgVruntime: eevdf ? avgVruntime(vm, q) : null,
    // v6.6 EEVDF still sorts by vruntime (min_deadline augments it); v6.8 sorts by deadline and
    // augments with min_vruntime instead
    order: vm.types.hasMember('struct sched_entity', 'min_vruntime') ? 'deadline' : 'vruntime',
    throttled: has('throttled') ? q.member('throttled').bool() : null,
    throttleCount: has('throttle_count') ? q.member('throttle_count').number() : null,
    runtimeEnabled: has('runtime_enabled') ? q.member('runtime_enabled').bool() : null,
    runtimeRemaining: has('runtime_remaining') ? q.member('runtime_remaining').bigint() : null,
  };
}

/** sum and weight of (vruntime - min_vruntime) over the queue, curr included (v6.6 avg_vruntime()) */
function avgParts(vm: KernelContext, q: KObject): { avg: bigint; load: bigint; base: bigint } {
  const base = q.memberOf(MIN_VRUNTIME).bigint();
  let avg = s64(q.member('avg_vruntime').bigint());
  let load = q.member('avg_load').bigint();
  const curr = q.member('curr').pointer();
  if (curr !== 0n) {
    const se = vm.objectAt(curr, 'struct sched_entity');
    if (se.member('on_rq').bool()) {
      const w = scaleLoadDown(vm, se.member('load.weight').bigint());
      avg += s64(se.member('vruntime').bigint() - base) * w;
      load += w;
    }
  }
  return { avg, load, base };
}

/** avg_vruntime(cfs_rq): the zero-lag point V */
export function avgVruntime(vm: KernelContext, cfsRq: KObject): bigint {
  return zeroLagPoint(avgParts(vm, cfsRq));
}

function zeroLagPoint({ avg, load, base }: { avg: bigint; load: bigint; base: bigint }): bigint {
  if (load === 0n) return BigInt.asUintN(64, base + avg);
  // floor division, as the kernel rounds negative averages down
  const q = avg < 0n ? (avg - (load - 1n)) / load : avg / load;
  return BigInt.asUintN(64, base + q);
}

function eevdfInfo(vm: KernelContext, se: KObject, cfsRq: KObject, vruntime: bigint): EevdfInfo | null {
  if (!se.hasMember('deadline') || !se.hasMember('vlag')) return null;
  const computable = cfsRq.hasMember('avg_vruntime') && cfsRq.hasMember('avg_load');
  let lag: bigint | null = null;
  let eligible: boolean | null = null;
  if (computable) {
    const parts = avgParts(vm, cfsRq);
    const { avg, load, base } = parts;
    lag = s64(zeroLagPoint(parts) - vruntime);
    eligible = avg >= s64(vruntime - base) * load;
  }
  return {
    deadline: se.member('deadline').bigint(),
    slice: se.member('slice').bigint(),
    vlag: s64(se.member('vlag').bigint()),
    lag,
    eligible,
    delayed: se.hasMember('sched_delayed') ? se.member('sched_delayed').bool() : null,
  };
}

/** one sched_entity of `cfsRq`, as a plain object */
export function cfsEntity(vm: KernelContext, seAddr: bigint, cfsRq: KObject, depth: number, running: boolean): CfsEntity {
  const se = vm.objectAt(seAddr, 'struct sched_entity').snapshot();
  const vruntime = se.member('vruntime').bigint();
  const base = {
    se: seAddr,
    depth,
    running,
    onRq: se.member('on_rq').bool(),
    vruntime,
    minVruntimeLag: s64(vruntime - cfsRq.memberOf(MIN_VRUNTIME).bigint()),
    weight: se.member('load.weight').bigint(),
    eevdf: eevdfInfo(vm, se, cfsRq, vruntime),
  };
  // entity_is_task(): only group entities own a runqueue (my_q exists with FAIR_GROUP_SCHED)
  const myQ = se.hasMember('my_q') ? se.member('my_q').pointer() : 0n;
  if (myQ === 0n) {
    const taskAddr = seAddr - BigInt(vm.types.offsetof('struct task_struct', 'se'));
    const { cgroup, ...task } = schedTask(vm, taskAddr);
    return { ...base, cgroup, type: 'task', ...task };
  }
  const q = vm.objectAt(myQ, 'struct cfs_rq');
  const tg = q.member('tg').pointer();
  return {
    ...base,
    cgroup: taskGroupPath(vm, tg),
    type: 'group',
    taskGroup: tg,
    cfsRq: myQ,
    nrRunning: q.memberOf(NR_QUEUED).number(),
    hNrRunning: q.memberOf(H_NR_QUEUED).number(),
    throttled: q.hasMember('throttled') ? q.member('throttled').bool() : false,
  };
}

/** addresses of a cfs_rq's entities on its own level: curr first, then the rbtree in order */
export function cfsRqEntityAddresses(cfsRq: KObject): { curr: bigint; addrs: bigint[] } {
  const curr = cfsRq.member('curr').pointer();
  const off = BigInt(cfsRq.ctx.types.offsetof('struct sched_entity', 'run_node'));
  const addrs = curr !== 0n ? [curr] : [];
  for (const node of rbInorder(cfsRq.member('tasks_timeline'))) {
    const a = node - off;
    if (a !== curr) addrs.push(a); // curr is never in the tree; guard against a torn dump anyway
  }
  return { curr, addrs };
}

export interface CfsWalkOptions {
  /** deepest level to list (0 = only `cfsRq`'s own entities); unbounded by default */
  maxDepth?: number;
  /** depth of `cfsRq`'s own entities (for walks that start below the root) */
  depth?: number;
}

/**
 * Every entity under a cfs_rq, pre-order: each level's curr first, then its tree in order, a
 * group entity followed at once by what its own runqueue holds (drgn's listing order).
 */
export function cfsRqForEachEntity(vm: KernelContext, cfsRq: KObject, opts: CfsWalkOptions = {}): CfsEntity[] {
  const out: CfsEntity[] = [];
  const maxDepth = opts.maxDepth ?? Infinity;
  const seen = new Set<bigint>();
  const walk = (q: KObject, depth: number): void => {
    if (seen.has(q.address)) throw new ObjectError(`cfs_rq 0x${q.address.toString(16)} is its own ancestor (corrupt group hierarchy)`);
    seen.add(q.address);
    const { curr, addrs } = cfsRqEntityAddresses(q);
    for (const a of addrs) {
      const e = cfsEntity(vm, a, q, depth, a === curr);
      out.push(e);
      if (e.type === 'group' && depth < maxDepth) walk(vm.objectAt(e.cfsRq, 'struct cfs_rq'), depth + 1);
    }
  };
  walk(cfsRq, opts.depth ?? 0);
  return out;
}

/** the chain of running entities from the root cfs_rq down to the running task's own entity */
export function cfsCurrChain(entities: readonly CfsEntity[]): CfsEntity[] {
  const chain: CfsEntity[] = [];
  for (const e of entities) if (e.running && e.depth === chain.length) chain.push(e);
  return chain;
}
