/**
 * struct rw_semaphore and struct semaphore.
 *
 * rwsem encodings (kernel/locking/rwsem.c):
 *  - v5.3+ (94a9717b3c40 "locking/rwsem: Make rwsem->owner an atomic_long_t", with the series'
 *    "locking/rwsem: Implement a new locking scheme"; told by `owner` being an atomic_long_t, not a
 *    pointer): `count` bit 0 RWSEM_WRITER_LOCKED, bit 1 RWSEM_FLAG_WAITERS, bit 2
 *    RWSEM_FLAG_HANDOFF, bits 8..62 the reader count, bit 63 RWSEM_FLAG_READFAIL. `owner` is an
 *    atomic_long_t: the writer's task_struct, or — with RWSEM_READER_OWNED (bit 0) — the last
 *    reader to take it (a hint: it may have released it since; readers do not clear it).
 *    v5.3..v5.10 use bit 1 RWSEM_RD_NONSPINNABLE and bit 2 RWSEM_WR_NONSPINNABLE; 617f3ef95177
 *    "locking/rwsem: Remove reader optimistic spinning" (v5.11, and backported to some 5.10
 *    stable kernels) merged them into bit 1 RWSEM_NONSPINNABLE (see readerSpinning()).
 *  - before v5.3: `count` is bias-based (RWSEM_ACTIVE_MASK 0xffffffff active lockers,
 *    RWSEM_WAITING_BIAS −2^32) and `owner` a `struct task_struct *` with RWSEM_READER_OWNED (1)
 *    and, from v4.20, RWSEM_ANONYMOUSLY_OWNED (2).
 *  - PREEMPT_RT (v5.15+): `struct rw_semaphore { struct rwbase_rt rwbase; }`, not decoded here.
 * struct semaphore has no owner: `count` free slots and a FIFO wait_list of semaphore_waiter.
 */
import type { KernelContext } from '../../context.js';
import {
  flagNames, lockObject, lockTaskAt, waitListEntries,
  type ListWaiter, type LockRef, type LockTask,
} from './common.js';
import { VaatError } from '../../dump/errors.js';

export type RwsemState = 'unlocked' | 'writer' | 'readers';

export interface RwsemOwner {
  count: bigint;
  /** raw owner word */
  raw: bigint;
  state: RwsemState;
  /** the owner word's task with flag bits masked: the writer, or the last reader (a hint); 0n when none */
  ownerAddress: bigint;
  owner: LockTask | null;
  /** what `owner` means here */
  ownerMeaning: string;
  readers: number;
  /** owner-word flags (READER_OWNED, NONSPINNABLE...) and count flags (WAITERS, HANDOFF, READFAIL) */
  ownerFlags: string[];
  countFlags: string[];
  encoding: 'v5.3' | 'bias';
}

export type RwsemWaitType = 'read' | 'write';

export interface RwsemWaiter extends ListWaiter {
  type: RwsemWaitType | null;
  /** rwsem_waiter.timeout (jiffies after which the waiter may ask for a handoff; v5.3+) */
  timeout: bigint | null;
}

const COUNT_FLAGS: Readonly<Record<number, string>> = { 0x1: 'WRITER_LOCKED', 0x2: 'WAITERS', 0x4: 'HANDOFF' };
const RWSEM_READER_SHIFT = 8n;
const RWSEM_READER_MASK = ((1n << 55n) - 1n) << RWSEM_READER_SHIFT;
const RWSEM_FLAG_READFAIL = 1n << 63n;
const OWNER_FLAGS_MASK = 0x7n;

/**
 * Does the kernel still let readers spin (before 617f3ef95177 "locking/rwsem: Remove reader
 * optimistic spinning")? That commit dropped the second parameter of rwsem_spin_on_owner()
 * (`nonspinnable`) and of rwsem_optimistic_spin() (`wlock`), which the types show wherever either
 * function was compiled out of line. null when neither is in the types.
 */
export function readerSpinning(vm: KernelContext): boolean | null {
  return vm.cache('rwsem.readerSpinning', (): boolean | null => {
    let r: boolean | null = null;
    try {
      for (const name of ['rwsem_spin_on_owner', 'rwsem_optimistic_spin']) {
        const f = vm.types.findFunction(name);
        if (!f) continue;
        const t = vm.types.resolved(f.type);
        if (t.kind === 'function') { r = t.params.length > 1; break; }
      }
    } catch { r = null; }
  return r;
  });
}

function ownerFlagTable(vm: KernelContext, bias: boolean, raw: bigint): Readonly<Record<number, string>> {
  if (bias) return { 0x1: 'READER_OWNED', 0x2: 'ANONYMOUSLY_OWNED' };
  // without the functions' types, a set bit 2 (RWSEM_WR_NONSPINNABLE) can only be the older encoding
  const old = readerSpinning(vm) ?? (raw & 0x4n) !== 0n;
  return old
    ? { 0x1: 'READER_OWNED', 0x2: 'RD_NONSPINNABLE', 0x4: 'WR_NONSPINNABLE' }
    : { 0x1: 'READER_OWNED', 0x2: 'NONSPINNABLE' };
}

