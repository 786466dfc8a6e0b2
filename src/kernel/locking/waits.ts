/**
 * What a sleeping task waits on, found without DWARF, and the wait-for graph.
 *
 * A task blocked in mutex_lock()/down_read()/down() keeps its waiter struct (mutex_waiter,
 * rwsem_waiter, semaphore_waiter: `list` linked into the lock's wait_list, `task` = itself) in a
 * stack frame. So: scan the live part of the task's kernel stack for words equal to its own
 * task_struct address; take each as `waiter->task`; accept the waiter when its `list` is a
 * consistent ring in which every node but one is a waiter whose task's stack holds it — the one
 * left is the lock's wait_list head. The head minus wait_list's offset is the lock; its kind is
 * the head's symbol type when the lock is a global, else the blocking function on the stack, else
 * the lock fields that must hold while anyone waits (mutex: MUTEX_FLAG_WAITERS; rwsem:
 * RWSEM_FLAG_WAITERS; semaphore: count 0). rt_mutexes are found from task->pi_blocked_on.
 * Tasks waiting on a completion (an swait_queue on the stack in a completion's wait list) or a
 * wait queue are reported as such; nothing is reported as a lock without a verified ring.
 */
import type { KernelContext } from '../../context.js';
import { VaatError } from '../../dump/errors.js';
import { readVirtInto, wordsView } from '../../dump/dump.js';
import { imageSymbolsContaining } from '../../symbols/combine.js';
import { archOf, isImageReadOnly, isKernelAddress, type ThreadSize } from '../../arch/index.js';
import { taskStack, type StackFrame } from '../stack/index.js';
import { eachTask, findTask, TASK_FREEZABLE, tasksByAddress, type Task } from '../tasks.js';
import {
  LOCK_TYPE, globalTypeName, lockInfo, lockKindOfType, lockSymbol, lockTask, taskWaitTime,
  type LockKind, type LockTask, type TaskWaitTime,
} from './index.js';

const MAX_RING = 65_536;

// ---------------------------------------------------------------------------------------------
// THREAD_SIZE

export type { ThreadSize } from '../../arch/index.js';

/** THREAD_SIZE of the dump's kernel (src/arch: init stack symbols, thread_union, or the architecture's default) */
export function threadSize(vm: KernelContext): ThreadSize {
  return archOf(vm).threadSize(vm);
}

// ---------------------------------------------------------------------------------------------
// Results

export interface LockRefInfo {
  address: bigint;
  kind: LockKind;
  type: string;
  /** `cgroup_mutex`, `foo+0x40`, null for a lock no symbol covers */
  symbol: string | null;
  /** why this kind: symbol type, blocking function, or lock contents */
  kindSource: string;
}

export interface LockWait {
  kind: 'lock';
  lock: LockRefInfo;
  /** the waiter struct (on the task's stack; rt_mutex_waiter via pi_blocked_on) */
  waiter: bigint;
  via: 'stack-scan' | 'blocked_on' | 'pi_blocked_on';
  /** 0-based place in the lock's wait_list, and the list's length */
  position: number;
  waitListLength: number;
  owner: LockTask | null;
  /** "holds it", "last reader (hint)", "semaphores record no owner" ... */
  ownerNote: string;
  /** the raw owner word and its flag bits (mutex, rwsem, rt_mutex) */
  ownerRaw: bigint | null;
  ownerFlags: string[];
  /** rwsem: waiting to read or write */
  waitType?: 'read' | 'write' | null;
}

export interface OtherWait {
  kind: 'completion' | 'swait' | 'waitqueue';
  /** the completion / wait queue head */
  address: bigint | null;
  symbol: string | null;
  waiter: bigint;
  /** the task whose kernel stack holds the completion / head (DECLARE_COMPLETION_ONSTACK), if any */
  onStackOf: LockTask | null;
  note: string;
}

export interface NoWait { kind: 'none'; note: string }

export type BlockedOn = LockWait | OtherWait | NoWait;

export interface TaskWait {
  task: LockTask;
  /** base of the task's kernel stack (task->stack) */
  stack: bigint;
  blockedOn: BlockedOn;
  /** the first functions below the scheduler on its stack: where it blocked */
  blockedIn: string[];
  /** words of the whole stack equal to the task's address (candidates for waiter->task) */
  stackWordsEqualToTask: number;
  waited: TaskWaitTime;
}

// ---------------------------------------------------------------------------------------------
// Stack scan

const SCHEDULER = /^(__schedule|schedule|schedule_timeout|schedule_preempt_disabled|schedule_hrtimeout(_range)?(_clock)?|io_schedule(_timeout)?|preempt_schedule\w*|context_switch|__switch_to(_asm)?|freezable_schedule\w*)$/;
const BLOCKERS: readonly { kind: LockKind | 'completion'; re: RegExp }[] = [
  { kind: 'mutex', re: /^(__)?(ww_)?mutex_lock/ },
  { kind: 'rwsem', re: /^rwsem_down_(read|write)_slowpath$|^(__)?down_(read|write)/ },
  { kind: 'semaphore', re: /^__down(_common|_interruptible|_killable|_timeout)?$|^down(_interruptible|_killable|_timeout)?$/ },
  { kind: 'rt_mutex', re: /^(__)?rt_mutex_(slow)?lock|^rt_mutex_lock/ },
  { kind: 'completion', re: /wait_for_completion|wait_for_common/ },
];

