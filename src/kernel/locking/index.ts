/**
 * Kernel sleeping locks and spinlocks as plain objects: who owns a lock, who waits for it, in
 * what order. Each lock kind lives in its own module (lock-mutex, lock-rwsem, lock-spin); this
 * one names a lock's kind from its type (or, failing that, from its contents) and gathers one
 * lock's whole picture for `vaat lockinfo`. What a task waits on is in waits.ts.
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { globalType } from '../../types/well-known.js';
import { VaatError } from '../../dump/errors.js';
import { isKernelAddress } from '../../arch/index.js';
import { lockSymbol, type ListWaiter, type LockKind, type LockTask } from './common.js';
import { mutexForEachWaiter, mutexOwner, rtMutexOwner, rtMutexWaiters, type MutexOwner } from './mutex.js';
import { rwsemOwner, rwsemWaiters, semaphoreState, semaphoreWaiters, type RwsemOwner, type RwsemWaitType, type SemaphoreState } from './rwsem.js';
import { qspinlockState, type QspinlockState } from './spinlock.js';

export * from './common.js';
export * from './mutex.js';
export * from './rwsem.js';
export * from './spinlock.js';

/** C type name → lock kind (typedefs and their structs both) */
const KIND_BY_TYPE: Readonly<Record<string, LockKind>> = {
  'struct mutex': 'mutex',
  'struct rw_semaphore': 'rwsem',
  'struct semaphore': 'semaphore',
  spinlock_t: 'spinlock', 'struct spinlock': 'spinlock',
  raw_spinlock_t: 'spinlock', 'struct raw_spinlock': 'spinlock',
  arch_spinlock_t: 'spinlock', 'struct qspinlock': 'spinlock',
  'struct rt_mutex': 'rt_mutex', 'struct rt_mutex_base': 'rt_mutex',
};

/** the canonical type each kind is read as */
export const LOCK_TYPE: Readonly<Record<LockKind, string>> = {
  mutex: 'struct mutex', rwsem: 'struct rw_semaphore', semaphore: 'struct semaphore', spinlock: 'spinlock_t', rt_mutex: 'struct rt_mutex',
};

/** the lock kind of a C type name, null for a type that is no lock */
export function lockKindOfType(typeName: string): LockKind | null {
  return KIND_BY_TYPE[typeName.replace(/^(const |volatile )+/, '').trim()] ?? null;
}

/** a global's type name: the debug info's variable, then the well-known declarations */
export function globalTypeName(vm: KernelContext, name: string): string | null {
  const t = globalType(vm.types, name);
  return t === null ? null : vm.types.typeName(t);
}

/** a list_head at `addr` whose neighbours point back at it (an empty one points at itself) */
function consistentListHead(vm: KernelContext, addr: bigint): boolean {
  try {
    const b = vm.mem.readVirt(addr, 16);
    const next = b.readBigUInt64LE(0);
    const prev = b.readBigUInt64LE(8);
    if (next === addr && prev === addr) return true;
    if (!isKernelAddress(vm, next) || !isKernelAddress(vm, prev)) return false;
    return vm.mem.pointer(next + 8n) === addr && vm.mem.pointer(prev) === addr;
  } catch {
    return false;
  }
}

/**
 * Guess a lock's kind from its contents when no type is known: where a consistent wait_list
 * sits (offset 16 in a mutex, 24 in an rwsem, 8 in a semaphore, from the types) and whether the
 * owner word holds a plausible value. Returns every kind that fits, best first.
 */
export function guessLockKind(vm: KernelContext, addr: bigint): LockKind[] {
  const t = vm.types;
  const fits: LockKind[] = [];
  const ownerOk = (o: bigint): boolean => (o & ~7n) === 0n || isKernelAddress(vm, o & ~7n);
  for (const kind of ['mutex', 'rwsem', 'semaphore'] as const) {
    const type = LOCK_TYPE[kind];
    const wl = t.tryMemberPath(type, 'wait_list');
    if (!wl || !consistentListHead(vm, addr + BigInt(wl.offset))) continue;
    try {
      if (kind === 'mutex' && !ownerOk(vm.mem.u64(addr + BigInt(t.offsetof(type, 'owner'))))) continue;
      if (kind === 'rwsem' && !ownerOk(vm.mem.u64(addr + BigInt(t.offsetof(type, 'owner'))))) continue;
    } catch { continue; }
    fits.push(kind);
  }
  return fits;
}

export interface LockWaiterInfo extends ListWaiter {
  /** rwsem waiters: reading or writing */
  waitType?: RwsemWaitType | null;
}

/** One lock, decoded. */
export interface LockInfo {
  address: bigint;
  symbol: string | null;
  kind: LockKind;
  type: string;
  /** how the kind was decided: '--type', 'symbol type (BTF/well-known)', 'guessed from contents' */
  typeSource: string;
  locked: boolean;
  owner: LockTask | null;
  /** what `owner` is: the holder, a reader hint... */
  ownerNote: string;
  mutex?: MutexOwner;
  rwsem?: RwsemOwner;
  semaphore?: SemaphoreState;
  spinlock?: QspinlockState;
  /** in queue order (rt_mutex: priority order) */
  waiters: LockWaiterInfo[];
  /** the wait list broke off (corrupt, unreadable, or not this lock type): the waiters before it */
  waitersError?: string;
}

