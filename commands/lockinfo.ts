/**
 * vaat lockinfo: one lock's owner, flags and waiters (`lockinfo cgroup_mutex`, `lockinfo 0xffff...
 * --type 'struct rw_semaphore'`), what a task waits on (`lockinfo 309`), or every blocked task's
 * wait and the wait-for chains and deadlock cycles (`lockinfo --blocked`).
 */
import { chainJson, type ChainJson } from '../src/analysis/lock-chains.js';
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import type { Vmcore } from '../src/vmcore.js';
import type { Output } from '../src/output/sink.js';
import { hex } from '../src/output/style.js';
import { findTask } from '../src/kernel/tasks.js';
import { taskStack } from '../src/kernel/stack/index.js';
import { lockInfo, resolveLock, taskWaitTime, type LockInfo, type LockKind, type LockTask } from '../src/kernel/locking/index.js';
import { taskBlockedOn, waitChain, waitForGraph, type BlockedOn, type TaskWait, type WaitChain } from '../src/kernel/locking/waits.js';
import { NotFoundError, UsageError } from '../src/errors/index.js';

interface LockinfoOptions { type?: string; blocked?: boolean; states?: string; stack?: boolean }

export interface Waited { ns: number | null; seconds: number | null; source: string }

export interface TaskJson { pid: number; comm: string; state: string; cpu: number; task: bigint; sinceLastRun: Waited }

/** a waiter: its task's fields are null where the task_struct could not be read (never a made-up pid) */
export type WaiterJson = { [K in 'pid' | 'comm' | 'state' | 'cpu']: TaskJson[K] | null } & Pick<TaskJson, 'task' | 'sinceLastRun'> & {
  position: number; waiter: bigint; waitType?: string | null;
};

export interface LockJson {
  address: bigint;
  symbol: string | null;
  kind: LockKind;
  type: string;
  typeSource: string;
  locked: boolean;
  owner: TaskJson | null;
  ownerNote: string;
  /** raw owner word (mutex, rwsem, rt_mutex) */
  ownerRaw: bigint | null;
  /** its low flag bits as a number (mutex: MUTEX_FLAG_*; rt_mutex: HAS_WAITERS) */
  ownerFlags: number | null;
  flags: string[];
  flagMeanings: string[];
  rwsem?: { state: string; readers: number; count: bigint; ownerMeaning: string; ownerFlags: string[]; countFlags: string[]; encoding: string };
  semaphore?: { count: number };
  spinlock?: { val: string; locked: boolean; lockedByte: number; pending: boolean; tail: { cpu: number; idx: number; context: string; current: string | null } | null; pendingBits: number };
  waiters: WaiterJson[];
  ownerBacktrace: string[] | null;
  waitersError?: string;
}

export interface WaitJson {
  pid: number;
  comm: string;
  state: string;
  task: bigint;
  stack: bigint;
  kind: BlockedOn['kind'];
  lockAddress: bigint | null;
  lockSymbol: string | null;
  lockType: string | null;
  lockKind: LockKind | null;
  kindSource: string | null;
  ownerPid: number | null;
  ownerComm: string | null;
  ownerState: string | null;
  ownerRaw: bigint | null;
  ownerFlagNames: string[];
  waiter: bigint | null;
  positionInWaitList: number | null;
  waitListLength: number | null;
  waitType?: string | null;
  /** completion / wait-queue address for non-lock waits */
  waitAddress: bigint | null;
  note: string;
  stackWordsEqualToTask: number;
  blockedIn: string[];
  waited: Waited;
}


export type LockinfoResult =
  | { mode: 'lock'; lock: LockJson }
  | { mode: 'task'; wait: WaitJson; chain: ChainJson | null; lock: LockJson | null }
  | { mode: 'blocked'; threadSize: { bytes: number; source: string }; tasks: WaitJson[]; chains: ChainJson[]; cycles: ChainJson[] };