const bare = (fn: string): string => fn.replace(/\..*$/, '');

function blockedInOf(frames: readonly StackFrame[]): string[] {
  const names = frames.filter((f) => f.function && !f.user).map((f) => f.function!);
  const first = names.findIndex((n) => !SCHEDULER.test(bare(n)));
  return first < 0 ? [] : names.slice(first, first + 3);
}

function blockerKinds(blockedIn: readonly string[]): Set<LockKind | 'completion'> {
  const s = new Set<LockKind | 'completion'>();
  for (const fn of blockedIn) for (const b of BLOCKERS) if (b.re.test(bare(fn))) s.add(b.kind);
  return s;
}

/**
 * A list_head ring walked once (from any of its nodes) and classified for one waiter layout: the
 * nodes in list order, which are waiters (their `task` word names a task whose stack holds the
 * node), and where each node sits. Every task waiting on the same lock starts its scan inside the
 * same ring: keeping it makes a wait queue of n tasks cost n reads, not n².
 */
interface Cycle {
  nodes: bigint[];
  /** positions of the nodes that are not waiters (the head, when the ring is a lock's wait_list) */
  nonWaiters: number[];
  pos: Map<bigint, number>;
}

/** A ring seen from one of its nodes: `at` is that node's position in the cycle. */
interface RingView { cycle: Cycle; at: number }

/** the word at an address inside a buffer the caller holds, else undefined */
type Peek = (addr: bigint) => bigint | undefined;

/** peek into `buf`, which holds the memory from `base` */
function peekInto(buf: Buffer, base: bigint): Peek {
  return (addr) => {
    if (addr < base) return undefined;
    const off = Number(addr - base);
    return off + 8 <= buf.length ? buf.readBigUInt64LE(off) : undefined;
  };
}

/** Per-dump indexes for the scan: stack bases, rings already walked, who owns which stack. */
class Scanner {
  #tasks: Map<bigint, Task> | null = null;
  readonly size: bigint;
  readonly stackOff: bigint;
  readonly spOff: bigint | null;
  readonly stackBases = new Map<bigint, bigint>();
  readonly results = new Map<bigint, TaskWait>();
  /** per waiter layout: node → the ring through it (null: broken from there) */
  readonly #rings: { listOff: bigint; taskOff: bigint; byNode: Map<bigint, Cycle | null> }[] = [];
  /** 16 bytes for a list_head read by ring(): a sleeping task's stack holds its own address ~7 times, each a ring to try */
  readonly #link = Buffer.alloc(16);
  /** THREAD_SIZE bytes for the stack mayWaitOnLock() scans, reused for every task */
  #stackBuf: Buffer | null = null;
  #byStack: { base: bigint; task: Task }[] | null = null;
  #blockers: Map<number, { lo: number; end: number; kind: LockKind }[]> | null = null;
  #lockKinds: ListLockKind[] | null = null;

  constructor(readonly vm: KernelContext) {
    this.size = BigInt(threadSize(vm).bytes);
    const t = vm.types;
    this.stackOff = BigInt(t.offsetof('struct task_struct', 'stack'));
    const sp = t.tryMemberPath('struct task_struct', 'thread.sp');
    this.spOff = sp ? BigInt(sp.offset) : null;
  }

