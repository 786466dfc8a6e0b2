/**
 * Tasks: every thread of a dump, as plain objects. The walk follows `init_task.tasks` (thread
 * group leaders) and each group's `signal->thread_head` list (threads; `thread_group` was removed
 * in v6.7, `thread_head`/`thread_node` exist since v3.14), then adds each possible CPU's idle task
 * (`rq->idle`, swapper/N with pid 0: not on any list; CPU 0's is init_task itself).
 *
 * Speed: member offsets are resolved once per dump into a TaskLayout, and each task_struct is
 * read with ONE read of the span covering every member used; the list pointers come from the same
 * bytes, so a task costs one native read and a decode from a Buffer.
 */
import type { KernelContext } from '../context.js';
import type { TypeInfo } from '../types/typeinfo.js';
import { VaatError } from '../dump/errors.js';
import { isKernelAddress } from '../arch/index.js';
import { readCString, readVirtInto } from '../dump/dump.js';
import { cssSetCgroupPath } from './cgroup/path.js';
import { cpuIdle, cpuMask } from './cpu.js';

/** the letters of /proc/<pid>/stat and ps(1); '?' for a state no letter describes */
export type TaskStateChar = 'R' | 'S' | 'D' | 'T' | 't' | 'X' | 'Z' | 'P' | 'I' | '?';

/** A task (thread) as the task list holds it: pid, tgid, comm, state letter, CPU, its task_struct address and the clocks the lock views use. */
export interface Task {
  /** the task_struct's address */
  address: bigint;
  pid: number;
  tgid: number;
  /** real_parent->tgid (0 for tasks whose parent is init_task/swapper) */
  ppid: number;
  comm: string;
  state: TaskStateChar;
  /** raw __state/state and exit_state */
  stateBits: number;
  exitState: number;
  /** task->on_cpu: the task is running on a CPU (or being switched) */
  onCpu: boolean;
  /** task->stack: the base (lowest address) of its kernel stack */
  stack: bigint;
  /**
   * What it is blocked on, as the kernel records it: task->pi_blocked_on (its rt_mutex_waiter,
   * CONFIG_RT_MUTEXES) and task->blocked_on (CONFIG_DEBUG_MUTEXES: its mutex_waiter; the mutex
   * itself from v6.15); 0 when not blocked, null when the kernel lacks the member.
   */
  piBlockedOn: bigint | null;
  blockedOn: bigint | null;
  /** task_cpu(): the CPU it runs or last ran on */
  cpu: number;
  prio: number;
  staticPrio: number;
  /** static_prio - DEFAULT_PRIO (120) */
  nice: number;
  policy: number;
  flags: number;
  isKthread: boolean;
  /** a per-CPU idle task (swapper/N, pid 0) */
  isIdle: boolean;
  /** cgroup v2 path of task->cgroups->dfl_cgrp; null without cgroups */
  cgroup: string | null;
  /** task->cgroups: its css_set; null without cgroups */
  cssSet: bigint | null;
  /** sched_info.last_arrival/last_queued (ns of rq clock; CONFIG_SCHED_INFO), null when absent */
  lastArrival: bigint | null;
  lastQueued: bigint | null;
  /** last_switch_time (jiffies; CONFIG_DETECT_HUNG_TASK), null when absent */
  lastSwitchTime: bigint | null;
}

/** PF_KTHREAD, include/linux/sched.h (unchanged since 2.6.27) */
export const PF_KTHREAD = 0x00200000;
/** PF_EXITING: getting shut down (include/linux/sched.h, unchanged) */
export const PF_EXITING = 0x4;
/** DEFAULT_PRIO = MAX_RT_PRIO + NICE_WIDTH / 2 */
const DEFAULT_PRIO = 120;
/** PID_MAX_LIMIT (4M on 64-bit): more threads than pids can exist means a corrupt list */
const MAX_TASKS = 4_194_304;

