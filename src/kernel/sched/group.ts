/**
 * Task groups (CONFIG_FAIR_GROUP_SCHED) as one CPU sees them: the tree of task_groups from
 * root_task_group down the children/siblings lists, each with its cfs_rq on that CPU, its
 * entity there, the tasks queued directly in it and its CFS bandwidth. Walking groups rather than
 * the rbtrees is what finds throttled groups: a throttled cfs_rq's entity is dequeued from its
 * parent, so no rbtree walk reaches it.
 */
import type { KernelContext } from '../../context.js';
import { ObjectError, type KObject } from '../../object/kobject.js';
import { listForEachEntry } from '../../object/helpers.js';
import { cfsEntity, cfsRqForEachEntity, cfsRqInfo, type CfsEntity, type CfsRqInfo, type CfsTaskEntity } from './cfs.js';
import { taskGroupPath } from './task.js';

/** RUNTIME_INF: a cfs_bandwidth quota of (u64)~0 means no limit */
const RUNTIME_INF = 0xffffffffffffffffn;
/** task_group trees are shallow; deeper means a corrupt list */
const MAX_GROUP_DEPTH = 64;

/** a task group's CFS bandwidth (cpu.max): all times in ns */
export interface CfsBandwidth {
  period: bigint;
  /** null: unlimited ("max") */
  quota: bigint | null;
  /** runtime left in the global pool this period */
  runtime: bigint;
  /** cpu.max.burst (v5.14+), null before */
  burst: bigint | null;
  nrPeriods: number;
  nrThrottled: number;
  throttledTime: bigint;
}

export interface TaskGroupNode {
  taskGroup: bigint;
  cgroup: string;
  /** the group's cfs_rq on this CPU (rq->cfs for the root) */
  cfsRq: CfsRqInfo;
  /** the group's entity in its parent's cfs_rq on this CPU; null for the root */
  se: CfsEntity | null;
  /** the group's cpu.weight as shares (scaled like load weights) */
  shares: bigint | null;
  bandwidth: CfsBandwidth | null;
  /** tasks queued directly in this group's cfs_rq, curr first */
  tasks: CfsTaskEntity[];
  children: TaskGroupNode[];
}

export interface TaskGroupTreeOptions {
  /** include groups with nothing queued and nothing throttled (default: only busy or throttled ones and their ancestors) */
  all?: boolean;
}

/** tg->cfs_bandwidth, null without CONFIG_CFS_BANDWIDTH */
export function taskGroupBandwidth(tg: KObject): CfsBandwidth | null {
  if (!tg.hasMember('cfs_bandwidth')) return null;
  const b = tg.member('cfs_bandwidth').snapshot();
  const quota = b.member('quota').bigint();
  return {
    period: b.member('period').bigint(),
    quota: quota === RUNTIME_INF ? null : quota,
    runtime: b.member('runtime').bigint(),
    burst: b.hasMember('burst') ? b.member('burst').bigint() : null, // "sched/fair: Introduce the burstable CFS controller", v5.14
    nrPeriods: b.member('nr_periods').number(),
    nrThrottled: b.member('nr_throttled').number(),
    throttledTime: b.member('throttled_time').bigint(),
  };
}

/** the task group tree for one CPU; null on kernels without FAIR_GROUP_SCHED */
export function taskGroupTree(vm: KernelContext, cpu: number, opts: TaskGroupTreeOptions = {}): TaskGroupNode | null {
  if (!vm.types.hasMember('struct task_group', 'cfs_rq')) return null;
  const root = vm.object('root_task_group', 'struct task_group');
  return groupNode(vm, root, cpu, 0, opts, new Set()) ?? null;
}

function groupNode(vm: KernelContext, tg: KObject, cpu: number, depth: number, opts: TaskGroupTreeOptions, seen: Set<bigint>): TaskGroupNode | undefined {
  if (depth > MAX_GROUP_DEPTH) throw new ObjectError(`task_group 0x${tg.address.toString(16)}: hierarchy does not end`);
  // a group reached twice is a corrupt children/siblings link (each one would be walked again, and its subtree)
  if (seen.has(tg.address)) throw new ObjectError(`task_group 0x${tg.address.toString(16)} is reached twice in the hierarchy (corrupt)`);
  seen.add(tg.address);
  const cfsRqAddr = tg.member('cfs_rq').index(cpu).pointer();
  if (cfsRqAddr === 0n) return undefined; // a group still being created
  const cfsRq = vm.objectAt(cfsRqAddr, 'struct cfs_rq').snapshot();
  const info = cfsRqInfo(vm, cfsRq);
  const children: TaskGroupNode[] = [];
  for (const child of listForEachEntry(tg.member('children'), 'struct task_group', 'siblings')) {
    const n = groupNode(vm, child, cpu, depth + 1, opts, seen);
    if (n) children.push(n);
  }
  const busy = info.nrRunning > 0 || info.throttled === true || (info.throttleCount ?? 0) > 0;
  if (depth > 0 && !opts.all && !busy && children.length === 0) return undefined;
  const tasks = cfsRqForEachEntity(vm, cfsRq, { maxDepth: 0, depth }).filter((e): e is CfsTaskEntity => e.type === 'task');
  const seAddr = depth > 0 ? tg.member('se').index(cpu).pointer() : 0n;
  let se: CfsEntity | null = null;
  if (seAddr !== 0n) {
    const parentQ = vm.objectAt(seAddr, 'struct sched_entity').member('cfs_rq');
    const parentCurr = parentQ.member('curr').pointer();
    se = cfsEntity(vm, seAddr, parentQ.deref(), depth - 1, parentCurr === seAddr);
  }
  return {
    taskGroup: tg.address,
    cgroup: taskGroupPath(vm, tg.address),
    cfsRq: info,
    se,
    shares: tg.hasMember('shares') ? tg.member('shares').bigint() : null,
    bandwidth: taskGroupBandwidth(tg),
    tasks,
    children,
  };
}

/** every throttled group in a tree, pre-order */
export function throttledGroups(root: TaskGroupNode | null): TaskGroupNode[] {
  const out: TaskGroupNode[] = [];
  const walk = (n: TaskGroupNode) => { if (n.cfsRq.throttled) out.push(n); n.children.forEach(walk); };
  if (root) walk(root);
  return out;
}