function rwsemObject(vm: KernelContext, lock: LockRef) {
  const sem = lockObject(vm, lock, 'struct rw_semaphore');
  if (sem.hasMember('rwbase')) throw new VaatError('PREEMPT_RT rw_semaphore (rwbase_rt) is not decoded');
  return sem;
}

/** who owns the rwsem: the writer, or readers (with the owner word's last-reader hint) */
export function rwsemOwner(vm: KernelContext, lock: LockRef): RwsemOwner {
  const sem = rwsemObject(vm, lock);
  const count = BigInt.asUintN(64, sem.member('count.counter').bigint());
  const ownerObj = sem.member('owner');
  // pre-5.3 owner is a plain pointer; 5.3+ an atomic_long_t
  const bias = ownerObj.kind === 'pointer';
  const raw = bias ? ownerObj.pointer() : BigInt.asUintN(64, ownerObj.member('counter').bigint());
  const ownerAddress = raw & ~OWNER_FLAGS_MASK;
  const ownerFlags = flagNames(raw & OWNER_FLAGS_MASK, ownerFlagTable(vm, bias, raw));
  const readerOwned = (raw & 1n) !== 0n;
  let state: RwsemState;
  let readers: number;
  let countFlags: string[];
  if (bias) {
    const active = Number(count & 0xffffffffn);
    const signed = BigInt.asIntN(64, count);
    countFlags = signed < 0n ? ['WAITING_BIAS'] : [];
    // a writer adds RWSEM_ACTIVE_WRITE_BIAS (waiting bias + 1): active 1 and owner not reader-marked
    state = active === 0 ? 'unlocked' : !readerOwned && ownerAddress !== 0n ? 'writer' : 'readers';
    readers = state === 'readers' ? active : 0;
  } else {
    readers = Number((count & RWSEM_READER_MASK) >> RWSEM_READER_SHIFT);
    countFlags = flagNames(count & 0x7n, COUNT_FLAGS).filter((f) => f !== 'WRITER_LOCKED');
    if (count & RWSEM_FLAG_READFAIL) countFlags.push('READFAIL');
    state = count & 1n ? 'writer' : readers > 0 ? 'readers' : 'unlocked';
  }
  const ownerMeaning = state === 'writer'
    ? 'the writer holding it'
    : readerOwned && ownerAddress !== 0n
      ? `the last reader to take it (a hint: readers do not clear owner; ${state === 'readers' ? `${readers} reader(s) hold it now` : 'it is free now'})`
      : ownerAddress !== 0n ? 'stale (the lock is free)' : 'none';
  return { count, raw, state, ownerAddress, owner: lockTaskAt(vm, ownerAddress), ownerMeaning, readers, ownerFlags, countFlags, encoding: bias ? 'bias' : 'v5.3' };
}

/** how many readers hold it now (count's reader field; 0 when write-locked or free) */
export function rwsemReaders(vm: KernelContext, lock: LockRef): number {
  return rwsemOwner(vm, lock).readers;
}

/** the wait_list of rwsem_waiter in queue order, each reading or writing */
export function* rwsemWaiters(vm: KernelContext, lock: LockRef): Generator<RwsemWaiter> {
  const sem = rwsemObject(vm, lock);
  const t = vm.types;
  const read = t.findEnumerator('RWSEM_WAITING_FOR_READ')?.value ?? 1n;
  for (const { entry, waiter } of waitListEntries(vm, sem, 'struct rwsem_waiter')) {
    const type = entry.member('type').bigint();
    yield {
      ...waiter,
      type: type === read ? 'read' : type === (t.findEnumerator('RWSEM_WAITING_FOR_WRITE')?.value ?? 0n) ? 'write' : null,
      timeout: entry.hasMember('timeout') ? entry.member('timeout').bigint() : null,
    };
  }
}

export interface SemaphoreState {
  /** free slots: down() sleeps while it is 0 */
  count: number;
  /** semaphores have no owner field (CONFIG_DETECT_HUNG_TASK_BLOCKER 6.16+ adds last_holder) */
  lastHolder: LockTask | null;
}

export function semaphoreState(vm: KernelContext, lock: LockRef): SemaphoreState {
  const sem = lockObject(vm, lock, 'struct semaphore');
  const lastHolder = sem.hasMember('last_holder') ? lockTaskAt(vm, sem.member('last_holder').bigint()) : null;
  return { count: sem.member('count').number(), lastHolder };
}

/** the semaphore's waiters in FIFO order */
export function* semaphoreWaiters(vm: KernelContext, lock: LockRef): Generator<ListWaiter> {
  for (const { waiter } of waitListEntries(vm, lockObject(vm, lock, 'struct semaphore'), 'struct semaphore_waiter')) yield waiter;
}