function waited(vm: Vmcore, t: LockTask): Waited {
  const w = taskWaitTime(vm, t);
  return { ns: w.ns === null ? null : Number(w.ns), seconds: w.ns === null ? null : Number(w.ns) / 1e9, source: w.source };
}

function taskJson(vm: Vmcore, t: LockTask): TaskJson {
  return { pid: t.pid, comm: t.comm, state: t.state, cpu: t.cpu, task: t.address, sinceLastRun: waited(vm, t) };
}

function lockJson(vm: Vmcore, info: LockInfo, withStack: boolean): LockJson {
  const m = info.mutex;
  const s = info.spinlock;
  let ownerBacktrace: string[] | null = null;
  if (withStack && info.owner) {
    try { ownerBacktrace = taskStack(vm, info.owner.address).frames.map((f) => f.text); } catch { ownerBacktrace = null; }
  }
  return {
    address: info.address, symbol: info.symbol, kind: info.kind, type: info.type, typeSource: info.typeSource,
    locked: info.locked, owner: info.owner ? taskJson(vm, info.owner) : null, ownerNote: info.ownerNote,
    ownerRaw: m ? m.raw : info.rwsem ? info.rwsem.raw : null,
    ownerFlags: m ? m.flags : info.rwsem ? Number(info.rwsem.raw & 7n) : null,
    flags: m?.flagNames ?? (info.rwsem ? [...info.rwsem.ownerFlags, ...info.rwsem.countFlags] : []),
    flagMeanings: m?.flagMeanings ?? [],
    ...(info.rwsem ? { rwsem: { state: info.rwsem.state, readers: info.rwsem.readers, count: info.rwsem.count, ownerMeaning: info.rwsem.ownerMeaning, ownerFlags: info.rwsem.ownerFlags, countFlags: info.rwsem.countFlags, encoding: info.rwsem.encoding } } : {}),
    ...(info.semaphore ? { semaphore: { count: info.semaphore.count } } : {}),
    ...(s ? { spinlock: { val: hex(s.val), locked: s.locked, lockedByte: s.lockedByte, pending: s.pending, pendingBits: s.pendingBits, tail: s.tail ? { cpu: s.tail.cpu, idx: s.tail.idx, context: s.tail.context, current: s.tail.current ? `${s.tail.current.comm}(${s.tail.current.pid})` : null } : null } } : {}),
    waiters: info.waiters.map((w, position) => ({
      position, waiter: w.waiter,
      ...(w.task ? taskJson(vm, w.task) : { pid: null, comm: null, state: null, cpu: null, task: w.taskAddress, sinceLastRun: { ns: null, seconds: null, source: 'unreadable task' } }),
      ...('waitType' in w ? { waitType: w.waitType ?? null } : {}),
    })),
    ownerBacktrace,
    ...(info.waitersError ? { waitersError: info.waitersError } : {}),
  };
}

function waitJson(vm: Vmcore, w: TaskWait): WaitJson {
  const b = w.blockedOn;
  const lock = b.kind === 'lock' ? b : null;
  const other = b.kind === 'completion' || b.kind === 'swait' || b.kind === 'waitqueue' ? b : null;
  const note = lock
    ? `waits on ${lock.lock.symbol ?? hex(lock.lock.address)} (${lock.lock.kind})`
    : other ? `${other.note}${other.address !== null ? ` (${other.kind} at ${hex(other.address)}${other.onStackOf ? ` on the stack of ${other.onStackOf.comm}(${other.onStackOf.pid})` : ''})` : ''}`
      : b.kind === 'none' ? b.note : '';
  return {
    pid: w.task.pid, comm: w.task.comm, state: w.task.state, task: w.task.address, stack: w.stack, kind: b.kind,
    lockAddress: lock ? lock.lock.address : null,
    lockSymbol: lock?.lock.symbol ?? null,
    lockType: lock?.lock.type ?? null,
    lockKind: lock?.lock.kind ?? null,
    kindSource: lock?.lock.kindSource ?? null,
    ownerPid: lock?.owner?.pid ?? null,
    ownerComm: lock?.owner?.comm ?? null,
    ownerState: lock?.owner?.state ?? null,
    ownerRaw: lock && lock.ownerRaw !== null ? lock.ownerRaw : null,
    ownerFlagNames: lock?.ownerFlags ?? [],
    waiter: lock ? lock.waiter : other ? other.waiter : null,
    positionInWaitList: lock ? lock.position : null,
    waitListLength: lock ? lock.waitListLength : null,
    ...(lock?.lock.kind === 'rwsem' ? { waitType: lock.waitType ?? null } : {}),
    waitAddress: other && other.address !== null ? other.address : null,
    note,
    stackWordsEqualToTask: w.stackWordsEqualToTask,
    blockedIn: w.blockedIn,
    waited: waited(vm, w.task),
  };
}

