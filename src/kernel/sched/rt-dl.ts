/**
 * The RT and deadline classes of a runqueue. Unlike CFS, both keep the running task queued: an
 * RT task stays on its priority list, a deadline entity stays in the deadline rbtree.
 *
 *  - RT: rt_rq.active is a priority array: a bitmap of non-empty levels and one list of
 *    sched_rt_entity.run_list per priority (0..99). With RT_GROUP_SCHED an entity can be a group
 *    (rt_se->my_q, an rt_rq), listed here with its tasks below it.
 *  - DL: dl_rq.root is an rb_root_cached of sched_dl_entity.rb_node in deadline order. Since
 *    v6.8 ("sched/fair: Add trivial fair server") an entity can be a dl server (rq->fair_server),
 *    which stands for the fair class rather than a task.
 */
import type { KernelContext } from '../../context.js';
import { ObjectError, type KObject } from '../../object/kobject.js';
import { listNodes, rbInorder } from '../../object/helpers.js';
import { schedTask, type SchedTask } from './task.js';

/** MAX_RT_PRIO: priority levels of an rt_prio_array's queue[] (unchanged 2.6 → 6.12) */
const MAX_RT_PRIO = 100;

export interface RtEntity {
  /** sched_rt_entity address */
  rtSe: bigint;
  /** the list the entity is on: queue[prio] */
  prio: number;
  depth: number;
  /** the task is rq->curr */
  running: boolean;
  /** null for a group entity */
  task: SchedTask | null;
  /** RT_GROUP_SCHED group entity: its rt_rq */
  rtRq: bigint | null;
}

export interface RtRqInfo {
  address: bigint;
  rtNrRunning: number;
  rrNrRunning: number | null;
  rtThrottled: boolean | null;
  /** highest_prio.curr: the best queued priority (MAX_RT_PRIO when none) */
  highestPrio: number | null;
  entities: RtEntity[];
  /** priority levels whose bitmap bit disagrees with whether their list is empty (a torn rq) */
  bitmapMismatch: number[];
}

export interface DlEntity {
  /** sched_dl_entity address */
  dlSe: bigint;
  running: boolean;
  /** absolute deadline (rq clock ns) */
  deadline: bigint;
  /** remaining runtime in this period (ns, may be negative) */
  runtime: bigint;
  dlRuntime: bigint;
  dlDeadline: bigint;
  dlPeriod: bigint;
  throttled: boolean;
  /** the task, or null for a dl server */
  task: SchedTask | null;
  /** 'task', or 'server' for a dl server entity (v6.8+) */
  kind: 'task' | 'server';
}

export interface DlRqInfo {
  address: bigint;
  dlNrRunning: number;
  entities: DlEntity[];
}

function optBool(o: KObject, m: string): boolean | null { return o.hasMember(m) ? o.member(m).bool() : null; }

/** the RT queue of an rt_rq, highest priority (lowest number) first, FIFO within a level */
export function rtRqInfo(vm: KernelContext, rtRq: KObject, currTask: bigint): RtRqInfo {
  const entities: RtEntity[] = [];
  const mismatch: number[] = [];
  rtRqForEachEntity(vm, rtRq, currTask, 0, entities, mismatch);
  return {
    address: rtRq.address,
    rtNrRunning: rtRq.member('rt_nr_running').number(),
    rrNrRunning: rtRq.hasMember('rr_nr_running') ? rtRq.member('rr_nr_running').number() : null,
    rtThrottled: optBool(rtRq, 'rt_throttled'),
    highestPrio: rtRq.hasMember('highest_prio.curr') ? rtRq.member('highest_prio.curr').number() : null,
    entities,
    bitmapMismatch: mismatch,
  };
}

function rtRqForEachEntity(vm: KernelContext, rtRq: KObject, currTask: bigint, depth: number, out: RtEntity[], mismatch: number[]): void {
  if (depth > 32) throw new ObjectError(`rt_rq 0x${rtRq.address.toString(16)}: group nesting does not end`);
  // one read for the whole array (~1.6 KiB): every list head and the bitmap come from it
  const active = rtRq.member('active').snapshot();
  const bitmap = active.member('bitmap');
  const runListOff = BigInt(vm.types.offsetof('struct sched_rt_entity', 'run_list'));
  const rtOff = BigInt(vm.types.offsetof('struct task_struct', 'rt'));
  for (let prio = 0; prio < MAX_RT_PRIO; prio++) {
    const head = active.member('queue').index(prio);
    const empty = head.member('next').pointer() === head.address;
    const bit = ((bitmap.index(prio >> 6).bigint() >> BigInt(prio & 63)) & 1n) === 1n;
    if (bit === empty) mismatch.push(prio);
    if (empty) continue;
    for (const node of listNodes(head)) {
      const rtSe = vm.objectAt(node - runListOff, 'struct sched_rt_entity');
      const myQ = rtSe.hasMember('my_q') ? rtSe.member('my_q').pointer() : 0n;
      if (myQ === 0n) {
        const task = rtSe.address - rtOff;
        out.push({ rtSe: rtSe.address, prio, depth, running: task === currTask, task: schedTask(vm, task), rtRq: null });
      } else {
        out.push({ rtSe: rtSe.address, prio, depth, running: false, task: null, rtRq: myQ });
        rtRqForEachEntity(vm, vm.objectAt(myQ, 'struct rt_rq'), currTask, depth + 1, out, mismatch);
      }
    }
  }
}

/** the deadline queue of a dl_rq, earliest deadline first */
export function dlRqInfo(vm: KernelContext, dlRq: KObject, currTask: bigint): DlRqInfo {
  const nodeOff = BigInt(vm.types.offsetof('struct sched_dl_entity', 'rb_node'));
  const dlOff = BigInt(vm.types.offsetof('struct task_struct', 'dl'));
  const entities: DlEntity[] = [];
  for (const node of rbInorder(dlRq.member('root'))) {
    const se = vm.objectAt(node - nodeOff, 'struct sched_dl_entity').snapshot();
    const server = se.hasMember('dl_server') && se.member('dl_server').bool();
    const taskAddr = se.address - dlOff;
    entities.push({
      dlSe: se.address,
      running: !server && taskAddr === currTask,
      deadline: se.member('deadline').bigint(),
      runtime: BigInt.asIntN(64, se.member('runtime').bigint()),
      dlRuntime: se.member('dl_runtime').bigint(),
      dlDeadline: se.member('dl_deadline').bigint(),
      dlPeriod: se.member('dl_period').bigint(),
      throttled: se.member('dl_throttled').bool(),
      task: server ? null : schedTask(vm, taskAddr),
      kind: server ? 'server' : 'task',
    });
  }
  return { address: dlRq.address, dlNrRunning: dlRq.member('dl_nr_running').number(), entities };
}
