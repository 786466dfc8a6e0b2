/**
 * What every lock view shares: a task named by pid/comm/state, "how long ago" against the
 * crash-time runqueue clock, a lock's name (its symbol when it is a global or inside one), and
 * the bounded walk of a lock's wait_list.
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { VaatError } from '../../dump/errors.js';
import { isKernelAddress } from '../../arch/index.js';
import { taskAt, tasksByAddress, type Task, type TaskStateChar } from '../tasks.js';
import { cpuMask } from '../cpu.js';
import { hz as kernelHz } from '../time.js';

export type LockKind = 'mutex' | 'rwsem' | 'semaphore' | 'spinlock' | 'rt_mutex';

/** a lock given as an object (any type whose layout is the lock's) or as an address */
export type LockRef = KObject | bigint;

/** the lock as an object of `type`: an address is typed, an object is re-typed only when it is not already */
export function lockObject(vm: KernelContext, lock: LockRef, type: string): KObject {
  if (typeof lock === 'bigint') return vm.objectAt(lock, type);
  return vm.types.resolve(lock.type) === vm.types.resolve(type) ? lock : lock.cast(type);
}

/** A task as lock views show it. */
export interface LockTask {
  address: bigint;
  pid: number;
  comm: string;
  state: TaskStateChar;
  cpu: number;
  /** sched_info.last_arrival (rq-clock ns; CONFIG_SCHED_INFO), null when absent */
  lastArrival: bigint | null;
  /** last_switch_time (jiffies; CONFIG_DETECT_HUNG_TASK), null when absent */
  lastSwitchTime: bigint | null;
}

export function lockTask(t: Task): LockTask {
  return { address: t.address, pid: t.pid, comm: t.comm, state: t.state, cpu: t.cpu, lastArrival: t.lastArrival, lastSwitchTime: t.lastSwitchTime };
}


/** a task pointer read from a lock: a known task, else decoded from memory, null when unreadable */
export function lockTaskAt(vm: KernelContext, address: bigint): LockTask | null {
  if (address === 0n) return null;
  let known: Task | undefined;
  try { known = tasksByAddress(vm).get(address); } catch { /* no task list: decode the task alone */ }
  if (known) return lockTask(known);
  try { return lockTask(taskAt(vm, address)); } catch { return null; }
}

/** A reference clock for "how long ago": the newest runqueue clock of any online CPU. */
export interface ClockNow {
  /** rq->clock in ns (sched_clock domain, the one sched_info.last_arrival uses) */
  ns: bigint;
  cpu: number;
  /** jiffies at the crash, for last_switch_time; null when unreadable */
  jiffies: bigint | null;
}

/**
 * The crash-time clock. Each CPU's rq->clock was last updated at its last tick or schedule; an
 * idle NOHZ CPU's is stale, so the newest one (sched_clock is synchronised across CPUs on x86)
 * is the best "now" the dump has.
 */
export function clockNow(vm: KernelContext): ClockNow | null {
  return vm.cache('locking.clockNow', (): ClockNow | null => {
    let best: ClockNow | null = null;
    try {
      for (const cpu of cpuMask(vm, 'online')) {
        const ns = vm.perCpu('runqueues', cpu).member('clock').bigint();
        if (!best || ns > best.ns) best = { ns, cpu, jiffies: null };
      }
    } catch { best = null; }
    if (best) {
      try { best.jiffies = vm.object('jiffies', 'unsigned long').bigint(); } catch { /* leave null */ }
    }
  return best;
  });
}

/** How long a task has been off the CPU, and from what. */
export interface TaskWaitTime {
  /** nanoseconds, null when the kernel keeps no such stamp */
  ns: bigint | null;
  /** which stamps were compared */
  source: string;
}

/**
 * Time since the task last got a CPU: newest rq->clock − sched_info.last_arrival (both ns of
 * sched_clock). Without CONFIG_SCHED_INFO: jiffies − last_switch_time (the hung-task detector's
 * stamp of the last context switch it noticed; coarse, at most one check period late).
 */