/** the waiters a walk yields before it fails, and why it failed */
function collect<T>(walk: () => Iterable<T>): { waiters: T[]; waitersError?: string } {
  const waiters: T[] = [];
  try { for (const w of walk()) waiters.push(w); } catch (e) { return { waiters, waitersError: (e as Error).message }; }
  return { waiters };
}

/** decode the lock at `address` as `kind` */
export function lockInfo(vm: KernelContext, address: bigint, kind: LockKind, typeSource = 'caller', typeName = LOCK_TYPE[kind]): LockInfo {
  const obj: KObject = vm.objectAt(address, typeName);
  const base = { address, symbol: lockSymbol(vm, address), kind, type: typeName, typeSource };
  switch (kind) {
    case 'mutex': {
      const m = mutexOwner(vm, obj);
      return { ...base, locked: m.locked, owner: m.owner, ownerNote: m.locked ? 'holds it' : 'unlocked', mutex: m, ...collect(() => mutexForEachWaiter(vm, obj)) };
    }
    case 'rt_mutex': {
      const m = rtMutexOwner(vm, obj);
      return { ...base, locked: m.locked, owner: m.owner, ownerNote: m.locked ? 'holds it' : 'unlocked', mutex: m, ...collect(() => rtMutexWaiters(vm, obj)) };
    }
    case 'rwsem': {
      const r = rwsemOwner(vm, obj);
      const ws = collect(() => rwsemWaiters(vm, obj));
      const waiters = ws.waiters.map(({ type, timeout, ...w }) => { void timeout; return { ...w, waitType: type }; });
      return { ...base, locked: r.state !== 'unlocked', owner: r.owner, ownerNote: r.ownerMeaning, rwsem: r, waiters, ...(ws.waitersError ? { waitersError: ws.waitersError } : {}) };
    }
    case 'semaphore': {
      const s = semaphoreState(vm, obj);
      return {
        ...base, locked: s.count === 0, owner: s.lastHolder,
        ownerNote: s.lastHolder ? 'last holder (CONFIG_DETECT_HUNG_TASK_BLOCKER)' : 'semaphores record no owner',
        semaphore: s, ...collect(() => semaphoreWaiters(vm, obj)),
      };
    }
    case 'spinlock': {
      // PREEMPT_RT spinlock_t is an rt_mutex_base inside `lock`
      if (obj.hasMember('lock') && !obj.hasMember('rlock')) return lockInfo(vm, address + BigInt(vm.types.offsetof(typeName, 'lock')), 'rt_mutex', typeSource, 'struct rt_mutex_base');
      const s = qspinlockState(vm, obj);
      const owner = s.debugOwner?.task ?? null;
      return {
        ...base, locked: s.locked, owner,
        ownerNote: owner ? 'holder (CONFIG_DEBUG_SPINLOCK)' : 'qspinlocks record no owner: the holder is a task running on some CPU',
        spinlock: s, waiters: [],
      };
    }
  }
}

/** A lock named by a symbol or an address, with its kind decided. */
export interface ResolvedLock { address: bigint; kind: LockKind; type: string; typeSource: string }

/**
 * Resolve `symbol` / `symbol+0x10` / `0xaddr` (with an optional type) to a lock: the type given,
 * else the symbol's type, else a guess from contents.
 */
export function resolveLock(vm: KernelContext, spec: string, type?: string): ResolvedLock {
  const m = /^([A-Za-z_][\w.]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(spec);
  let address: bigint;
  let symType: string | null = null;
  if (/^0x[0-9a-f]+$/i.test(spec)) address = BigInt(spec);
  else if (m) {
    address = vm.address(m[1]) + (m[2] ? BigInt(m[2]) : 0n);
    if (!m[2]) symType = globalTypeName(vm, m[1]);
  } else throw new VaatError(`'${spec}' is neither a symbol nor an address`);
  if (type) {
    const kind = lockKindOfType(type);
    if (!kind) throw new VaatError(`'${type}' is not a lock type (one of: ${Object.keys(KIND_BY_TYPE).join(', ')})`);
    return { address, kind, type, typeSource: '--type' };
  }
  if (symType) {
    const kind = lockKindOfType(symType);
    if (!kind) throw new VaatError(`'${spec}' is a ${symType}, not a lock: give --type, or name the lock inside it (symbol+offset)`);
    return { address, kind, type: symType, typeSource: 'symbol type (BTF / well-known globals)' };
  }
  const guesses = guessLockKind(vm, address);
  if (guesses.length === 0) throw new VaatError(`no lock type known for ${spec} and its contents fit none: give --type 'struct mutex' (or rw_semaphore, semaphore, spinlock_t, rt_mutex)`);
  return { address, kind: guesses[0], type: LOCK_TYPE[guesses[0]], typeSource: `guessed from contents (fits: ${guesses.join(', ')})` };
}
