/**
 * struct mutex and struct rt_mutex: owner, flags and waiters.
 *
 * Layouts, told apart by the members present:
 *  - 3ca0ff571b09 "locking/mutex: Rework mutex::owner" (v4.10): `atomic_long_t owner` holds the
 *    owner's task_struct pointer with flag bits in its low 3 bits (task_structs are L1-aligned):
 *    MUTEX_FLAG_WAITERS 0x01, MUTEX_FLAG_HANDOFF 0x02, MUTEX_FLAG_PICKUP 0x04.
 *  - before it: `atomic_t count` (1 free, 0 locked, <0 locked with waiters) and a plain
 *    `struct task_struct *owner` (only with CONFIG_MUTEX_SPIN_ON_OWNER / DEBUG_MUTEXES).
 *  - PREEMPT_RT, bb630f9f7a7d "locking/rtmutex: Add mutex variant for RT" (v5.15):
 *    `struct mutex { struct rt_mutex_base rtmutex; }`, an rt_mutex with priority-ordered waiters
 *    in an rbtree.
 *  - rt_mutex: 830e6acc8a1c "locking/rtmutex: Split out the inner parts of 'struct rtmutex'"
 *    (v5.15) made `struct rt_mutex { struct rt_mutex_base rtmutex; }`; before it
 *    wait_lock/waiters/owner were rt_mutex's own. owner bit 0 is RT_MUTEX_HAS_WAITERS.
 *    f7853c342418 "locking/rtmutex: Fix task->pi_waiters integrity" (v6.5-rc4) moved
 *    rt_mutex_waiter.tree_entry to tree.entry (stable kernels carry it too, e.g. Debian's 6.1).
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { rbInorder } from '../../object/helpers.js';
import { flagNames, lockObject, lockTaskAt, waitListEntries, type ListWaiter, type LockRef, type LockTask } from './common.js';

const MUTEX_FLAGS = 0x07n;
const MUTEX_FLAG_NAMES: Readonly<Record<number, string>> = { 0x01: 'WAITERS', 0x02: 'HANDOFF', 0x04: 'PICKUP' };
const MUTEX_FLAG_MEANING: Readonly<Record<string, string>> = {
  WAITERS: 'non-empty wait_list: unlock must wake the first waiter',
  HANDOFF: 'the first waiter asked for the lock to be handed to it (starvation guard)',
  PICKUP: 'the lock was handed off: the first waiter may take it',
};

export type MutexEncoding = 'owner-flags' | 'count' | 'rt_mutex';

export interface MutexOwner {
  /** the raw owner word (rt_mutex: the owner pointer with RT_MUTEX_HAS_WAITERS) */
  raw: bigint;
  /** the owner's task_struct (flags masked off); 0n when unlocked or unknown */
  ownerAddress: bigint;
  owner: LockTask | null;
  locked: boolean;
  flags: number;
  flagNames: string[];
  /** what each set flag means */
  flagMeanings: string[];
  encoding: MutexEncoding;
  /** pre-4.10 `count`, null otherwise */
  count: number | null;
}

/** `struct mutex` is an rt_mutex in disguise (PREEMPT_RT) */
function isRtMutexBased(m: KObject): boolean { return m.hasMember('rtmutex'); }

/** __mutex_owner(): who holds the mutex, with the owner word's flag bits spelled out */
export function mutexOwner(vm: KernelContext, lock: LockRef): MutexOwner {
  const mutex = lockObject(vm, lock, 'struct mutex');
  if (isRtMutexBased(mutex)) return { ...rtMutexOwner(vm, mutex.member('rtmutex')), encoding: 'rt_mutex' };
  if (mutex.hasMember('count')) {
    const count = mutex.member('count.counter').number();
    const ownerAddress = mutex.hasMember('owner') ? mutex.member('owner').pointer() : 0n;
    return {
      raw: ownerAddress, ownerAddress, owner: lockTaskAt(vm, ownerAddress), locked: count <= 0,
      flags: 0, flagNames: count < 0 ? ['WAITERS(count<0)'] : [], flagMeanings: [], encoding: 'count', count,
    };
  }
  const raw = BigInt.asUintN(64, mutex.member('owner.counter').bigint());
  const ownerAddress = raw & ~MUTEX_FLAGS;
  const names = flagNames(raw & MUTEX_FLAGS, MUTEX_FLAG_NAMES);
  return {
    raw, ownerAddress, owner: lockTaskAt(vm, ownerAddress), locked: ownerAddress !== 0n,
    flags: Number(raw & MUTEX_FLAGS), flagNames: names, flagMeanings: names.map((n) => `${n}: ${MUTEX_FLAG_MEANING[n]}`),
    encoding: 'owner-flags', count: null,
  };
}

/** list_for_each_entry(w, &lock->wait_list, list): the waiters in FIFO queue order */
export function* mutexForEachWaiter(vm: KernelContext, lock: LockRef): Generator<ListWaiter> {
  const mutex = lockObject(vm, lock, 'struct mutex');
  if (isRtMutexBased(mutex)) { yield* rtMutexWaiters(vm, mutex.member('rtmutex')); return; }
  for (const { waiter } of waitListEntries(vm, mutex, 'struct mutex_waiter')) yield waiter;
}

const RT_MUTEX_HAS_WAITERS = 1n;

/** the rt_mutex_base of a struct rt_mutex (5.15+) or the rt_mutex itself (before) */
function rtBase(vm: KernelContext, lock: LockRef): KObject {
  // an address is taken as struct rt_mutex where it exists (5.15+: rt_mutex_base at offset 0)
  const obj = lockObject(vm, lock, vm.types.findType('struct rt_mutex') !== null ? 'struct rt_mutex' : 'struct rt_mutex_base');
  return obj.hasMember('rtmutex') ? obj.member('rtmutex') : obj;
}

/** rt_mutex_owner(): owner pointer with RT_MUTEX_HAS_WAITERS masked */
export function rtMutexOwner(vm: KernelContext, lock: LockRef): MutexOwner {
  const base = rtBase(vm, lock);
  const raw = base.member('owner').pointer();
  const ownerAddress = raw & ~RT_MUTEX_HAS_WAITERS;
  const names = raw & RT_MUTEX_HAS_WAITERS ? ['HAS_WAITERS'] : [];
  return {
    raw, ownerAddress, owner: lockTaskAt(vm, ownerAddress), locked: ownerAddress !== 0n,
    flags: Number(raw & RT_MUTEX_HAS_WAITERS), flagNames: names,
    flagMeanings: names.map(() => 'HAS_WAITERS: the waiters rbtree is non-empty'), encoding: 'rt_mutex', count: null,
  };
}

/** the rt_mutex waiters in priority order (leftmost first: the top waiter) */
export function* rtMutexWaiters(vm: KernelContext, lock: LockRef): Generator<ListWaiter> {
  const base = rtBase(vm, lock);
  const t = vm.types;
  const entry = t.resolveMember('struct rt_mutex_waiter', ['tree.entry', 'tree_entry']);
  const taskOff = BigInt(t.offsetof('struct rt_mutex_waiter', 'task'));
  for (const node of rbInorder(base.member('waiters'))) {
    const waiter = node - BigInt(entry.offset);
    const taskAddress = vm.mem.pointer(waiter + taskOff);
    yield { waiter, task: lockTaskAt(vm, taskAddress), taskAddress };
  }
}