function parseTarget(arg: string): { pid: number } | { lock: string } {
  const m = /^(?:pid:|task:)?(\d+)$/.exec(arg);
  return m ? { pid: Number(m[1]) } : { lock: arg };
}

export default defineCommand<LockinfoOptions, LockinfoResult>({
  name: 'lockinfo',
  summary: 'a lock\'s owner, flags and waiters; what a task waits on; --blocked: wait-for chains and deadlocks',
  args: '[symbol|0xaddress|pid] (or: task <pid>)',
  options: [
    { flags: '--type <type>', description: "the lock's type when the symbol's is unknown: 'struct mutex', 'struct rw_semaphore', 'struct semaphore', spinlock_t, raw_spinlock_t, 'struct rt_mutex'" },
    { flags: '--blocked', description: 'every D-state task (and sleeping lock waiters): the lock it waits on, the owner chain, deadlock cycles' },
    { flags: '--states <letters>', description: 'with --blocked: task states to examine (D is always listed; S/I only when waiting on a lock)', default: 'DS' },
    { flags: '--no-stack', description: "do not unwind the owner's backtrace" },
  ],
  run({ vm, args, options }) {
    const withStack = options.stack !== false;
    if (options.blocked) {
      const g = waitForGraph(vm, { states: options.states ?? 'DS' });
      return { mode: 'blocked', threadSize: g.threadSize, tasks: g.tasks.map((w) => waitJson(vm, w)), chains: g.chains.map(chainJson), cycles: g.cycles.map(chainJson) };
    }
    const a = args[0] === 'task' ? args[1] : args[0];
    if (!a) throw new UsageError('lockinfo needs a lock symbol, an address, a pid (or --blocked)');
    const target = args[0] === 'task' ? { pid: Number(a) } : parseTarget(a);
    if ('pid' in target) {
      const t = findTask(vm, target.pid);
      if (!t) throw new NotFoundError(`no task with pid ${target.pid}`);
      const w = taskBlockedOn(vm, t);
      const b = w.blockedOn;
      const lock = b.kind === 'lock' ? lockJson(vm, lockInfo(vm, b.lock.address, b.lock.kind, b.lock.kindSource, b.lock.type), withStack) : null;
      return { mode: 'task', wait: waitJson(vm, w), chain: b.kind === 'lock' ? chainJson(waitChain(vm, w)) : null, lock };
    }
    const r = resolveLock(vm, target.lock, options.type);
    return { mode: 'lock', lock: lockJson(vm, lockInfo(vm, r.address, r.kind, r.typeSource, r.type), withStack) };
  },
  script({ file, args, options }) {
    return lockScript(file, args, options);
  },
  render(r, out) {
    if (r.mode === 'lock') renderLock(r.lock, out);
    else if (r.mode === 'task') {
      renderWait(r.wait, out);
      if (r.chain) out.line(`  chain: ${r.chain.text}`);
      if (r.lock) { out.line(); renderLock(r.lock, out); }
    } else {
      out.line(out.c.dim(`THREAD_SIZE ${r.threadSize.bytes / 1024} KiB (${r.threadSize.source}); times: newest rq->clock − sched_info.last_arrival`));
      if (r.tasks.length === 0) out.line('no D-state tasks and no task waiting on a lock');
      for (const w of r.tasks) renderWait(w, out);
      // one-hop chains are the lines above already; longer ones show who the owners wait for
      const long = r.chains.filter((c) => c.cycle || c.pids.length > 2);
      if (long.length) {
        out.line();
        out.heading('wait-for chains');
        for (const c of long) out.line(`  ${c.cycle ? out.c.red(c.text) : c.text}`);
      }
      out.line();
      out.line(r.cycles.length ? out.c.red.bold(`${r.cycles.length} deadlock cycle(s):`) : 'deadlocks: none found');
      for (const c of r.cycles) out.line(`  ${c.text}`);
    }
  },
});