interface Field { off: number; size: number; signed: boolean }

interface TaskLayout {
  spanStart: number;
  spanLen: number;
  state: Field;
  exitState: Field;
  flags: Field;
  onCpu: Field | null;
  cpu: Field | null;
  prio: Field;
  staticPrio: Field;
  policy: Field;
  pid: Field;
  tgid: Field;
  realParent: Field;
  stack: Field;
  piBlockedOn: Field | null;
  blockedOn: Field | null;
  comm: { off: number; size: number };
  tasks: number;
  threadNode: number;
  signal: number;
  /** offset of thread_head inside struct signal_struct */
  sigThreadHead: number;
  cgroups: Field | null;
  lastArrival: Field | null;
  lastQueued: Field | null;
  lastSwitchTime: Field | null;
}

const TASK = 'struct task_struct';

function field(t: TypeInfo, type: string, paths: readonly string[]): Field | null {
  const m = t.tryResolveMember(type, paths);
  if (!m) return null;
  const r = t.resolved(m.type);
  return { off: m.offset, size: t.sizeof(m.type), signed: (r.kind === 'int' || r.kind === 'enum') && r.signed };
}

function need(t: TypeInfo, paths: readonly string[]): Field {
  const f = field(t, TASK, paths);
  if (!f) throw new VaatError(`struct task_struct has none of ${paths.join(', ')}`);
  return f;
}

function buildLayout(t: TypeInfo): TaskLayout {
  const commLoc = t.memberPath(TASK, 'comm');
  const L: Omit<TaskLayout, 'spanStart' | 'spanLen'> = {
    // "sched: Change task_struct::state", v5.14: `long state` became `unsigned int __state`
    state: need(t, ['__state', 'state']),
    exitState: need(t, ['exit_state']),
    flags: need(t, ['flags']),
    onCpu: field(t, TASK, ['on_cpu']), // CONFIG_SMP
    // "sched: move CPU field back into thread_info if THREAD_INFO_IN_TASK=y", v5.16: task->cpu → thread_info.cpu
    cpu: field(t, TASK, ['thread_info.cpu', 'cpu']),
    prio: need(t, ['prio']),
    staticPrio: need(t, ['static_prio']),
    policy: need(t, ['policy']),
    pid: need(t, ['pid']),
    tgid: need(t, ['tgid']),
    realParent: need(t, ['real_parent']),
    stack: need(t, ['stack']),
    // both follow `signal` and precede `cgroups` in include/linux/sched.h: the span does not grow
    piBlockedOn: field(t, TASK, ['pi_blocked_on']), // CONFIG_RT_MUTEXES
    blockedOn: field(t, TASK, ['blocked_on']), // CONFIG_DEBUG_MUTEXES
    comm: { off: commLoc.offset, size: t.sizeof(commLoc.type) },
    tasks: t.offsetof(TASK, 'tasks'),
    threadNode: t.offsetof(TASK, 'thread_node'),
    signal: t.offsetof(TASK, 'signal'),
    sigThreadHead: t.offsetof('struct signal_struct', 'thread_head'),
    cgroups: field(t, TASK, ['cgroups']), // CONFIG_CGROUPS
    lastArrival: field(t, TASK, ['sched_info.last_arrival']), // CONFIG_SCHED_INFO
    lastQueued: field(t, TASK, ['sched_info.last_queued']),
    lastSwitchTime: field(t, TASK, ['last_switch_time']), // CONFIG_DETECT_HUNG_TASK
  };
  // The span read per task: from the first to the end of the last member used.
  const ranges: [number, number][] = [
    ...[L.state, L.exitState, L.flags, L.onCpu, L.cpu, L.prio, L.staticPrio, L.policy, L.pid, L.tgid, L.realParent,
      L.stack, L.piBlockedOn, L.blockedOn, L.cgroups, L.lastArrival, L.lastQueued, L.lastSwitchTime]
      .filter((f): f is Field => f !== null).map((f): [number, number] => [f.off, f.off + f.size]),
    [L.comm.off, L.comm.off + L.comm.size],
    [L.tasks, L.tasks + 16],
    [L.threadNode, L.threadNode + 16],
    [L.signal, L.signal + 8],
  ];
  // 8-aligned, so the pointers (8-aligned in the struct) are aligned in the buffer too (TaskReader.ptr)
  const spanStart = Math.min(...ranges.map((r) => r[0])) & ~7;
  const spanEnd = Math.max(...ranges.map((r) => r[1]));
  return { ...L, spanStart, spanLen: spanEnd - spanStart };
}

