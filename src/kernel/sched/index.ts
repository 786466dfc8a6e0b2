/**
 * The scheduler model: each CPU's runqueue (struct rq) with its counters and clocks, the task it
 * runs, and its three class queues (CFS with task groups, RT, deadline), as typed plain objects.
 * Names follow the kernel and drgn's helpers (cpu_rq, rq->curr, cfs_rq...). Kernel-version
 * differences live in the readers (sched-cfs, sched-rtdl, sched-group, sched-task), each with the
 * change that made it.
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { schedTask, type SchedTask } from './task.js';
import { cpuMask } from '../cpu.js';
import { cfsCurrChain, cfsRqForEachEntity, cfsRqInfo, type CfsEntity, type CfsRqInfo, type CfsTaskEntity } from './cfs.js';
import { dlRqInfo, rtRqInfo, type DlRqInfo, type RtRqInfo } from './rt-dl.js';

export * from './task.js';
export * from './cfs.js';
export * from './rt-dl.js';
export * from './group.js';

export interface CfsQueue extends CfsRqInfo {
  /** every entity under rq->cfs, pre-order, each level's curr first (drgn's `queued`) */
  entities: CfsEntity[];
  /** the task entities that wait (not their cfs_rq's curr), in listing order */
  queuedTasks: CfsTaskEntity[];
  /** running entities from the root cfs_rq down to the running fair task */
  currChain: CfsEntity[];
}

export interface RqModel {
  cpu: number;
  online: boolean;
  /** struct rq address */
  rq: bigint;
  nrRunning: number;
  /** rq->clock and rq->clock_task: ns since boot, as of the rq's last update */
  clock: bigint;
  clockTask: bigint;
  nrSwitches: bigint;
  /** per-CPU share of a global sum: may be negative on its own */
  nrUninterruptible: number;
  curr: SchedTask;
  idle: SchedTask;
  /** rq->clock - curr's sched_info.last_arrival: how long curr has run (null without SCHED_INFO or for the idle task) */
  currRunTime: bigint | null;
  /** the stop class (SMP): rq->stop (migration/N) and whether it is queued; null on !SMP */
  stop: { task: SchedTask; queued: boolean } | null;
  cfs: CfsQueue;
  rt: RtRqInfo;
  dl: DlRqInfo;
}

/** cpu_rq(cpu): CPU `cpu`'s struct rq */
export function cpuRq(vm: KernelContext, cpu: number): KObject {
  return vm.perCpu('runqueues', cpu, 'struct rq');
}

/** rq->curr ("sched: Add CONFIG_SCHED_PROXY_EXEC", v6.14, put it in a union with rq->donor; same path) */
export function rqCurr(vm: KernelContext, rq: KObject): SchedTask {
  return schedTask(vm, rq.member('curr').pointer());
}

/** the CFS side of a runqueue: counters, every entity, the waiting tasks and the running chain */
export function rqCfs(vm: KernelContext, rq: KObject): CfsQueue {
  const cfs = rq.member('cfs').snapshot();
  const entities = cfsRqForEachEntity(vm, cfs);
  return {
    ...cfsRqInfo(vm, cfs),
    entities,
    queuedTasks: entities.filter((e): e is CfsTaskEntity => e.type === 'task' && !e.running),
    currChain: cfsCurrChain(entities),
  };
}

/** rq->nr_uninterruptible (its width has been both unsigned int and unsigned long): a per-CPU part of a signed sum */
function signedCounter(o: KObject): number {
  const v = o.bigint();
  return Number(o.size === 8 ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v));
}

/** rq->stop, the highest class: queued (on_rq) while a stop_machine/stop_one_cpu job waits or runs */
export function rqStop(vm: KernelContext, rq: KObject): { task: SchedTask; queued: boolean } | null {
  const stop = rq.hasMember('stop') ? rq.member('stop').pointer() : 0n;
  if (stop === 0n) return null;
  return { task: schedTask(vm, stop), queued: vm.objectAt(stop, 'struct task_struct').member('on_rq').number() !== 0 };
}

/** one CPU's runqueue, whole */
export function rqModel(vm: KernelContext, cpu: number, online = true): RqModel {
  const rq = cpuRq(vm, cpu);
  const currAddr = rq.member('curr').pointer();
  const idleAddr = rq.member('idle').pointer();
  const clock = rq.member('clock').bigint();
  const curr = schedTask(vm, currAddr);
  return {
    cpu,
    online,
    rq: rq.address,
    nrRunning: rq.member('nr_running').number(),
    clock,
    clockTask: rq.member('clock_task').bigint(),
    nrSwitches: rq.member('nr_switches').bigint(),
    nrUninterruptible: signedCounter(rq.member('nr_uninterruptible')),
    curr,
    idle: currAddr === idleAddr ? curr : schedTask(vm, idleAddr),
    currRunTime: curr.lastArrival !== null && currAddr !== idleAddr ? BigInt.asIntN(64, clock - curr.lastArrival) : null,
    stop: rqStop(vm, rq),
    cfs: rqCfs(vm, rq),
    rt: rtRqInfo(vm, rq.member('rt'), currAddr),
    dl: dlRqInfo(vm, rq.member('dl'), currAddr),
  };
}

/** every possible CPU's runqueue (or just `cpus`), in CPU order */
export function runqueues(vm: KernelContext, cpus?: readonly number[]): RqModel[] {
  const possible = cpuMask(vm, 'possible');
  const online = new Set(cpuMask(vm, 'online'));
  const want = cpus ? possible.filter((c) => cpus.includes(c)) : possible;
  return want.map((cpu) => rqModel(vm, cpu, online.has(cpu)));
}