const secs = (w: Waited): string => (w.seconds === null ? '?' : `${w.seconds.toFixed(2)} s`);

function renderWait(w: WaitJson, out: Output): void {
  const c = out.c;
  const who = `${w.comm}(${w.pid}) ${w.state === 'D' ? c.red(w.state) : w.state}`;
  if (w.kind === 'lock') {
    const owner = w.ownerPid !== null ? `held by ${w.ownerComm}(${w.ownerPid}) ${w.ownerState}` : 'no owner recorded';
    out.line(`${who} → ${c.bold(w.lockSymbol ?? (w.lockAddress === null ? '?' : hex(w.lockAddress)))} (${w.lockKind}) → ${owner}` +
      c.dim(`  [#${(w.positionInWaitList ?? 0) + 1}/${w.waitListLength} in queue, last ran ${secs(w.waited)} ago, in ${w.blockedIn[0] ?? '?'}]`));
  } else {
    out.line(`${who}: ${w.note}` + c.dim(`  [last ran ${secs(w.waited)} ago${w.blockedIn.length ? `, in ${w.blockedIn.join(' ← ')}` : ''}]`));
  }
}

function renderLock(l: LockJson, out: Output): void {
  const c = out.c;
  out.heading(`${l.symbol ?? hex(l.address)} (${l.type}) at ${hex(l.address)}: ${l.locked ? c.red('locked') : c.green('unlocked')}`);
  const kv: [string, string][] = [['kind from', l.typeSource]];
  if (l.owner) kv.push(['owner', `${l.owner.comm}(${l.owner.pid}) ${l.owner.state} on CPU ${l.owner.cpu}, ${hex(l.owner.task)} — ${l.ownerNote}; last ran ${secs(l.owner.sinceLastRun)} before the crash`]);
  else kv.push(['owner', l.ownerNote]);
  if (l.ownerRaw !== null) kv.push(['owner word', `${hex(l.ownerRaw)}${l.flags.length ? ` (${l.flags.join(' | ')})` : ''}`]);
  for (const m of l.flagMeanings) kv.push(['flag', m]);
  if (l.rwsem) kv.push(['rwsem', `${l.rwsem.state}, ${l.rwsem.readers} reader(s), count ${hex(l.rwsem.count)}; owner is ${l.rwsem.ownerMeaning}`]);
  if (l.semaphore) kv.push(['count', `${l.semaphore.count} free`]);
  if (l.spinlock) {
    const s = l.spinlock;
    kv.push(['word', `${s.val}: locked byte ${s.lockedByte}${s.lockedByte === 3 ? ' (_Q_SLOW_VAL: paravirt waiter halted)' : ''}, pending ${s.pending ? 1 : 0}`]);
    kv.push(['queue tail', s.tail ? `CPU ${s.tail.cpu} node ${s.tail.idx} (${s.tail.context} context), running ${s.tail.current ?? '?'}` : 'nobody queued']);
  }
  out.kv(kv);
  if (l.kind !== 'spinlock') {
    out.line();
    out.line(`waiters (${l.waiters.length}, ${l.kind === 'rt_mutex' ? 'priority' : 'queue'} order; times: newest rq->clock − sched_info.last_arrival):`);
    if (l.waitersError) out.line(out.c.yellow(`the wait list breaks off: ${l.waitersError}`));
    out.table(l.waiters.map((w) => [w.position + 1, w.pid, w.comm, w.state, w.cpu, secs(w.sinceLastRun), w.waitType ?? '', hex(w.waiter)]),
      { header: ['#', 'PID', 'COMM', 'ST', 'CPU', 'LAST RAN', l.kind === 'rwsem' ? 'FOR' : '', 'WAITER'], alignRight: [0, 1, 4, 5] });
  }
  if (l.ownerBacktrace) {
    out.line();
    out.line(`owner's backtrace:`);
    l.ownerBacktrace.forEach((f, i) => out.line(`  #${i} ${f}`));
  }
}