function layout(vm: KernelContext): TaskLayout {
  return vm.cache('tasks.layout', () => buildLayout(vm.types));
}

// ---------------------------------------------------------------------------------------------
// State letters

/** Letters by fls(state) index, and TASK_REPORT: what fs/proc/array.c's task_state_array says. */
export interface TaskStateTable { letters: string; report: number }

/**
 * The fallback when the dump lacks task_state_array: "RSDTtXZPI" with TASK_REPORT 0x7f, the
 * table since v4.14 ("sched/debug: Add explicit TASK_PARKED/TASK_IDLE printing"), unchanged to 6.12.
 */
const DEFAULT_STATE_TABLE: TaskStateTable = { letters: 'RSDTtXZPI', report: 0x7f };

// Bits with stable values in 5.10..6.12 (include/linux/sched.h):
const TASK_UNINTERRUPTIBLE = 0x2;
/** TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD (0x400 since v4.14) */
const TASK_IDLE = TASK_UNINTERRUPTIBLE | 0x400;
/** TASK_RTLOCK_WAIT (v5.15); before it 0x1000 was TASK_STATE_MAX, never set in a state */
const TASK_RTLOCK_WAIT = 0x1000;
/** TASK_FROZEN (v6.1 "freezer,sched: Rewrite core freezer logic"); above TASK_STATE_MAX before */
const TASK_FROZEN = 0x8000;
/**
 * TASK_FREEZABLE, from the same commit (f5d39b020809, v6.1): the sleep may be frozen (futex
 * waits, nanosleep, sigtimedwait ... set it with TASK_INTERRUPTIBLE). Before v6.1 the bit is
 * TASK_STATE_MAX (v5.14-v6.0) or above it, never set in a state, so a test of it needs no
 * version check.
 */
export const TASK_FREEZABLE = 0x2000;

/**
 * The kernel's own task_state_array ("R (running)", "S (sleeping)" ... "I (idle)"): entry i is the
 * state whose highest bit is i-1, and the last entry is TASK_REPORT_IDLE (TASK_REPORT + 1). Reading
 * it keeps the letters right if a kernel adds a state.
 */
