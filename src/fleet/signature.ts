/**
 * Crash signatures: what a crash is, in layers that stay separate so triage can weigh them.
 *  1. class — the kind of failure and a normalized title in the style of kernel bug trackers
 *     ("BUG: kernel NULL pointer dereference in FUNC [mod]"), with addresses, numbers, CPU ids,
 *     pids and offsets removed, so the same bug on another machine or day gets the same title;
 *  2. frames — the guilty frame and the first relevant frames of the failing stack, after the
 *     skip list (data/skip-frames.txt) drops generic plumbing; for hung tasks these come from the
 *     blocked tasks, not from khungtaskd which only reported them;
 *  3. state — what the machine was doing: the lock wait-for graph, grouped D-state stacks, taint
 *     and modules, runqueue lengths, free memory, the failing task's cgroup.
 * Plus an identity (crash time, build-id, host, panic CPU and task) that tells a crash written
 * twice (two formats, two copies) from two crashes.
 */
import type { Vmcore } from '../vmcore.js';
import { panicInfo, kernelLog, type PanicInfo } from '../kernel/panic.js';
import { panicStack, taskStack, type StackFrame } from '../kernel/stack/index.js';
import { groupTaskStacks } from '../kernel/stack/groups.js';
import { listModules } from '../kernel/module/index.js';
import { runqueues } from '../kernel/sched/index.js';
import { freePages, totalRam, utsname } from '../kernel/sys.js';
import { taskCgroupPath } from '../kernel/cgroup/path.js';
import { waitForGraph } from '../kernel/locking/waits.js';
import { tasksByAddress } from '../kernel/tasks.js';
import { hex } from '../output/style.js';
import type { LogRecord } from '../kernel/printk/index.js';
import { baseFunction, loadSkipList, type SkipList } from './skip-frames.js';

export type CrashKind =
  | 'null-deref' | 'page-fault' | 'gpf' | 'kernel-bug' | 'bug' | 'warning' | 'soft-lockup' | 'hard-lockup'
  | 'hung-task' | 'rcu-stall' | 'oom' | 'sysrq' | 'panic' | 'no-panic' | 'unknown';

/** crashes someone caused on purpose: their stacks are identical by construction and name no bug */
export const DELIBERATE: ReadonlySet<CrashKind> = new Set(['sysrq', 'no-panic']);

/** classes whose stack says nothing about a bug: never matched on frames, only on state or as duplicates */
export function stackNamesNoBug(c: Pick<CrashClass, 'kind'>): boolean {
  return DELIBERATE.has(c.kind) || c.kind === 'unknown';
}

export interface CrashClass {
  kind: CrashKind;
  /** e.g. "BUG: kernel NULL pointer dereference in vaat_parse_request [vaat_oops]" */
  title: string;
  deliberate: boolean;
  /** the report line or panic message the class was read from, as the kernel printed it */
  evidence: string | null;
}

export interface FrameLayer {
  /** "func [module]" of the first relevant frame */
  guilty: string | null;
  /** the first N relevant frames, innermost first */
  top: string[];
  /** up to 16 relevant frames, for similarity */
  relevant: string[];
  /** 'panic stack', 'oops report (log)', 'blocked tasks (N)' */
  source: string;
  skipList: string;
}

export interface LockEdge {
  /** `cgroup_mutex`, or `mutex in FUNC` for a lock no symbol names */
  lock: string;
  kind: string;
  waiters: number;
  /** waiter comms with digits folded (kworker/N:N) */
  waiterComms: string[];
  owner: string | null;
  /** the owner's first relevant frame: where it sits holding the lock */
  ownerIn: string | null;
}

export type LockGraphLayer = { available: true; edges: LockEdge[]; cycles: number } | { available: false; reason: string };

export interface StateLayer {
  lockGraph: LockGraphLayer;
  blocked: { count: number; groups: { count: number; frames: string[] }[] } | null;
  /** taint letters ("OE"), '' when not tainted */
  taint: string | null;
  modules: string[] | null;
  /** nr_running per online CPU */
  runqueue: number[] | null;
  memory: { freePages: number; totalPages: number; freeRatio: number } | null;
  /** cgroup v2 path of the failing task */
  cgroup: string | null;
}