/** --script: the same lock read with the public object API */
function lockScript(file: string, args: string[], options: LockinfoOptions): string | null {
  const target = args[0] ?? 'cgroup_mutex';
  if (options.blocked) return scriptPrelude(file) + BLOCKED_SCRIPT;
  // a task's wait: the command object itself (commandScript), which follows every kind of wait
  if (/^(?:pid:|task:)?\d+$/.test(target) || target === 'task') return null;
  const obj = /^0x/i.test(target) ? `vm.objectAt(${target}n, ${JSON.stringify(options.type ?? 'struct mutex')})`
    : options.type ? `vm.object(${JSON.stringify(target)}, ${JSON.stringify(options.type)})` : `vm.object(${JSON.stringify(target)})`;
  const t = options.type ?? '';
  if (/rw_semaphore/.test(t)) return scriptPrelude(file) + waitListBody(obj, 'struct rwsem_waiter', `const count = lock.member('count.counter').bigint();
const owner = BigInt.asUintN(64, lock.member('owner.counter').bigint());
console.log('count', '0x' + BigInt.asUintN(64, count).toString(16), 'writer', (count & 1n) === 1n, 'readers', Number((BigInt.asUintN(64, count) >> 8n) & ((1n << 55n) - 1n)));
console.log('owner', '0x' + (owner & ~7n).toString(16), 'reader-owned', (owner & 1n) === 1n);
`);
  if (/semaphore/.test(t)) return scriptPrelude(file) + waitListBody(obj, 'struct semaphore_waiter', `console.log('count', lock.member('count').value());\n`);
  if (/spinlock|qspinlock/.test(t)) {
    return scriptPrelude(file) + `const lock = ${obj};
const val = lock.member('${t.startsWith('raw') ? 'raw_lock' : 'rlock.raw_lock'}.val.counter').number() >>> 0;
// NR_CPUS < 16K: pending byte 8-15, tail idx 16-17, tail cpu+1 18-31
console.log('locked', val & 0xff, 'pending', (val >>> 8) & 0xff, 'tail cpu', (val >>> 18) - 1, 'idx', (val >>> 16) & 3);
`;
  }
  return scriptPrelude(file) + mutexBody(obj);
}

function mutexBody(obj: string): string {
  return waitListBody(obj, 'struct mutex_waiter', `// owner: task_struct pointer | MUTEX_FLAG_WAITERS 1, HANDOFF 2, PICKUP 4 (v4.10+)
const raw = BigInt.asUintN(64, lock.member('owner.counter').bigint());
const ownerAddr = raw & ~7n;
if (ownerAddr) {
  const owner = vm.objectAt(ownerAddr, 'struct task_struct');
  console.log('owner', owner.member('pid').value(), owner.member('comm').string(), 'raw', '0x' + raw.toString(16), 'flags', Number(raw & 7n));
} else console.log('unlocked');
`);
}