export function taskStateTable(vm: KernelContext): TaskStateTable {
  return vm.cache('tasks.stateTable', (): TaskStateTable => {
    let tab: TaskStateTable;
    tab = DEFAULT_STATE_TABLE;
    try {
      const base = vm.address('task_state_array');
      const ptrs = vm.mem.readVirt(base, 16 * 8);
      let letters = '';
      for (let i = 0; i < 16; i++) {
        const p = ptrs.readBigUInt64LE(i * 8);
        if (!isKernelAddress(vm, p)) break;
        const s = readCString(vm.mem, p, 32);
        const m = /^([A-Za-z]) \(/.exec(s);
        if (!m) break;
        letters += m[1];
      }
      if (letters.length >= 3 && letters[0] === 'R') tab = { letters, report: (1 << (letters.length - 2)) - 1 };
    } catch { /* keep the default table */ }
  return tab;
  });
}

function fls(x: number): number { return x === 0 ? 0 : 32 - Math.clz32(x); }

/** task_state_index() → letter, from raw __state and exit_state (fs/proc/array.c, include/linux/sched.h) */
export function taskStateToChar(table: TaskStateTable, stateBits: number, exitState: number): TaskStateChar {
  let st = (stateBits | exitState) & table.report;
  if ((stateBits & TASK_IDLE) === TASK_IDLE) st = table.report + 1;
  // rtlock waiters (PREEMPT_RT) and, from 6.1, frozen tasks are reported as uninterruptible
  else if (stateBits & (TASK_RTLOCK_WAIT | TASK_FROZEN)) st = TASK_UNINTERRUPTIBLE;
  return (table.letters[fls(st)] ?? '?') as TaskStateChar;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function readInt(b: Buffer, off: number, f: Field): number {
  const o = off + f.off;
  switch (f.size) {
    case 1: return f.signed ? b.readInt8(o) : b.readUInt8(o);
    case 2: return f.signed ? b.readInt16LE(o) : b.readUInt16LE(o);
    case 4: return f.signed ? b.readInt32LE(o) : b.readUInt32LE(o);
    // `long state` before v5.14: the state bits fit in 32
    case 8: return Number(BigInt.asUintN(32, b.readBigUInt64LE(o)));
    default: throw new VaatError(`unsupported member size ${f.size}`);
  }
}

/** Reads and decodes task_structs for one KernelContext; remembers tgids for ppid. */
class TaskReader {
  readonly L: TaskLayout;
  readonly states: TaskStateTable;
  readonly tgids = new Map<bigint, number>();

  /** spanStart as a bigint (made once: a BigInt() per task is an allocation per task) */
  readonly spanStart: bigint;

  constructor(readonly vm: KernelContext) {
    this.L = layout(vm);
    this.states = taskStateTable(vm);
    this.spanStart = BigInt(this.L.spanStart);
  }

  /** the span of the task_struct at `task` in a new buffer; b[0] is at task + spanStart */
  read(task: bigint): Buffer {
    return this.vm.mem.readVirt(task + this.spanStart, this.L.spanLen);
  }

  #scratch: Buffer | undefined;
  #words: BigUint64Array | undefined;
  #halves: Uint32Array | undefined;
  /**
   * The same span in one buffer reused by every call: a walk of tens of thousands of tasks then
   * allocates no buffer per task (each span is larger than Node's pooled sizes, so each was a
   * fresh allocation, and their garbage cost a tenth of `ps`). Valid until the next readShared().
   */
  readShared(task: bigint): Buffer {
    if (!this.#scratch) {
      // its own 8-aligned memory, viewed as words too: ptr() reads an element instead of building
      // a BigInt from two halves (readBigUInt64LE), ~10 pointers per task
      const mem = new ArrayBuffer((this.L.spanLen + 7) & ~7);
      this.#scratch = Buffer.from(mem, 0, this.L.spanLen);
      this.#words = new BigUint64Array(mem);
      this.#halves = new Uint32Array(mem);
    }
    readVirtInto(this.vm.mem, task + this.spanStart, this.#scratch);
    return this.#scratch;
  }

  /**
   * The u64 at task_struct offset `off` of a span read by read() or readShared(). A zero (most
   * tasks' pi_blocked_on, last_queued, last_switch_time) is the one constant 0n, tested on the
   * word's halves: reading the word makes a BigInt, and three of them per task were ~4% of `ps`
   * on 10,000 tasks.
   */
  ptr(b: Buffer, off: number): bigint {
    const o = off - this.L.spanStart;
    if (b !== this.#scratch || (o & 7) !== 0) return b.readBigUInt64LE(o);
    const h = this.#halves!;
    return h[o >> 2] === 0 && h[(o >> 2) + 1] === 0 ? 0n : this.#words![o >> 3];
  }

  decode(address: bigint, b: Buffer, isIdle: boolean): Task {
    const L = this.L;
    const base = -L.spanStart;
    const stateBits = readInt(b, base, L.state);
    const exitState = readInt(b, base, L.exitState);
    const flags = readInt(b, base, L.flags) >>> 0;
    const tgid = readInt(b, base, L.tgid);
    this.tgids.set(address, tgid);
    const staticPrio = readInt(b, base, L.staticPrio);
    const cssSet = L.cgroups ? this.ptr(b, L.cgroups.off) : null;
    const commStart = base + L.comm.off;
    const nul = b.indexOf(0, commStart);
    const commEnd = nul < 0 || nul > commStart + L.comm.size ? commStart + L.comm.size : nul;
    return {
      address,
      pid: readInt(b, base, L.pid),
      tgid,
      ppid: this.tgidOf(this.ptr(b, L.realParent.off)),
      comm: b.toString('utf8', commStart, commEnd),
      state: taskStateToChar(this.states, stateBits, exitState),
      stateBits,
      exitState,
      onCpu: L.onCpu ? readInt(b, base, L.onCpu) !== 0 : false,
      stack: this.ptr(b, L.stack.off),
      piBlockedOn: L.piBlockedOn ? this.ptr(b, L.piBlockedOn.off) : null,
      blockedOn: L.blockedOn ? this.ptr(b, L.blockedOn.off) : null,
      cpu: L.cpu ? readInt(b, base, L.cpu) : 0,
      prio: readInt(b, base, L.prio),
      staticPrio,
      nice: staticPrio - DEFAULT_PRIO,
      policy: readInt(b, base, L.policy),
      flags,
      isKthread: (flags & PF_KTHREAD) !== 0,
      isIdle,
      cgroup: cssSet === null ? null : cssSetCgroupPath(this.vm, cssSet),
      cssSet,
      lastArrival: L.lastArrival ? this.u64(b, L.lastArrival) : null,
      lastQueued: L.lastQueued ? this.u64(b, L.lastQueued) : null,
      lastSwitchTime: L.lastSwitchTime ? this.u64(b, L.lastSwitchTime) : null,
    };
  }

  /** an unsigned member as a bigint (clocks: u64, or narrower on some configs) */
  u64(b: Buffer, f: Field): bigint {
    return f.size === 8 ? this.ptr(b, f.off) : BigInt(readInt(b, -this.L.spanStart, f));
  }

  tgidOf(task: bigint): number {
    if (task === 0n) return 0;
    let t = this.tgids.get(task);
    if (t === undefined) {
      try {
        t = readInt(this.vm.mem.readVirt(task + BigInt(this.L.tgid.off), this.L.tgid.size), 0, { ...this.L.tgid, off: 0 });
      } catch {
        t = -1;
      }
      this.tgids.set(task, t);
    }
    return t;
  }
}

export interface ForEachTaskOptions {
  /** include each possible CPU's idle task (swapper/N); default true */
  idle?: boolean;
}

/**
 * Every thread: thread group leaders in `init_task.tasks` order, each followed by its other
 * threads, then the idle tasks. Bounded and cycle-checked, so a corrupt list ends in an error.
 */
export function* forEachTask(vm: KernelContext, opts: ForEachTaskOptions = {}): Generator<Task> {
  const r = new TaskReader(vm);
  const L = r.L;
  const initTask = vm.address('init_task');
  r.tgids.set(initTask, 0);
  const seen = new Set<bigint>([initTask]);
  const visit = (t: bigint): void => {
    if (seen.has(t)) throw new VaatError(`task list revisits 0x${t.toString(16)} (corrupt or cyclic list)`, vm.file);
    if (seen.size >= MAX_TASKS) throw new VaatError('task list does not end (corrupt)', vm.file);
    seen.add(t);
  };
  // the list offsets as bigints, made once
  const tasksOff = BigInt(L.tasks);
  const threadNodeOff = BigInt(L.threadNode);
  const sigThreadHeadOff = BigInt(L.sigThreadHead);
  const head = initTask + tasksOff;
  // Every task is read into one reused buffer (readShared): what the walk needs from it is
  // taken out before the next read, and decode() copies what the Task keeps.
  const initBuf = r.read(initTask);
  let next = r.ptr(initBuf, L.tasks);
  while (next !== head) {
    if (next === 0n) throw new VaatError('NULL in the task list', vm.file);
    const leader = next - tasksOff;
    visit(leader);
    const b = r.readShared(leader);
    const task = r.decode(leader, b, false);
    next = r.ptr(b, L.tasks);
    // A lone thread's thread_node links only to its own signal->thread_head: nothing more to read.
    const threadHead = r.ptr(b, L.signal) + sigThreadHeadOff;
    const tnNext = r.ptr(b, L.threadNode);
    const tnPrev = r.ptr(b, L.threadNode + 8);
    yield task;
    if (tnNext !== threadHead || tnPrev !== threadHead) {
      // Walk the group from its head: after de_thread() the leader need not be first.
      let n = vm.mem.pointer(threadHead);
      for (let count = 0; n !== threadHead; count++) {
        if (n === 0n || count >= MAX_TASKS) throw new VaatError(`thread list of pid ${r.tgids.get(leader)} is corrupt`, vm.file);
        const t = n - threadNodeOff;
        if (t === leader) { n = tnNext; continue; }
        visit(t);
        const tb = r.readShared(t);
        const thread = r.decode(t, tb, false);
        n = r.ptr(tb, L.threadNode);
        yield thread;
      }
    }
  }
  if (opts.idle === false) return;
  for (const cpu of cpuMask(vm, 'possible')) {
    const idle = cpuIdle(vm, cpu);
    if (idle === 0n) continue;
    yield r.decode(idle, idle === initTask ? initBuf : r.readShared(idle), true);
  }
}

/** every task by task_struct address (the walker's list, read once per dump) */
export function tasksByAddress(vm: KernelContext): Map<bigint, Task> {
  return vm.cache('tasks.byAddress', () => new Map(listTasks(vm).map((t) => [t.address, t])));
}

/** the dump's task list once a walk has completed (listTasks or a whole eachTask) */
const taskList = (vm: KernelContext): { list: Task[] | null } => vm.cache('tasks.list', () => ({ list: null as Task[] | null }));

/** every task (forEachTask, idle tasks included), read once per dump */
export function listTasks(vm: KernelContext): Task[] {
  const h = taskList(vm);
  return (h.list ??= [...forEachTask(vm)]);
}

/**
 * Every task in listTasks() order, for a caller that reads more of each task as it goes: walked
 * now, each task handed over right after it is decoded (its task_struct pages are still in the
 * page cache for the caller's own reads), and kept as listTasks() once the walk completes. When
 * listTasks() was already read, its list.
 */
export function* eachTask(vm: KernelContext): Generator<Task> {
  const h = taskList(vm);
  if (h.list) { yield* h.list; return; }
  const all: Task[] = [];
  for (const t of forEachTask(vm)) { all.push(t); yield t; }
  h.list ??= all;
}

/** the task_struct at `address`, decoded (one read) */
export function taskAt(vm: KernelContext, address: bigint): Task {
  const r = new TaskReader(vm);
  r.tgids.set(vm.address('init_task'), 0);
  const t = r.decode(address, r.read(address), false);
  t.isIdle = t.pid === 0;
  return t;
}

/** find_task(pid): the thread with this pid (pid 0: CPU 0's idle task), undefined when none */
export function findTask(vm: KernelContext, pid: number): Task | undefined {
  return listTasks(vm).find((t) => t.pid === pid);
}

/** task_state_to_char() for the task at `address` */
export function taskState(vm: KernelContext, address: bigint): TaskStateChar {
  return taskAt(vm, address).state;
}

/** task_cpu() for the task at `address` */
export function taskCpu(vm: KernelContext, address: bigint): number {
  return taskAt(vm, address).cpu;
}