export interface CrashIdentity {
  buildId: string | null;
  release: string | null;
  nodename: string | null;
  crashTime: number | null;
  crashTimeUtc: string | null;
  crashTimeSource: string | null;
  panicCpu: number | null;
  panicPid: number | null;
  panicComm: string | null;
  /** task_struct address: two writes of one crash share it, two crashes (KASLR) almost never */
  panicTask: string | null;
}

export interface CrashSignature {
  file: string;
  identity: CrashIdentity;
  class: CrashClass;
  frames: FrameLayer;
  state: StateLayer;
  /** parts that could not be read, with why */
  errors: { layer: string; error: string }[];
}

export interface SignatureOptions {
  /** relevant frames in `top` (default 5) */
  depth?: number;
  skipList?: SkipList;
}

// ---------------------------------------------------------------------------------------------
// Normalizing text

/** strip what differs between two occurrences of one bug: addresses, offsets, numbers, CPU ids, pids */
export function normalizeText(s: string): string {
  return s
    .replace(/^\[\s*\d+\.\d+\]\s*/, '')
    .replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+/gi, '')
    .replace(/\[([\w./:-]+?):\d+\]/g, '[$1]')
    .replace(/\b0x[0-9a-f]+\b/gi, '')
    .replace(/\b[0-9a-f]{8,}\b/gi, '')
    .replace(/CPU#?\s*\d+/g, 'CPU')
    .replace(/\b\d+(\.\d+)?s?\b/g, '')
    .replace(/[,:]\s*(?=[,:]|$)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `kworker/3:1` → `kworker/N:N`, `mkdir` stays: comms of per-CPU threads fold together */
export function foldComm(comm: string): string {
  return comm.replace(/\d+/g, 'N');
}

function frameName(f: { function?: string; module?: string }): string {
  const fn = baseFunction(f.function ?? '?');
  return f.module ? `${fn} [${f.module}]` : fn;
}

/** relevant frames: not skipped, kernel, symbolized; stops at user space */
export function relevantFrames(frames: readonly StackFrame[], skip: SkipList): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (f.user) break;
    // module frames are kept unless a pattern names them (panic notifiers such as pvpanic's)
    if (!f.function || skip.skips(f.function)) continue;
    out.push(frameName(f));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Class

interface ReportLine { kind: CrashKind; stem: string; line: string }

const REPORTS: readonly { re: RegExp; kind: CrashKind; stem: (m: RegExpExecArray) => string }[] = [
  { re: /BUG: kernel NULL pointer dereference/, kind: 'null-deref', stem: () => 'BUG: kernel NULL pointer dereference' },
  { re: /BUG: unable to handle (page fault|kernel paging request)/, kind: 'page-fault', stem: () => 'BUG: unable to handle page fault' },
  { re: /general protection fault/, kind: 'gpf', stem: () => 'general protection fault' },
  { re: /kernel BUG at /, kind: 'kernel-bug', stem: () => 'kernel BUG' },
  { re: /BUG: soft lockup/, kind: 'soft-lockup', stem: () => 'soft lockup' },
  { re: /Watchdog detected hard LOCKUP/, kind: 'hard-lockup', stem: () => 'hard lockup' },
  { re: /INFO: task .* blocked for more than/, kind: 'hung-task', stem: () => 'hung task' },
  { re: /rcu: INFO: rcu_\w+ (self-)?detected stall|rcu_\w+ self-detected stall/, kind: 'rcu-stall', stem: () => 'INFO: rcu detected stall' },
  { re: /Out of memory/, kind: 'oom', stem: () => 'Out of memory' },
  { re: /WARNING: CPU: \d+ PID: \d+ at /, kind: 'warning', stem: () => 'WARNING' },
  { re: /BUG: ([^,]+)/, kind: 'bug', stem: (m) => `BUG: ${normalizeText(m[1])}` },
];

/** the panic message alone decides for panics that name their cause */
const PANICS: readonly { re: RegExp; kind: CrashKind; stem: string }[] = [
  { re: /sysrq triggered crash/, kind: 'sysrq', stem: 'sysrq crash' },
  { re: /hung_task: blocked tasks/, kind: 'hung-task', stem: 'hung task' },
  { re: /softlockup: hung tasks/, kind: 'soft-lockup', stem: 'soft lockup' },
  { re: /[Hh]ard LOCKUP/, kind: 'hard-lockup', stem: 'hard lockup' },
  { re: /Out of memory|System is deadlocked on memory/, kind: 'oom', stem: 'Out of memory' },
  { re: /RCU Stall/, kind: 'rcu-stall', stem: 'INFO: rcu detected stall' },
  { re: /panic_on_warn set/, kind: 'warning', stem: 'WARNING' },
];

function reportLine(lines: readonly string[]): ReportLine | null {
  for (const raw of lines) {
    const line = raw.replace(/^\[\s*\d+\.\d+\]\s*/, '');
    for (const r of REPORTS) {
      const m = r.re.exec(line);
      if (m) return { kind: r.kind, stem: r.stem(m), line };
    }
  }
  return null;
}

/** kind and title stem; FUNC is added once the guilty frame is known */
export function classify(p: Pick<PanicInfo, 'message' | 'source' | 'oopsLines' | 'line'>): ReportLine {
  const msg = p.message ?? '';
  for (const r of PANICS) if (r.re.test(msg)) return { kind: r.kind, stem: r.stem, line: p.line ?? msg };
  const rep = reportLine(p.oopsLines);
  if (rep) return rep;
  if (p.source === 'oops') return { kind: 'bug', stem: 'Oops', line: msg };
  if (p.source === 'panic') return { kind: 'panic', stem: `panic: ${normalizeText(msg)}`, line: p.line ?? msg };
  return { kind: 'no-panic', stem: 'no panic (dump taken without a crash)', line: '' };
}

/** the last "RIP: 0010:func+0x../0x.. [mod]" of kernel mode in the log: the oops report's own view */
function logRip(log: readonly LogRecord[]): string | null {
  for (let i = log.length - 1; i >= 0; i--) {
    const m = /RIP: 0010:([\w.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+(?: \[(\w+)\])?/.exec(log[i].text);
    if (m) return frameName({ function: m[1], module: m[2] });
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// State

function attempt<T>(errors: CrashSignature['errors'], layer: string, fn: () => T): T | null {
  try { return fn(); } catch (e) { errors.push({ layer, error: (e as Error).message.split('\n')[0] }); return null; }
}

function lockGraph(vm: Vmcore, skip: SkipList): LockGraphLayer {
  let g: ReturnType<typeof waitForGraph>;
  try { g = waitForGraph(vm); } catch (e) { return { available: false, reason: `wait-for graph unreadable: ${(e as Error).message.split('\n')[0]}` }; }
  const byLock = new Map<string, LockEdge>();
  const tasks = tasksByAddress(vm);
  for (const w of g.tasks) {
    const b = w.blockedOn;
    if (b.kind !== 'lock') continue;
    const where = w.blockedIn.find((f) => !skip.skips(f));
    const name = b.lock.symbol?.replace(/\+0x[0-9a-f]+$/, '') ?? `${b.lock.kind} in ${where ? baseFunction(where) : '?'}`;
    let e = byLock.get(name);
    if (!e) {
      let ownerIn: string | null = null;
      const ot = b.owner ? tasks.get(b.owner.address) : undefined;
      if (ot) { try { ownerIn = relevantFrames(taskStack(vm, ot.address).frames, skip)[0] ?? null; } catch { /* owner stack unreadable */ } }
      e = { lock: name, kind: b.lock.kind, waiters: 0, waiterComms: [], owner: b.owner ? foldComm(b.owner.comm) : null, ownerIn };
      byLock.set(name, e);
    }
    e.waiters++;
    const c = foldComm(w.task.comm);
    if (!e.waiterComms.includes(c)) e.waiterComms.push(c);
  }
  return { available: true, edges: [...byLock.values()].sort((a, b) => b.waiters - a.waiters || a.lock.localeCompare(b.lock)), cycles: g.cycles.length };
}

/** free and total pages, what /proc/meminfo's MemFree and MemTotal show */
function memory(vm: Vmcore): StateLayer['memory'] {
  const free = freePages(vm);
  const total = totalRam(vm).pages;
  return { freePages: free, totalPages: total, freeRatio: total > 0 ? Math.round((free / total) * 1000) / 1000 : 0 };
}

// ---------------------------------------------------------------------------------------------


/** the layered signature of the crash in `vm`; parts that cannot be read are null, with the error recorded */
export function crashSignature(vm: Vmcore, opts: SignatureOptions = {}): CrashSignature {
  const depth = opts.depth ?? 5;
  const skip = opts.skipList ?? loadSkipList();
  const errors: CrashSignature['errors'] = [];
  const p = attempt(errors, 'panic', () => panicInfo(vm));
  const log = attempt(errors, 'log', () => kernelLog(vm)) ?? [];
  const uts = attempt(errors, 'uname', () => utsname(vm));
  const identity: CrashIdentity = {
    buildId: vm.vmcoreinfo.buildId ?? null,
    release: uts?.release ?? vm.vmcoreinfo.osrelease ?? null,
    nodename: uts?.nodename ?? vm.dump.attrs.uts?.nodename ?? null,
    crashTime: p?.crashTime?.unix ?? null,
    crashTimeUtc: p?.crashTime?.utc ?? null,
    crashTimeSource: p?.crashTime?.source ?? null,
    panicCpu: p?.cpu?.cpu ?? null,
    panicPid: p?.task?.pid ?? null,
    panicComm: p?.task?.comm ?? null,
    panicTask: p?.task ? hex(p.task.address) : null,
  };
  const cls: ReportLine = p ? classify(p)
    : { kind: 'unknown', stem: 'unknown crash (panic information unreadable)', line: errors.find((e) => e.layer === 'panic')?.error ?? '' };

  const blocked = attempt(errors, 'blocked tasks', () => groupTaskStacks(vm, 'D'));
  const lockLayer = lockGraph(vm, skip);

  // frames: the blocked tasks' for a hung-task panic, else the failing CPU's stack
  let relevant: string[] = [];
  let source = 'panic stack';
  if (cls.kind === 'hung-task' && blocked && blocked.groups.length) {
    const reported = new Set(p?.oopsLines.map((l) => /INFO: task .*:(\d+) blocked/.exec(l)?.[1]).filter((x): x is string => !!x).map(Number));
    const g = [...blocked.groups].sort((a, b) =>
      b.pids.filter((x) => reported.has(x)).length - a.pids.filter((x) => reported.has(x)).length || b.count - a.count)[0];
    relevant = g.functions.filter((f) => f !== '[user]' && !skip.skips(f)).map((f) => baseFunction(f));
    source = `blocked tasks (${g.count} × ${g.comms.join(', ')})`;
  } else {
    const st = attempt(errors, 'panic stack', () => panicStack(vm, p?.cpu?.cpu));
    if (st) relevant = relevantFrames(st.frames, skip);
  }
  if (relevant.length === 0) {
    const rip = logRip(log);
    if (rip) { relevant = [rip]; source = 'oops report (log RIP)'; }
  }
  relevant = relevant.slice(0, 16);
  const guilty = relevant[0] ?? null;

  let title = cls.stem;
  if (cls.kind === 'hung-task') {
    const lock = lockLayer.available ? lockLayer.edges[0]?.lock : undefined;
    title = `hung task: blocked${lock ? ` on ${lock}` : ''}${guilty ? ` in ${guilty}` : ''}`;
  } else if (!stackNamesNoBug(cls) && cls.kind !== 'oom' && guilty) {
    title = `${cls.stem} in ${guilty}`;
  }

  const state: StateLayer = {
    lockGraph: lockLayer,
    blocked: blocked ? {
      count: blocked.tasks,
      groups: blocked.groups.slice(0, 8).map((g) => ({ count: g.count, frames: g.functions.filter((f) => f !== '[user]' && !skip.skips(f)).map(baseFunction).slice(0, depth) })),
    } : null,
    taint: p ? p.taint.letters : null,
    modules: attempt(errors, 'modules', () => listModules(vm).map((m) => m.name).sort()),
    runqueue: attempt(errors, 'runqueues', () => runqueues(vm).filter((q) => q.online).map((q) => q.nrRunning)),
    memory: attempt(errors, 'memory', () => memory(vm)),
    cgroup: p?.task ? attempt(errors, 'cgroup', () => taskCgroupPath(vm, p.task!.address)) : null,
  };

  return {
    file: vm.file,
    identity,
    class: { kind: cls.kind, title, deliberate: DELIBERATE.has(cls.kind), evidence: cls.line || null },
    frames: { guilty, top: relevant.slice(0, depth), relevant, source, skipList: skip.source },
    state,
    errors,
  };
}