function waitListBody(obj: string, waiterType: string, head: string): string {
  return `const lock = ${obj};
${head}// wait_list: ${waiterType}.list, FIFO
const listOff = BigInt(vm.types.offsetof('${waiterType}', 'list'));
const headAddr = lock.member('wait_list').address;
for (let p = lock.member('wait_list.next').pointer(); p !== headAddr; p = vm.objectAt(p, 'struct list_head').member('next').pointer()) {
  const w = vm.objectAt(p - listOff, '${waiterType}');
  console.log('waiter', w.member('task.pid').value(), w.member('task.comm').string());
}
`;
}

/** --blocked as a program: the mutex part of the stack scan (waits.ts adds rwsem, semaphore, rt_mutex, completions) */
const BLOCKED_SCRIPT = `import { archOf } from 'vaat';

const T = 'struct task_struct';
const off = (type, m) => BigInt(vm.types.offsetof(type, m));
const next = (p) => vm.dump.pointer(p);
// every thread: leaders on init_task.tasks, then each one's signal->thread_head list
const tasks = [];
const init = vm.object('init_task');
for (let p = next(init.address + off(T, 'tasks')); p !== init.address + off(T, 'tasks'); p = next(p)) {
  const leader = p - off(T, 'tasks');
  tasks.push(leader);
  const head = vm.objectAt(leader, T).member('signal.thread_head').address;
  for (let q = next(head); q !== head; q = next(q)) if (q - off(T, 'thread_node') !== leader) tasks.push(q - off(T, 'thread_node'));
}
const arch = archOf(vm);
const KERNEL_START = arch.addressSpace(vm).kernelStart;
const THREAD_SIZE = arch.threadSize(vm).bytes;
const stackOf = (t) => vm.objectAt(t, T).member('stack').pointer();
const known = new Set(tasks);
const listOff = off('struct mutex_waiter', 'list');
const taskOff = off('struct mutex_waiter', 'task');
for (const t of tasks) {
  const task = vm.objectAt(t, T);
  const state = task.member(vm.types.hasMember(T, '__state') ? '__state' : 'state').number();
  if ((state & 0x402) !== 0x2) continue; // TASK_UNINTERRUPTIBLE without TASK_NOLOAD: ps's D
  const base = stackOf(t);
  const stack = vm.dump.readVirt(base, THREAD_SIZE);
  let found = 'not waiting on a mutex';
  for (let o = 0; o < THREAD_SIZE; o += 8) {
    if (stack.readBigUInt64LE(o) !== t) continue;
    // a mutex_waiter whose task is this one: its list ring holds one node that is no waiter, the wait_list head
    const start = base + BigInt(o) - taskOff + listOff;
    const heads = [];
    let ok = true;
    for (let n = next(start), i = 0; n !== start; n = next(n), i++) {
      if (n < KERNEL_START || i > 10000) { ok = false; break; }
      const wt = vm.dump.pointer(n - listOff + taskOff);
      const onStack = known.has(wt) && n >= stackOf(wt) && n < stackOf(wt) + BigInt(THREAD_SIZE);
      if (!onStack) heads.push(n);
    }
    if (!ok || heads.length !== 1) continue;
    const lock = vm.objectAt(heads[0] - off('struct mutex', 'wait_list'), 'struct mutex');
    const raw = BigInt.asUintN(64, lock.member('owner.counter').bigint());
    if (!(raw & 1n)) continue; // a mutex with waiters has MUTEX_FLAG_WAITERS: else this ring is no mutex's
    const owner = raw & ~7n;
    const who = owner ? vm.objectAt(owner, T) : null;
    found = \`waits on \${vm.symbolize(lock.address)} held by \${who ? who.member('comm').string() + '(' + who.member('pid').value() + ')' : 'nobody'}\`;
    break;
  }
  console.log(\`\${task.member('comm').string()}(\${task.member('pid').value()}) D \${found}\`);
}
`;