  /** every task by address (made on first use: waitForGraph first streams the walk, see liveFrom) */
  get tasks(): Map<bigint, Task> { return (this.#tasks ??= tasksByAddress(this.vm)); }

  readonly #liveFrom = new Map<bigint, number>();
  /**
   * Where the live part of a task's stack starts, as an offset from its base: its saved stack
   * pointer (dead frames below it hold stale waiters); 0 when running or unknown. thread.sp lies
   * outside the span the task walk reads: read while the walk has the task's pages cached
   * (waitForGraph), it costs no second decode of an evicted task_struct page.
   */
  liveFrom(task: Task): number {
    let from = this.#liveFrom.get(task.address);
    if (from === undefined) {
      from = 0;
      if (this.spOff !== null && !task.onCpu) {
        try {
          const sp = this.vm.mem.pointer(task.address + this.spOff);
          if (sp >= task.stack && sp < task.stack + this.size) from = Number(sp - task.stack) & ~7;
        } catch { /* whole stack */ }
      }
      this.#liveFrom.set(task.address, from);
    }
    return from;
  }

  /** the list-based lock kinds of this kernel with their waiter layouts */
  get lockKinds(): ListLockKind[] { return (this.#lockKinds ??= listLockKinds(this.vm)); }

  #layouts: WaiterLayout[] | null = null;
  /** the distinct waiter layouts of lockKinds (mutex, rwsem and semaphore waiters share one on most kernels): one ring to try per stack word and layout */
  get waiterLayouts(): WaiterLayout[] {
    if (this.#layouts) return this.#layouts;
    const out: WaiterLayout[] = [];
    for (const k of this.lockKinds) {
      const l = out.find((o) => o.listOff === k.listOff && o.taskOff === k.taskOff);
      if (l) l.kinds.push(k); else out.push({ listOff: k.listOff, taskOff: k.taskOff, kinds: [k] });
    }
    return (this.#layouts = out);
  }

  readonly #lockFacts = new Map<LockKind, Map<bigint, LockFacts>>();
  /**
   * What a candidate lock's own memory says, per kind and address, asked once: a thousand
   * threads waiting in one futex hash bucket all lead to the same head, which is tested once.
   */
  lockFacts(kind: LockKind, addr: bigint): LockFacts {
    let m = this.#lockFacts.get(kind);
    if (!m) this.#lockFacts.set(kind, (m = new Map()));
    let f = m.get(addr);
    if (!f) {
      const plausible = plausibleLock(this, kind, addr);
      f = { plausible, symKind: plausible ? headSymbolKind(this.vm, addr) : null };
      m.set(addr, f);
    }
    return f;
  }

  stackBase(task: bigint): bigint {
    let b = this.stackBases.get(task);
    if (b === undefined) b = this.tasks.get(task)?.stack; // read by the task walk
    if (b === undefined) {
      try { b = this.vm.mem.pointer(task + this.stackOff); } catch { b = 0n; }
      this.stackBases.set(task, b);
    }
    return b;
  }

  /** the task whose kernel stack holds `addr`: a binary search over every task's stack, sorted once */
  stackOwner(addr: bigint): LockTask | null {
    if (!this.#byStack) {
      this.#byStack = [...this.tasks.values()].map((task) => ({ base: this.stackBase(task.address), task }))
        .filter((e) => e.base !== 0n).sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
    }
    const s = this.#byStack;
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].base > addr) hi = mid - 1; else lo = mid + 1;
    }
    // hi: the last stack starting at or below addr; stacks do not overlap, but check its end
    return hi >= 0 && addr < s[hi].base + this.size ? lockTask(s[hi].task) : null;
  }

  /**
   * The lock slow-path functions (BLOCKERS) as address ranges, found once in the symbol table and
   * grouped by the upper 32 bits of their addresses, so a stack word is tested with two 32-bit
   * compares and no BigInt.
   */
  blockerRanges(): Map<number, { lo: number; end: number; kind: LockKind }[]> {
    if (this.#blockers) return this.#blockers;
    const m = new Map<number, { lo: number; end: number; kind: LockKind }[]>();
    const kinds = BLOCKERS.filter((b): b is { kind: LockKind; re: RegExp } => b.kind !== 'completion');
    // every slow path's name says its lock; the lock primitives are the kernel image's own
    try {
      for (const sym of imageSymbolsContaining(this.vm.symbols, ['mutex', 'down', 'rwsem'])) {
        if (sym.type !== 'T' && sym.type !== 't') continue;
        const b = kinds.find((k) => k.re.test(bare(sym.name)));
        if (!b) continue;
        const size = sym.size ?? this.vm.symbols.symbolize(sym.address)?.size ?? 0;
        const hi = Number(sym.address >> 32n);
        const lo = Number(sym.address & 0xffffffffn);
        if (size <= 0 || lo + size > 2 ** 32) continue; // unknown extent, or across a 4 GiB line: never in a kernel
        const list = m.get(hi) ?? [];
        list.push({ lo, end: lo + size, kind: b.kind });
        m.set(hi, list);
      }
    } catch { /* no symbols: no hints */ }
    return (this.#blockers = m);
  }

  /** `addr` lies on `task`'s kernel stack */
  onStack(task: bigint, addr: bigint): boolean {
    const b = this.stackBase(task);
    return b !== 0n && addr >= b && addr < b + this.size;
  }

  /** is list node `n` a waiter: the task its `task` word names has `n` on its stack */
  #isWaiter(n: bigint, listOff: bigint, taskOff: bigint): boolean {
    let task = 0n;
    try { task = this.vm.mem.pointer(n - listOff + taskOff); } catch { return false; }
    return this.tasks.has(task) && this.onStack(task, n);
  }

  /**
   * The ring through list_head `start`, each node classified as waiter or not by reading
   * `taskOff − listOff` past it as a task pointer. Null when the ring is broken (a next whose
   * prev is not the node before it, an unreadable or non-kernel pointer, more than MAX_RING nodes).
   */
  ring(start: bigint, listOff: bigint, taskOff: bigint, peek?: Peek): RingView | null {
    // start is a word on a stack the caller holds: its links come from there, and a start whose
    // prev is not even a kernel address (a saved register, a return address's neighbour) fails
    // here without a read or a lookup (most of the ~7 copies of its address a sleeping task's stack holds)
    const next = peek?.(start);
    const prevOfStart = peek?.(start + 8n);
    if (prevOfStart !== undefined && !isLink(this.vm, prevOfStart)) return null;
    if (next !== undefined && !isLink(this.vm, next)) return null;
    const rings = this.#ringsOf(listOff, taskOff);
    const known = rings.get(start);
    if (known !== undefined) return known ? { cycle: known, at: known.pos.get(start)! } : null;
    const d = this.vm.mem;
    const link = this.#link;
    const nodes: bigint[] = [start];
    let prev = start;
    let n: bigint;
    let broken = false;
    if (next !== undefined) n = next;
    else try { n = d.pointer(start); } catch { n = 0n; broken = true; }
    for (let i = 0; !broken; i++) {
      if (!isLink(this.vm, n) || i > MAX_RING) { broken = true; break; }
      try { readVirtInto(d, n, link); } catch { broken = true; break; }
      if (link.readBigUInt64LE(8) !== prev) { broken = true; break; }
      if (n === start) break;
      nodes.push(n);
      prev = n;
      n = link.readBigUInt64LE(0);
    }
    if (broken) { rings.set(start, null); return null; }
    const cycle: Cycle = { nodes, nonWaiters: [], pos: new Map() };
    nodes.forEach((node, i) => {
      cycle.pos.set(node, i);
      if (!this.#isWaiter(node, listOff, taskOff)) cycle.nonWaiters.push(i);
      rings.set(node, cycle);
    });
    return { cycle, at: 0 };
  }

  /** the rings already walked for one waiter layout */
  #ringsOf(listOff: bigint, taskOff: bigint): Map<bigint, Cycle | null> {
    for (const r of this.#rings) if (r.listOff === listOff && r.taskOff === taskOff) return r.byNode;
    const byNode = new Map<bigint, Cycle | null>();
    this.#rings.push({ listOff, taskOff, byNode });
    return byNode;
  }

  /** the `len` bytes of a stack at addr in a buffer reused by every call (valid until the next) */
  stackBytes(addr: bigint, len: number): Buffer {
    const b = (this.#stackBuf ??= Buffer.allocUnsafe(Number(this.size))).subarray(0, len);
    readVirtInto(this.vm.mem, addr, b);
    return b;
  }
}

/**
 * could `a` be a next or prev of a wait list, which the kernel links and unlinks as tasks come
 * and go: a kernel address outside the image's code and read-only data. The words beside a copy
 * of `current` on a stack are often a return address or a `const` object's address (the
 * scheduler's `prev->sched_class`, ~1 per sleeping task): rejected here without a read.
 */
function isLink(vm: KernelContext, a: bigint): boolean {
  return isKernelAddress(vm, a) && !isImageReadOnly(vm, a);
}

/** the ring's nodes other than the starting one that are not waiters: at most `max` of them */
function headsOf(r: RingView, max = 2): bigint[] {
  const out: bigint[] = [];
  for (const i of r.cycle.nonWaiters) {
    if (i === r.at) continue;
    out.push(r.cycle.nodes[i]);
    if (out.length >= max) break;
  }
  return out;
}

function scanner(vm: KernelContext): Scanner {
  return vm.cache('waits.scanner', () => new Scanner(vm));
}

interface LockCandidate { kind: LockKind; address: bigint; score: number; why: string }

/** the lock fields that must hold while its wait_list is non-empty */
function plausibleLock(s: Scanner, kind: LockKind, addr: bigint): boolean {
  const vm = s.vm;
  const t = vm.types;
  const type = LOCK_TYPE[kind];
  const taskOrZero = (o: bigint): boolean => (o & ~7n) === 0n || s.tasks.has(o & ~7n);
  try {
    if (kind === 'mutex') {
      if (t.hasMember(type, 'count')) return vm.mem.s32(addr + BigInt(t.offsetof(type, 'count'))) < 0; // pre-4.10
      const o = vm.mem.u64(addr + BigInt(t.offsetof(type, 'owner')));
      return (o & 1n) === 1n && taskOrZero(o);
    }
    if (kind === 'rwsem') {
      const c = vm.mem.u64(addr + BigInt(t.offsetof(type, 'count')));
      const o = vm.mem.u64(addr + BigInt(t.offsetof(type, 'owner')));
      // v5.3+: RWSEM_FLAG_WAITERS; the bias encoding has a negative count while anyone waits
      const waiters = t.resolved(t.memberPath(type, 'owner').type).kind === 'pointer' ? BigInt.asIntN(64, c) < 0n : (c & 2n) === 2n;
      return waiters && taskOrZero(o);
    }
    if (kind === 'semaphore') return vm.mem.u32(addr + BigInt(t.offsetof(type, 'count'))) === 0;
  } catch {
    return false;
  }
  return false;
}

/** list-based lock kinds this kernel has (PREEMPT_RT mutex/rwsem are not list-based) */
interface ListLockKind { kind: LockKind; waiterType: string; waitListOff: bigint; listOff: bigint; taskOff: bigint }
/** the lock kinds whose waiter struct has `list` and `task` at these offsets */
interface WaiterLayout { listOff: bigint; taskOff: bigint; kinds: ListLockKind[] }
/** a candidate lock's contents agree with waiters (plausibleLock), and the kind its global symbol's type says */
interface LockFacts { plausible: boolean; symKind: LockKind | null }

function listLockKinds(vm: KernelContext): ListLockKind[] {
  const t = vm.types;
  const out: ListLockKind[] = [];
  const add = (kind: LockKind, waiterType: string) => {
    const wl = t.tryMemberPath(LOCK_TYPE[kind], 'wait_list');
    if (wl && t.findType(waiterType) !== null) {
      out.push({ kind, waiterType, waitListOff: BigInt(wl.offset), listOff: BigInt(t.offsetof(waiterType, 'list')), taskOff: BigInt(t.offsetof(waiterType, 'task')) });
    }
  };
  add('mutex', 'struct mutex_waiter');
  add('rwsem', 'struct rwsem_waiter');
  add('semaphore', 'struct semaphore_waiter');
  return out;
}

/** the head's global: its symbol and, when it is the lock itself, its type's kind */
function headSymbolKind(vm: KernelContext, lockAddr: bigint): LockKind | null {
  const name = lockSymbol(vm, lockAddr);
  if (!name || name.includes('+')) return null;
  const tn = globalTypeName(vm, name);
  return tn ? lockKindOfType(tn) : null;
}

function lockWaitFrom(vm: KernelContext, cand: LockCandidate, waiter: bigint, via: LockWait['via'], position: number, length: number): LockWait {
  const info = lockInfo(vm, cand.address, cand.kind, cand.why);
  const ownerRaw = info.mutex?.raw ?? info.rwsem?.raw ?? null;
  const ownerFlags = info.mutex?.flagNames ?? (info.rwsem ? [...info.rwsem.ownerFlags, ...info.rwsem.countFlags] : []);
  const me = info.waiters.find((w) => w.waiter === waiter);
  return {
    kind: 'lock',
    lock: { address: cand.address, kind: cand.kind, type: info.type, symbol: info.symbol, kindSource: cand.why },
    waiter, via, position, waitListLength: length,
    owner: info.owner, ownerNote: info.ownerNote, ownerRaw, ownerFlags,
    ...(cand.kind === 'rwsem' ? { waitType: me?.waitType ?? null } : {}),
  };
}

interface FoundWaiter { cand: LockCandidate; waiter: bigint; position: number; length: number }

/** lock waiters on the stack, described: the lock, its owner and the waiter's place in its queue */
function scanLockWaiters(s: Scanner, hits: readonly bigint[], hints: Set<LockKind | 'completion'>, unwound: boolean): LockWait | null {
  const f = findLockWaiter(s, hits, hints, unwound);
  return f && lockWaitFrom(s.vm, f.cand, f.waiter, 'stack-scan', f.position, f.length);
}

/** the first lock waiter on the stack: each candidate word, its ring, its head's lock */
function findLockWaiter(s: Scanner, hits: readonly bigint[], hints: Set<LockKind | 'completion'>, unwound: boolean, peek?: Peek): FoundWaiter | null {
  for (const hit of hits) {
    for (const { listOff, taskOff, kinds } of s.waiterLayouts) {
      const waiter = hit - taskOff;
      const ring = s.ring(waiter + listOff, listOff, taskOff, peek);
      if (!ring) continue;
      const heads = headsOf(ring);
      if (heads.length !== 1) continue;
      const head = heads[0];
      // every kind whose waiter has this list/task layout could own the head: decide among them
      const cands: LockCandidate[] = [];
      for (const k2 of kinds) {
        const addr = head - k2.waitListOff;
        const { plausible, symKind } = s.lockFacts(k2.kind, addr);
        if (!plausible) continue;
        if (symKind !== null && symKind !== k2.kind) continue;
        // Contents alone do not tell a semaphore from a wait_queue_head (same layout), and a
        // stray copy of `current` beside a wait_queue_entry can pass the ring test: ask for the
        // lock's type or its slow-path function on the stack, unless the stack could not be unwound.
        if (symKind === null && !hints.has(k2.kind) && unwound) continue;
        const score = (symKind === k2.kind ? 4 : 0) + (hints.has(k2.kind) ? 2 : 0);
        const why = symKind === k2.kind ? 'type of the global symbol' : hints.has(k2.kind) ? 'blocking function on the stack' : 'lock contents (the stack could not be unwound to confirm)';
        cands.push({ kind: k2.kind, address: addr, score, why });
      }
      if (cands.length === 0) continue;
      cands.sort((a, b) => b.score - a.score);
      // the list order from the head: the waiter's position in the queue (the head is not counted)
      const len = ring.cycle.nodes.length;
      const fromHead = (ring.at - ring.cycle.pos.get(head)! + len) % len;
      return { cand: cands[0], waiter, position: fromHead - 1, length: len - 1 };
    }
  }
  return null;
}

/** swait_queue (completions) and wait_queue_entry waiters on the stack */
function scanOtherWaiters(s: Scanner, hits: readonly bigint[], hints: Set<LockKind | 'completion'>): OtherWait | null {
  const vm = s.vm;
  const t = vm.types;
  const forms: { kind: 'swait' | 'waitqueue'; type: string; taskMember: string; list: string }[] = [
    { kind: 'swait', type: 'struct swait_queue', taskMember: 'task', list: 'task_list' },
    { kind: 'waitqueue', type: 'struct wait_queue_entry', taskMember: 'private', list: 'entry' },
  ];
  for (const hit of hits) {
    for (const f of forms) {
      if (t.findType(f.type) === null) continue;
      const listOff = BigInt(t.offsetof(f.type, f.list));
      const taskOff = BigInt(t.offsetof(f.type, f.taskMember));
      const waiter = hit - taskOff;
      const ring = s.ring(waiter + listOff, listOff, taskOff);
      if (!ring) continue;
      const heads = headsOf(ring);
      if (f.kind === 'swait' && heads.length === 1) {
        const headList = heads[0];
        const cmpOff = t.tryMemberPath('struct completion', 'wait.task_list');
        const completion = cmpOff ? headList - BigInt(cmpOff.offset) : null;
        const isCompletion = completion !== null && (hints.has('completion') || headSymbolIsCompletion(vm, completion));
        if (isCompletion) {
          return { kind: 'completion', address: completion, symbol: lockSymbol(vm, completion), waiter, onStackOf: s.stackOwner(completion), note: 'waits on a completion, not a lock' };
        }
        const head = headList - BigInt(t.offsetof('struct swait_queue_head', 'task_list'));
        return { kind: 'swait', address: head, symbol: lockSymbol(vm, head), waiter, onStackOf: s.stackOwner(head), note: 'waits on a simple wait queue, not a lock' };
      }
      if (f.kind === 'waitqueue' && heads.length >= 1) {
        // wait_queue_entry.func names why (autoremove_wake_function, woken_wake_function, ...)
        let fn = '';
        try { fn = vm.symbols.symbolize(vm.mem.pointer(waiter + BigInt(t.offsetof(f.type, 'func'))))?.name ?? ''; } catch { /* leave empty */ }
        if (!/wake|func/.test(fn)) continue;
        const head = heads.length === 1 ? heads[0] - BigInt(t.offsetof('struct wait_queue_head', 'head')) : null;
        return {
          kind: 'waitqueue', address: head, symbol: head !== null ? lockSymbol(vm, head) : null, waiter, onStackOf: head !== null ? s.stackOwner(head) : null,
          note: `waits on a wait queue (${fn}), not a lock${head === null ? '; head not identified' : ''}`,
        };
      }
    }
  }
  return null;
}

function headSymbolIsCompletion(vm: KernelContext, addr: bigint): boolean {
  const name = lockSymbol(vm, addr);
  return !!name && !name.includes('+') && globalTypeName(vm, name) === 'struct completion';
}

/** rt_mutex waits: task->pi_blocked_on (CONFIG_RT_MUTEXES) names the waiter and its lock */
function piBlockedOn(s: Scanner, task: bigint): LockWait | null {
  const vm = s.vm;
  const t = vm.types;
  const m = t.tryMemberPath('struct task_struct', 'pi_blocked_on');
  if (!m) return null;
  const waiter = vm.mem.pointer(task + BigInt(m.offset));
  if (waiter === 0n) return null;
  const lock = vm.mem.pointer(waiter + BigInt(t.offsetof('struct rt_mutex_waiter', 'lock')));
  // an rt_mutex_base is at offset 0 of struct rt_mutex (and of PREEMPT_RT's mutex and spinlock)
  const cand: LockCandidate = { kind: 'rt_mutex', address: lock, score: 0, why: 'task->pi_blocked_on' };
  const info = lockInfo(vm, lock, 'rt_mutex', cand.why, t.findType('struct rt_mutex') !== null ? 'struct rt_mutex' : 'struct rt_mutex_base');
  const pos = info.waiters.findIndex((w) => w.waiter === waiter);
  return lockWaitFrom(vm, cand, waiter, 'pi_blocked_on', pos, info.waiters.length);
}

/**
 * task->blocked_on: CONFIG_DEBUG_MUTEXES kernels point it at the mutex_waiter (its `task` word
 * then starts the scan); v6.15's proxy-execution groundwork made it the `struct mutex *` itself.
 */
function debugBlockedOn(s: Scanner, task: bigint): { waiter?: bigint; wait?: LockWait } | null {
  const vm = s.vm;
  const t = vm.types;
  const m = t.tryMemberPath('struct task_struct', 'blocked_on');
  if (!m) return null;
  const p = vm.mem.pointer(task + BigInt(m.offset));
  const target = t.resolved(m.type);
  if (p === 0n || target.kind !== 'pointer') return null;
  const name = t.typeName(target.target);
  if (name === 'struct mutex_waiter') return { waiter: p + BigInt(t.offsetof('struct mutex_waiter', 'task')) };
  if (name !== 'struct mutex') return null;
  const info = lockInfo(vm, p, 'mutex', 'task->blocked_on');
  const pos = info.waiters.findIndex((w) => w.taskAddress === task);
  if (pos < 0) return null;
  return { wait: lockWaitFrom(vm, { kind: 'mutex', address: p, score: 0, why: 'task->blocked_on' }, info.waiters[pos].waiter, 'blocked_on', pos, info.waiters.length) };
}

/**
 * What `task` waits on: a lock (with its owner), a completion or wait queue, or nothing found —
 * from its kernel stack, task->blocked_on (CONFIG_DEBUG_MUTEXES) and task->pi_blocked_on.
 */
export function taskBlockedOn(vm: KernelContext, taskOrPid: Task | bigint | number): TaskWait {
  const s = scanner(vm);
  const task = typeof taskOrPid === 'number' ? findTask(vm, taskOrPid)
    : typeof taskOrPid === 'bigint' ? s.tasks.get(taskOrPid) : taskOrPid;
  if (!task) throw new VaatError(`no task ${typeof taskOrPid === 'object' ? taskOrPid.pid : String(taskOrPid)}`, vm.file);
  const done = s.results.get(task.address);
  if (done) return done;
  const lt = lockTask(task);
  const stack = s.stackBase(task.address);
  let frames: StackFrame[] = [];
  try { frames = taskStack(vm, task.address).frames; } catch { /* no unwind: scan alone */ }
  const blockedIn = blockedInOf(frames);
  const hints = blockerKinds(blockedIn);
  const base = { task: lt, stack, blockedIn, waited: taskWaitTime(vm, lt) };
  let buf: Buffer | null = null;
  try { buf = stack ? vm.mem.readVirt(stack, Number(s.size)) : null; } catch { buf = null; }
  if (!buf) {
    const r: TaskWait = { ...base, stackWordsEqualToTask: 0, blockedOn: { kind: 'none', note: 'kernel stack unreadable (not in the dump)' } };
    s.results.set(task.address, r);
    return r;
  }
  // every word equal to the task counts; only those of the live part are waiter candidates
  const from = s.liveFrom(task);
  const words = wordsEqualTo(buf, 0, task.address);
  const count = words.length;
  const hits = words.filter((off) => off >= from).map((off) => stack + BigInt(off));
  const debug = debugBlockedOn(s, task.address);
  if (debug?.waiter !== undefined) hits.unshift(debug.waiter);
  const blockedOn: BlockedOn = piBlockedOn(s, task.address)
    ?? debug?.wait
    ?? scanLockWaiters(s, hits, hints, blockedIn.length > 0)
    ?? scanOtherWaiters(s, hits, hints)
    ?? { kind: 'none', note: noneNote(task, blockedIn, hints) };
  const r: TaskWait = { ...base, stackWordsEqualToTask: count, blockedOn };
  s.results.set(task.address, r);
  return r;
}

/** the buffer as 32-bit halves of its (little-endian) words, or null (wordsView) */
const halvesOf = (buf: Buffer): Uint32Array | null => wordsView(Uint32Array, buf, 0, buf.length >> 2);

/** byte offsets (from `from`, 8-aligned) of the words of `buf` equal to `v`, compared as two 32-bit halves (no BigInt per word) */
function wordsEqualTo(buf: Buffer, from: number, v: bigint): number[] {
  const lo = Number(v & 0xffffffffn);
  const hi = Number((v >> 32n) & 0xffffffffn);
  const out: number[] = [];
  const w = halvesOf(buf);
  if (w) {
    for (let i = from >> 2; i + 1 < w.length; i += 2) if (w[i] === lo && w[i + 1] === hi) out.push(i << 2);
    return out;
  }
  for (let off = from; off + 8 <= buf.length; off += 8) {
    if (buf.readUInt32LE(off) === lo && buf.readUInt32LE(off + 4) === hi) out.push(off);
  }
  return out;
}

/** the lock kinds whose slow paths have a return address among the words of `buf` (Scanner.blockerRanges) */
function slowPathKinds(buf: Buffer, ranges: Map<number, { lo: number; end: number; kind: LockKind }[]>): Set<LockKind | 'completion'> {
  const kinds = new Set<LockKind | 'completion'>();
  const test = (hi: number, lo: number): void => {
    const rs = ranges.get(hi);
    if (rs) for (const r of rs) if (lo >= r.lo && lo < r.end) kinds.add(r.kind);
  };
  const w = halvesOf(buf);
  if (!w) {
    for (let off = 0; off + 8 <= buf.length; off += 8) test(buf.readUInt32LE(off + 4), buf.readUInt32LE(off));
    return kinds;
  }
  // the slow paths share one or two upper halves (the image's): most words fail one compare
  const [k0, k1] = [...ranges.keys()];
  const few = ranges.size <= 2;
  for (let i = 0; i + 1 < w.length; i += 2) {
    const hi = w[i + 1];
    if (few && hi !== k0 && hi !== k1) continue;
    test(hi, w[i]);
  }
  return kinds;
}

/**
 * A cheap test for the many sleeping (S, I) tasks `--blocked` passes over: could taskBlockedOn()
 * find a lock wait? No unwinding and no wait-list walk: only the live part of the stack is read,
 * and the lock slow paths whose return addresses lie in it stand in for the unwound frames
 * (a superset of the frames the full check looks at). A candidate lock found by its contents
 * alone, with no slow path on the stack, is not a wait here — as in the full check when the
 * stack unwinds.
 */
function mayWaitOnLock(s: Scanner, task: Task): boolean {
  const vm = s.vm;
  try {
    if (task.piBlockedOn || task.blockedOn) return true; // read by the task walk (nonzero: blocked)
    if (freezableSleep(task)) return false;
    const stack = s.stackBase(task.address);
    if (stack === 0n) return false;
    const from = s.liveFrom(task);
    const buf = s.stackBytes(stack + BigInt(from), Number(s.size) - from);
    const hits = wordsEqualTo(buf, 0, task.address).map((off) => stack + BigInt(from + off));
    if (hits.length === 0) return false;
    // the slow paths whose return addresses are on the live stack stand in for the unwound frames
    const hints = slowPathKinds(buf, s.blockerRanges());
    return findLockWaiter(s, hits, hints, true, peekInto(buf, stack + BigInt(from))) !== null;
  } catch {
    return true; // let the full check say what is wrong
  }
}

/**
 * A sleep that is not a D state and may be frozen (TASK_FREEZABLE, v6.1+): a futex wait,
 * nanosleep, sigtimedwait. The lock slow paths set their own state (mutex, rwsem and semaphore:
 * TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE or TASK_KILLABLE, never freezable), so such a task
 * waits on no list-based lock and its stack need not be read: most sleeping threads of a big
 * machine (thread pools on futexes) are ruled out by their state word alone.
 */
function freezableSleep(task: Task): boolean {
  return task.state !== 'D' && (task.stateBits & TASK_FREEZABLE) !== 0;
}

function noneNote(task: Task, blockedIn: readonly string[], hints: Set<LockKind | 'completion'>): string {
  const where = blockedIn.length ? ` (blocked in ${blockedIn[0]})` : '';
  if (task.state === 'R' || task.onCpu) return 'running or runnable: not waiting';
  if (hints.has('completion')) return `waits on a completion, not a lock${where}`;
  const lockHint = [...hints].find((h) => h !== 'completion');
  if (lockHint) return `in a ${lockHint} slow path${where} but no waiter linked into a lock's wait_list was found`;
  return `no lock waiter on its stack: not blocked on a mutex, rwsem, semaphore or rt_mutex${where}`;
}

// ---------------------------------------------------------------------------------------------
// Wait-for graph

export interface ChainStep { task: LockTask; wait: BlockedOn }

export interface WaitChain {
  /** task → its wait → the owner → its wait ... */
  steps: ChainStep[];
  /** the chain came back to a task already in it: a deadlock */
  cycle: boolean;
  /** with a cycle: the index in steps where the cycle starts (tasks before it wait into it) */
  cycleStart?: number;
  /** why the chain stops: "owner vaat_holder(307) is not waiting on a lock", "no owner"... */
  end: string;
}

export interface WaitGraphOptions {
  /** task states to examine (default 'D'); S tasks are listed only when a lock wait is found */
  states?: string;
}

export interface WaitGraph {
  threadSize: ThreadSize;
  /** every examined task in the given states with what it waits on (S/I: only lock waits) */
  tasks: TaskWait[];
  /** one chain per task that waits on a lock */
  chains: WaitChain[];
  /** distinct deadlock cycles */
  cycles: WaitChain[];
}

const taskLabel = (t: LockTask): string => `${t.comm}(${t.pid})`;

/** follow task → lock → owner → the owner's lock ... until a non-waiting owner or a repeat */
export function waitChain(vm: KernelContext, start: TaskWait): WaitChain {
  return followChain(start, (owner) => {
    const t = tasksByAddress(vm).get(owner);
    return t ? taskBlockedOn(vm, t) : null;
  });
}

/** the chain walk itself, given how to find an owner's wait (null: not a known task) */
export function followChain(start: TaskWait, waitOf: (owner: bigint) => TaskWait | null): WaitChain {
  const steps: ChainStep[] = [];
  const seen = new Set<bigint>();
  let cur: TaskWait = start;
  for (;;) {
    const addr = cur.task.address;
    if (seen.has(addr)) return { steps, cycle: true, cycleStart: steps.findIndex((x) => x.task.address === addr), end: `back to ${taskLabel(cur.task)}: deadlock` };
    seen.add(addr);
    steps.push({ task: cur.task, wait: cur.blockedOn });
    const w: BlockedOn = cur.blockedOn;
    if (w.kind !== 'lock') return { steps, cycle: false, end: w.note };
    if (!w.owner) return { steps, cycle: false, end: `no owner known (${w.ownerNote})` };
    const next = waitOf(w.owner.address);
    if (!next) return { steps, cycle: false, end: `owner ${hexAddr(w.owner.address)} is not in the task list` };
    if (next.blockedOn.kind !== 'lock') {
      steps.push({ task: next.task, wait: next.blockedOn });
      return { steps, cycle: false, end: `${taskLabel(next.task)} ${next.task.state} is not waiting on a lock` };
    }
    cur = next;
  }
}

const hexAddr = (a: bigint): string => `0x${a.toString(16)}`;

/** every task in `states` with what it waits on, the chains from each lock waiter, and deadlock cycles */
export function waitForGraph(vm: KernelContext, opts: WaitGraphOptions = {}): WaitGraph {
  const states = new Set((opts.states ?? 'D').split(''));
  const tasks: TaskWait[] = [];
  const s = scanner(vm);
  // each examined task's saved stack pointer is read as the walk reads the task (eachTask),
  // but a freezable sleep's, whose stack mayWaitOnLock never reads (liveFrom reads it if asked later)
  for (const t of eachTask(vm)) if (states.has(t.state) && !t.isIdle && !freezableSleep(t)) s.liveFrom(t);
  for (const t of tasksByAddress(vm).values()) {
    if (!states.has(t.state) || t.isIdle) continue;
    // D tasks are always listed; the others only when they wait on a lock: rule most out cheaply
    if (t.state !== 'D' && !s.results.has(t.address) && !mayWaitOnLock(s, t)) continue;
    const w = taskBlockedOn(vm, t);
    if (t.state === 'D' || w.blockedOn.kind === 'lock') tasks.push(w);
  }
  tasks.sort((a, b) => a.task.pid - b.task.pid);
  const chains = tasks.filter((w) => w.blockedOn.kind === 'lock').map((w) => waitChain(vm, w));
  const cycles: WaitChain[] = [];
  const seenCycles = new Set<string>();
  for (const c of chains.filter((x) => x.cycle)) {
    const key = c.steps.slice(c.cycleStart ?? 0).map((s) => s.task.address).sort().join(',');
    if (!seenCycles.has(key)) { seenCycles.add(key); cycles.push(c); }
  }
  return { threadSize: threadSize(vm), tasks, chains, cycles };
}