export function taskWaitTime(vm: KernelContext, t: LockTask): TaskWaitTime {
  const now = clockNow(vm);
  if (now && t.lastArrival !== null && t.lastArrival > 0n && now.ns >= t.lastArrival) {
    return { ns: now.ns - t.lastArrival, source: `rq->clock of CPU ${now.cpu} (newest) − sched_info.last_arrival` };
  }
  if (now?.jiffies != null && t.lastSwitchTime !== null && t.lastSwitchTime > 0n && now.jiffies >= t.lastSwitchTime) {
    let hz: number;
    try { hz = kernelHz(vm); } catch { return { ns: null, source: 'jiffies − last_switch_time, but HZ is unknown (no tick_nsec)' }; }
    return { ns: ((now.jiffies - t.lastSwitchTime) * 1_000_000_000n) / BigInt(hz), source: `(jiffies − last_switch_time) / HZ ${hz}` };
  }
  return { ns: null, source: 'no sched_info.last_arrival or last_switch_time' };
}

/** `cgroup_mutex`, `some_struct+0x40`, or null for memory no symbol covers (heap locks) */
export function lockSymbol(vm: KernelContext, address: bigint): string | null {
  try {
    const s = vm.symbols.symbolize(address);
    // a symbol of unknown extent (size 0) or one the address lies past names nothing
    if (!s || (s.offset !== 0 && (s.size === 0 || s.offset >= s.size))) return null;
    // absolute symbols (per-CPU offsets such as __per_cpu_end) and huge extents are no object
    if (s.offset !== 0 && (s.offset >= 0x100000 || /^[Aa]$/.test(vm.symbols.lookup(s.name)?.type ?? ''))) return null;
    return s.offset === 0 ? s.name : `${s.name}+0x${s.offset.toString(16)}`;
  } catch {
    return null;
  }
}

/** One entry of a lock's wait_list, in queue order. */
export interface ListWaiter {
  /** the waiter struct (mutex_waiter, rwsem_waiter, semaphore_waiter): usually on the waiter's stack */
  waiter: bigint;
  task: LockTask | null;
  /** the raw waiter->task pointer */
  taskAddress: bigint;
}

/** a wait list longer than this is corrupt (pid_max bounds real waiters far below) */
const MAX_WAITERS = 65_536;

/**
 * list_for_each_entry(waiter, &lock->wait_list, list) with the task decoded. Each link is
 * checked both ways (next->prev == this node) and never revisited, so a stale or mistyped
 * "lock" ends in an error after the waiters read so far instead of looping.
 */
export function* waitListEntries(vm: KernelContext, lock: KObject, waiterType: string): Generator<{ entry: KObject; waiter: ListWaiter }> {
  const head = lock.member('wait_list').address;
  const listOff = BigInt(vm.types.offsetof(waiterType, 'list'));
  const seen = new Set<bigint>();
  let prev = head;
  let node = vm.mem.pointer(head);
  while (node !== head) {
    if (!isKernelAddress(vm, node)) throw new VaatError(`wait_list at 0x${head.toString(16)}: bad link 0x${node.toString(16)}`);
    if (seen.has(node) || seen.size >= MAX_WAITERS) throw new VaatError(`wait_list at 0x${head.toString(16)} loops without returning to its head`);
    if (vm.mem.pointer(node + 8n) !== prev) throw new VaatError(`wait_list at 0x${head.toString(16)}: 0x${node.toString(16)}->prev does not point back`);
    seen.add(node);
    const entry = vm.objectAt(node - listOff, waiterType);
    const taskAddress = entry.member('task').pointer();
    yield { entry, waiter: { waiter: entry.address, task: lockTaskAt(vm, taskAddress), taskAddress } };
    prev = node;
    node = vm.mem.pointer(node);
  }
}

/** flag names of the bits set in `value`, from a bit → name table */
export function flagNames(value: bigint | number, table: Readonly<Record<number, string>>): string[] {
  const v = BigInt(value);
  return Object.entries(table).filter(([bit]) => (v & BigInt(bit)) !== 0n).map(([, n]) => n);
}
