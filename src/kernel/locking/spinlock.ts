/**
 * Queued spinlocks (include/asm-generic/qspinlock_types.h, v4.2+ on x86): one 32-bit word.
 *  bits 0-7 locked byte (1; 3 = _Q_SLOW_VAL: held, a paravirt waiter halted and hashed the lock)
 *  pending: bits 8-15 when CONFIG_NR_CPUS < 16K, else bit 8 alone
 *  tail index (which of the CPU's 4 MCS nodes: task, softirq, hardirq, NMI context): next 2 bits
 *  tail CPU + 1: the remaining high bits — the last CPU queued in the MCS chain.
 * NR_CPUS is not in the types, but `struct cpumask` is BITS_TO_LONGS(NR_CPUS) longs, which says
 * whether NR_CPUS reaches 16K. spinlock_t wraps raw_spinlock_t (`rlock`) which wraps the arch
 * lock (`raw_lock`); CONFIG_DEBUG_SPINLOCK adds owner/owner_cpu. Under PREEMPT_RT (v5.15+)
 * spinlock_t is an rt_mutex_base (`lock`): decoded as an rt_mutex by the caller.
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { lockTaskAt, type LockTask } from './common.js';
import { cpuCurr } from '../cpu.js';

export interface QspinlockState {
  /** the lock word */
  val: number;
  locked: boolean;
  /** the locked byte: 1 held, 3 held with a halted paravirt waiter (_Q_SLOW_VAL) */
  lockedByte: number;
  /** a CPU spins on the word itself, first in line (not queued) */
  pending: boolean;
  /** the last CPU of the MCS queue and its node index, null when nobody is queued */
  tail: { cpu: number; idx: number; context: string; current: LockTask | null } | null;
  /** CONFIG_DEBUG_SPINLOCK's record of the holder */
  debugOwner: { cpu: number; task: LockTask | null } | null;
  pendingBits: 8 | 1;
}

const TAIL_CONTEXT = ['task', 'softirq', 'hardirq', 'nmi'];

/** the arch_spinlock_t inside a spinlock_t / raw_spinlock_t / qspinlock object */
function archLock(lock: KObject): KObject {
  let o = lock;
  if (o.hasMember('rlock')) o = o.member('rlock');
  if (o.hasMember('raw_lock')) o = o.member('raw_lock');
  return o;
}

/** does CONFIG_NR_CPUS reach 16K (1-bit pending)? */
function pendingBits(vm: KernelContext): 8 | 1 {
  const bits = vm.types.resolved(vm.types.memberPath('struct cpumask', 'bits').type);
  return bits.kind === 'array' && bits.length * 64 >= 1 << 14 ? 1 : 8;
}

export interface QspinlockWord { locked: boolean; lockedByte: number; pending: boolean; tailCpu: number | null; tailIdx: number | null }

/** the fields of a qspinlock word, given the pending field's width */
export function decodeQspinlockWord(val: number, pendingBits: 8 | 1): QspinlockWord {
  const idxOff = 8 + pendingBits;
  const tail = val >>> (idxOff + 2);
  return {
    locked: (val & 0xff) !== 0,
    lockedByte: val & 0xff,
    pending: ((val >>> 8) & ((1 << pendingBits) - 1)) !== 0,
    tailCpu: tail === 0 ? null : tail - 1,
    tailIdx: tail === 0 ? null : (val >>> idxOff) & 3,
  };
}

/** decode a queued spinlock (spinlock_t, raw_spinlock_t or arch_spinlock_t) */
export function qspinlockState(vm: KernelContext, lock: KObject | bigint): QspinlockState {
  const obj = typeof lock === 'bigint' ? vm.objectAt(lock, 'raw_spinlock_t') : lock;
  const arch = archLock(obj);
  const val = arch.member('val.counter').number() >>> 0;
  const pb = pendingBits(vm);
  const w = decodeQspinlockWord(val, pb);
  let current: LockTask | null = null;
  if (w.tailCpu !== null) { try { current = lockTaskAt(vm, cpuCurr(vm, w.tailCpu)); } catch { /* leave null */ } }
  let debugOwner: QspinlockState['debugOwner'] = null;
  const raw = obj.hasMember('rlock') ? obj.member('rlock') : obj;
  if (raw.hasMember('owner_cpu') && raw.hasMember('owner')) {
    debugOwner = { cpu: raw.member('owner_cpu').number(), task: lockTaskAt(vm, raw.member('owner').pointer()) };
  }
  return {
    val,
    locked: w.locked,
    lockedByte: w.lockedByte,
    pending: w.pending,
    tail: w.tailCpu !== null ? { cpu: w.tailCpu, idx: w.tailIdx!, context: TAIL_CONTEXT[w.tailIdx!], current } : null,
    debugOwner,
    pendingBits: pb,
  };
}
