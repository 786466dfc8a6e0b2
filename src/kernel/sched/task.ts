/**
 * What the scheduler views say about a task and a task group: the task walker's decoded fields
 * (pid, comm, state letter, prio, cgroup, sched_info times) plus se.sum_exec_runtime, and a
 * task group's name (its cgroup v2 path, or its autogroup).
 */
import type { KernelContext } from '../../context.js';
import { taskAt } from '../tasks.js';
import { cgroupPath } from '../cgroup/path.js';

/** A task as the runqueue views show it. Times are rq-clock nanoseconds. */
export interface SchedTask {
  /** task_struct address */
  task: bigint;
  pid: number;
  comm: string;
  /** ps-style letter: R S D T t X Z P I */
  state: string;
  /** task->prio (0..99 RT, 100..139 normal) */
  prio: number;
  /** cgroup v2 path of task->cgroups->dfl_cgrp; null without cgroups */
  cgroup: string | null;
  /** sched_info.last_arrival: when it last got the CPU (null without CONFIG_SCHED_INFO) */
  lastArrival: bigint | null;
  /** sched_info.last_queued: when it was last queued to wait (0 once it has run) */
  lastQueued: bigint | null;
  /** se.sum_exec_runtime */
  sumExecRuntime: bigint;
}

/**
 * A task group's name: its cgroup's path, `/autogroup-N` for an autogroup (made by setsid(), not
 * cgroupfs, so its css has no cgroup), `/` for root_task_group.
 */
export function taskGroupPath(vm: KernelContext, tg: bigint): string {
  const group = vm.objectAt(tg, 'struct task_group');
  const cgrp = group.member('css.cgroup').pointer();
  if (cgrp !== 0n) return cgroupPath(vm, cgrp) ?? '/';
  if (group.hasMember('autogroup')) { // CONFIG_SCHED_AUTOGROUP
    const ag = group.member('autogroup').pointer();
    if (ag !== 0n) return `/autogroup-${vm.objectAt(ag, 'struct autogroup').member('id').bigint()}`;
  }
  return '/';
}

/** the fields of a task the runqueue views print */
export function schedTask(vm: KernelContext, addr: bigint): SchedTask {
  const t = taskAt(vm, addr);
  return {
    task: addr,
    pid: t.pid,
    comm: t.comm,
    state: t.state,
    prio: t.prio,
    cgroup: t.cgroup,
    lastArrival: t.lastArrival,
    lastQueued: t.lastQueued,
    sumExecRuntime: vm.objectAt(addr, 'struct task_struct').member('se.sum_exec_runtime').bigint(),
  };
}
