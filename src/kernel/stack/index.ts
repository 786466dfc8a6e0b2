/**
 * Kernel stack unwinding on x86_64: ORC first, then the rbp chain, then a scan of the stack for
 * return addresses. Starting registers come from a CPU's PRSTATUS note (the task that was running
 * there at crash time) or from the `struct inactive_task_frame` that __switch_to_asm left at a
 * sleeping task's `thread.sp`.
 *
 * Interrupt, exception, NMI and syscall entries leave a `struct pt_regs` on the stack, and ORC
 * says so (type REGS, or REGS_PARTIAL for a bare iret frame); taking ip/sp/bp from those regs
 * crosses from an IRQ, exception or NMI stack back to the interrupted one without knowing where
 * those stacks are. The irq-stack switch in call_on_irqstack() is ORC's SP_INDIRECT (the old sp
 * saved at the top of the irq stack).
 */
import type { Vmcore } from '../../vmcore.js';
import type { KObject } from '../../object/kobject.js';
import { orcUnwindInfo, OrcReg, type OrcEntry } from '../../arch/x86_64/orc.js';
import { withInlinedFrames } from './inline.js';

export type UnwindMethod = 'regs' | 'orc' | 'fp' | 'scan';
export type Boundary = 'irq' | 'exception' | 'nmi' | 'syscall';

export interface StackFrame {
  pc: bigint;
  /** the stack pointer in this frame (after the call that left the return address popped) */
  sp: bigint;
  /** symbol containing the pc (the pc - 1 of a return address); undefined for user and unknown code */
  function?: string;
  offset?: number;
  size?: number;
  module?: string;
  /** `func+0x1a/0x40 [module]`, or the bare hex pc */
  text: string;
  /** 'regs': the starting registers or an interrupted context's pt_regs; else what found this frame */
  method: UnwindMethod;
  /** false when the frame (or one below it) was guessed: a stack scan, or rbp taken as a frame pointer in an ORC kernel */
  reliable: boolean;
  /** the frame was interrupted by this kind of entry (its registers come from a pt_regs the entry saved) */
  boundary?: Boundary;
  /** pc is a user-space address (pt_regs cs & 3) */
  user?: boolean;
  /** pc is a return address: the call, symbol and inline lookups are at pc - 1 */
  returnAddress?: boolean;
  /** a function inlined at this pc (DWARF); the physical frame that holds it follows, same pc and sp */
  inlined?: boolean;
}

export type StackStart = 'prstatus' | 'inactive_task_frame' | 'registers' | 'none';

export interface StackTask { address: bigint; pid: number; comm: string }

export interface StackTrace {
  task?: StackTask;
  cpu?: number;
  frames: StackFrame[];
  startedFrom: StackStart;
  stoppedBecause: string;
}

/** Registers by pt_regs member name (ip, sp, bp, di, dx, r10, r13, cs, flags...). */
export type RegisterSet = Partial<Record<string, bigint>>;

export interface StartRegisters {
  pc: bigint;
  sp: bigint;
  bp: bigint;
  /** every register known at the start (PRSTATUS has them all) */
  regs?: RegisterSet;
  /** pc is a return address (inactive_task_frame.ret_addr): look it up at pc - 1 */
  pcIsReturnAddress: boolean;
}

/** What the stack functions (cpuStack, taskStack, panicStack) add to the unwound frames. */
export interface StackOptions {
  /**
   * also list the functions inlined at each vmlinux frame (src/kernel/stack/inline.ts), when the
   * types come from DWARF; loads the inline-range index on first use. Off by default: signatures,
   * stack groups and waiter scans want physical frames only, the same with or without debuginfo.
   */
  inlines?: boolean;
}

export interface UnwindOptions {
  /** [low, high) of the task's own stack, to stop at its top and bound scans */
  taskStack?: { low: bigint; high: bigint };
  maxFrames?: number;
}

const MAX_FRAMES = 128;
const USER_TOP = 0x0000_8000_0000_0000n;
const U64 = (1n << 64n) - 1n;

interface State {
  pc: bigint;
  sp: bigint;
  bp: bigint;
  /** registers known exactly here: all of them after pt_regs or at the start, else none */
  regs: RegisterSet | null;
  /** pc is exact (start registers, pt_regs), not a return address */
  signal: boolean;
}

interface Step { next: State; method: UnwindMethod; boundary?: Boundary; user?: boolean; switched: boolean }

/** Unwind from the given registers. */
export function unwindFrom(vm: Vmcore, start: StartRegisters, opts: UnwindOptions = {}): { frames: StackFrame[]; stoppedBecause: string } {
  const u = new Unwinder(vm, opts);
  return u.run(start);
}

class Unwinder {
  readonly #mem: PageCache;
  readonly #orc;
  readonly #ptRegs: Map<string, number>;
  readonly #orcKernel: boolean;
  readonly #maxFrames: number;

  constructor(readonly vm: Vmcore, readonly opts: UnwindOptions) {
    this.#mem = new PageCache(vm);
    this.#orc = orcUnwindInfo(vm);
    this.#orcKernel = this.#orc.kernel !== null;
    this.#ptRegs = ptRegsOffsets(vm);
    this.#maxFrames = opts.maxFrames ?? MAX_FRAMES;
  }

  run(start: StartRegisters): { frames: StackFrame[]; stoppedBecause: string } {
    const frames: StackFrame[] = [];
    let st: State = { pc: start.pc, sp: start.sp, bp: start.bp, regs: start.regs ?? null, signal: !start.pcIsReturnAddress };
    const user = (start.regs?.cs !== undefined && (start.regs.cs & 3n) !== 0n) || start.pc < USER_TOP;
    frames.push(this.#frame(st, 'regs', true, undefined, user));
    if (user) return { frames, stoppedBecause: 'user mode: the registers are a user-space context' };
    const seen = new Set<string>();
    for (;;) {
      if (frames.length >= this.#maxFrames) return { frames, stoppedBecause: `frame limit (${this.#maxFrames}) reached` };
      const top = this.opts.taskStack?.high;
      if (top !== undefined && st.sp >= top && st.sp < top + 0x4000n) return { frames, stoppedBecause: 'reached the top of the task stack' };
      const lookup = st.signal ? st.pc : st.pc - 1n;
      const hit = this.#orc.find(lookup);
      if (hit?.entry.type === 'end') {
        return { frames, stoppedBecause: `end of stack: ORC marks ${this.vm.symbolize(lookup)} as the outermost frame` };
      }
      let step: Step | undefined;
      let why: string;
      if (!hit) why = `no ORC entry for ${this.vm.symbolize(lookup)}`;
      else if (hit.entry.type === 'undefined') why = `ORC has no information for ${this.vm.symbolize(lookup)}`;
      else {
        const s = this.#orcStep(st, hit.entry);
        if (typeof s === 'string') why = s;
        else if (!s.switched && s.next.sp <= st.sp) why = 'ORC gave a stack pointer that does not move up the stack';
        else { step = s; why = ''; }
      }
      step ??= this.#fallbackStep(st);
      if (!step) return { frames, stoppedBecause: `${why}; no frame pointer or return address found above it` };
      // per frame: a guess makes this frame unreliable; ORC steps from it are checked again
      const reliable = step.method === 'orc' || (step.method === 'fp' && !this.#orcKernel);
      const key = `${step.next.pc}:${step.next.sp}`;
      if (seen.has(key)) return { frames, stoppedBecause: 'the unwind loops (same pc and sp again)' };
      seen.add(key);
      if (step.next.pc === 0n) return { frames, stoppedBecause: 'return address 0: the outermost frame' };
      const userFrame = step.user === true || step.next.pc < USER_TOP;
      frames.push(this.#frame(step.next, step.method, reliable, step.boundary, userFrame));
      if (userFrame) return { frames, stoppedBecause: 'user mode: the saved pt_regs are a user-space context' };
      st = step.next;
    }
  }

  #frame(st: State, method: UnwindMethod, reliable: boolean, boundary: Boundary | undefined, user: boolean): StackFrame {
    const f: StackFrame = { pc: st.pc, sp: st.sp, text: `0x${st.pc.toString(16)}`, method, reliable };
    if (boundary) f.boundary = boundary;
    if (user) { f.user = true; return f; }
    // a return address points after its call: look up pc - 1 so a call ending a function names it
    const bias = st.signal ? 0n : 1n;
    if (bias) f.returnAddress = true;
    const s = this.vm.symbols.symbolize(st.pc - bias);
    if (s) {
      f.function = s.name;
      f.offset = s.offset + Number(bias);
      f.size = s.size;
      if (s.module !== undefined) f.module = s.module;
      f.text = `${s.name}+0x${f.offset.toString(16)}/0x${s.size.toString(16)}${s.module !== undefined ? ` [${s.module}]` : ''}`;
    }
    return f;
  }

  #reg(st: State, name: string): bigint | undefined { return st.regs?.[name]; }

  /** One ORC step; a string says why it failed. */
  #orcStep(st: State, e: OrcEntry): Step | string {
    const m = this.#mem;
    let prevSp: bigint | null;
    let switched = false;
    switch (e.spReg) {
      case OrcReg.SP: prevSp = st.sp + BigInt(e.spOffset); break;
      case OrcReg.BP: prevSp = st.bp + BigInt(e.spOffset); break;
      // since 5.12 ("x86/unwind/orc: Change REG_SP_INDIRECT") SP_INDIRECT is *sp + offset: the old
      // stack pointer that call_on_irqstack() saved at the top of the irq stack
      case OrcReg.SP_INDIRECT: {
        const v = m.u64(st.sp);
        prevSp = v === null ? null : v + BigInt(e.spOffset);
        switched = true;
        break;
      }
      case OrcReg.BP_INDIRECT: prevSp = m.u64(st.bp + BigInt(e.spOffset)); switched = true; break;
      case OrcReg.R10: case OrcReg.R13: case OrcReg.DI: case OrcReg.DX: {
        const name = ({ [OrcReg.R10]: 'r10', [OrcReg.R13]: 'r13', [OrcReg.DI]: 'di', [OrcReg.DX]: 'dx' } as Record<number, string>)[e.spReg];
        const v = this.#reg(st, name);
        if (v === undefined) return `ORC needs register ${name}, not known in this frame`;
        prevSp = v + BigInt(e.spOffset);
        switched = true;
        break;
      }
      default: return `ORC sp_reg ${e.spReg} is not usable`;
    }
    if (prevSp === null) return `stack unreadable near 0x${st.sp.toString(16)}`;
    prevSp &= U64;
    let next: State;
    let boundary: Boundary | undefined;
    let user = false;
    if (e.type === 'call') {
      const ra = m.u64(prevSp - 8n);
      if (ra === null) return `stack unreadable at 0x${(prevSp - 8n).toString(16)}`;
      next = { pc: ra, sp: prevSp, bp: st.bp, regs: null, signal: e.signal };
    } else {
      // REGS: a whole pt_regs at prevSp; REGS_PARTIAL: only its iret frame (ip, cs, flags, sp, ss)
      const base = e.type === 'regs' ? prevSp : prevSp - BigInt(this.#ptRegs.get('ip') ?? 128);
      const regs = this.#readPtRegs(base, e.type === 'regs');
      if (!regs) return `pt_regs unreadable at 0x${base.toString(16)}`;
      const ip = regs.ip;
      const sp = regs.sp;
      if (ip === undefined || sp === undefined) return 'pt_regs without ip/sp';
      user = regs.cs !== undefined && (regs.cs & 3n) !== 0n;
      boundary = boundaryOf(this.vm.symbols.symbolize(st.signal ? st.pc : st.pc - 1n)?.name);
      next = { pc: ip, sp, bp: e.type === 'regs' ? regs.bp ?? st.bp : st.bp, regs: e.type === 'regs' ? regs : null, signal: true };
      switched = true;
    }
    // the caller's bp (for REGS with bp_reg UNDEFINED it came from pt_regs above)
    if (e.bpReg === OrcReg.PREV_SP) {
      const v = m.u64(prevSp + BigInt(e.bpOffset));
      if (v === null) return `stack unreadable at 0x${(prevSp + BigInt(e.bpOffset)).toString(16)}`;
      next.bp = v;
    } else if (e.bpReg === OrcReg.BP) {
      const v = m.u64(st.bp + BigInt(e.bpOffset));
      if (v === null) return `stack unreadable at 0x${(st.bp + BigInt(e.bpOffset)).toString(16)}`;
      next.bp = v;
    }
    return { next, method: 'orc', switched, ...(boundary ? { boundary } : {}), user };
  }

  #readPtRegs(base: bigint, full: boolean): RegisterSet | null {
    const out: RegisterSet = {};
    for (const [name, off] of this.#ptRegs) {
      if (!full && !['ip', 'cs', 'flags', 'sp', 'ss'].includes(name)) continue;
      const v = this.#mem.u64(base + BigInt(off));
      if (v === null) return null;
      out[name] = v;
    }
    return out;
  }

  /**
   * Without ORC for the pc: the rbp chain, then a stack scan. In an ORC kernel rbp is an ordinary
   * register that only sometimes holds a frame pointer (6.1's __crash_kexec has no ORC, and its rbp
   * points into panic()'s caller), so there the chain is believed only when no return address lies
   * between sp and the chain's slot; otherwise the nearest return address wins.
   */
  #fallbackStep(st: State): Step | undefined {
    const fp = this.#fpStep(st);
    if (fp && !this.#orcKernel) return fp;
    const scan = this.#scanStep(st);
    if (fp && (!scan || scan.next.sp >= fp.next.sp)) return fp;
    return scan;
  }

  /** rbp as a frame pointer: [bp] = caller's bp, [bp + 8] = return address */
  #fpStep(st: State): Step | undefined {
    const bp = st.bp;
    if (bp <= st.sp || bp - st.sp > 0x4000n || (bp & 7n) !== 0n) return undefined;
    const ra = this.#mem.u64(bp + 8n);
    const nbp = this.#mem.u64(bp);
    if (ra === null || nbp === null || !this.#isReturnAddress(ra)) return undefined;
    return { next: { pc: ra, sp: bp + 16n, bp: nbp, regs: null, signal: false }, method: 'fp', switched: false };
  }

  /** the next word up the stack that looks like a return address (kernel text right after a call) */
  #scanStep(st: State): Step | undefined {
    const ts = this.opts.taskStack;
    const onTask = ts !== undefined && st.sp >= ts.low && st.sp < ts.high;
    // task stacks and irq stacks are 16K-aligned; otherwise stay within the page
    const limit = onTask ? ts.high : (st.sp | 0xfffn) + 1n;
    for (let a = (st.sp + 7n) & ~7n, n = 0; a + 8n <= limit && n < 2048; a += 8n, n++) {
      const w = this.#mem.u64(a);
      if (w === null) return undefined;
      if (this.#isReturnAddress(w)) {
        return { next: { pc: w, sp: a + 8n, bp: st.bp, regs: null, signal: false }, method: 'scan', switched: false };
      }
    }
    return undefined;
  }

  #textRange?: [bigint, bigint];
  #isText(a: bigint): boolean {
    if (a < 0xffff_8000_0000_0000n) return false;
    if (!this.#textRange) {
      const s = this.vm.symbols;
      this.#textRange = [s.lookup('_stext')?.address ?? 0n, s.lookup('_etext')?.address ?? 0n];
    }
    if (a >= this.#textRange[0] && a < this.#textRange[1]) return true;
    const mod = this.vm.modules?.moduleAt(a);
    return mod !== undefined && mod.symbols.symbolize(a) !== undefined;
  }

  /** kernel text preceded by a call instruction (e8 rel32, or ff /2 with a register or memory operand) */
  #isReturnAddress(a: bigint): boolean {
    if (!this.#isText(a)) return false;
    const code = this.#mem.bytes(a - 7n, 7);
    if (!code) return false;
    if (code[2] === 0xe8) return true;
    const ffCall = (at: number, len: number): boolean => {
      if (code[at] !== 0xff) return false;
      const modrm = code[at + 1];
      if (((modrm >> 3) & 7) !== 2) return false;
      const mod = modrm >> 6;
      const rm = modrm & 7;
      const want = mod === 3 ? 2 : mod === 1 ? (rm === 4 ? 4 : 3) : mod === 2 ? (rm === 4 ? 7 : 6) : rm === 5 ? 6 : rm === 4 ? 3 : 2;
      return want === len;
    };
    return ffCall(5, 2) || ffCall(4, 3) || ffCall(3, 4) || ffCall(1, 6) || ffCall(0, 7);
  }
}

function boundaryOf(entryFunction: string | undefined): Boundary {
  const n = entryFunction ?? '';
  if (/^(entry_SYSCALL|entry_SYSENTER|entry_INT80|ret_from_fork)/.test(n)) return 'syscall';
  if (/nmi/i.test(n)) return 'nmi';
  if (/^asm_(sysvec|common_interrupt|spurious_interrupt)|irq/.test(n)) return 'irq';
  return 'exception';
}

/** 4K pages of kernel memory read once per unwind */
class PageCache {
  readonly #pages = new Map<bigint, Buffer | null>();
  constructor(readonly vm: Vmcore) {}

  #page(addr: bigint): Buffer | null {
    const base = addr & ~0xfffn;
    let p = this.#pages.get(base);
    if (p === undefined) {
      try { p = this.vm.dump.readVirt(base, 0x1000); } catch { p = null; }
      this.#pages.set(base, p);
    }
    return p;
  }

  bytes(addr: bigint, len: number): Buffer | null {
    addr &= U64;
    const off = Number(addr & 0xfffn);
    if (off + len <= 0x1000) return this.#page(addr)?.subarray(off, off + len) ?? null;
    const a = this.#page(addr);
    const b = this.#page(addr + BigInt(len));
    return a && b ? Buffer.concat([a.subarray(off), b.subarray(0, off + len - 0x1000)]) : null;
  }

  u64(addr: bigint): bigint | null {
    return this.bytes(addr, 8)?.readBigUInt64LE(0) ?? null;
  }
}

const ptRegsCache = new WeakMap<Vmcore, Map<string, number>>();

/** struct pt_regs member offsets, from BTF (the fixed x86_64 layout when types are missing) */
function ptRegsOffsets(vm: Vmcore): Map<string, number> {
  let m = ptRegsCache.get(vm);
  if (m) return m;
  m = new Map();
  try {
    for (const mem of vm.types.members('struct pt_regs')) m.set(mem.name, mem.offset);
  } catch {
    const names = ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss'];
    names.forEach((n, i) => m!.set(n, i * 8));
  }
  ptRegsCache.set(vm, m);
  return m;
}

/** PRSTATUS register names (rip, rsp, eflags...) as pt_regs members (ip, sp, flags...) */
export function prstatusToPtRegs(regs: Record<string, bigint>): RegisterSet {
  const out: RegisterSet = {};
  for (const [k, v] of Object.entries(regs)) {
    if (k === 'eflags') out.flags = v;
    else if (k === 'orig_rax') out.orig_ax = v;
    else if (/^r(ax|bx|cx|dx|si|di|bp|sp|ip)$/.test(k)) out[k.slice(1)] = v;
    else out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Starting points: CPUs, tasks, the panic

/** THREAD_SIZE: 16K on x86_64, 32K with KASAN (THREAD_SIZE_ORDER 2 + KASAN_STACK_ORDER) */
function threadSize(vm: Vmcore): bigint {
  return vm.symbols.lookup('__asan_load8') ? 0x8000n : 0x4000n;
}

function taskInfo(task: KObject): StackTask {
  let pid = -1;
  let comm = '?';
  try { pid = task.member('pid').number(); } catch { /* leave unknown */ }
  try { comm = task.member('comm').string(16); } catch { /* leave unknown */ }
  return { address: task.address, pid, comm };
}

function taskStackRange(vm: Vmcore, task: KObject): { low: bigint; high: bigint } | undefined {
  try {
    const low = task.member('stack').pointer();
    return low ? { low, high: low + threadSize(vm) } : undefined;
  } catch {
    return undefined;
  }
}

/** the task running on `cpu` at crash time: runqueues[cpu].curr */
export function cpuCurrentTask(vm: Vmcore, cpu: number): KObject | undefined {
  try {
    const p = vm.perCpu('runqueues', cpu).member('curr').pointer();
    return p ? vm.objectAt(p, 'struct task_struct') : undefined;
  } catch {
    return undefined;
  }
}

/** the CPU a task last ran on (task_struct.cpu since 5.16, thread_info.cpu before) */
function taskCpu(task: KObject): number | undefined {
  try { return task.memberOf(['cpu', 'thread_info.cpu']).number(); } catch { return undefined; }
}

/**
 * The stack of whatever CPU `cpu` was running at crash time, from its PRSTATUS registers. The
 * panicking CPU's are crash_setup_regs()'s snapshot inside __crash_kexec (or the oops registers
 * handed to crash_kexec()); the other CPUs' were saved by crash_nmi_callback() from the NMI's
 * pt_regs, so they already are the interrupted context (a pc inside the NMI handler would be
 * crossed like any other pt_regs). QEMU's dump-guest-memory notes hold each CPU's live registers.
 */
export function cpuStack(vm: Vmcore, cpu: number, opts: StackOptions = {}): StackTrace {
  const task = cpuCurrentTask(vm, cpu);
  const base: StackTrace = { cpu, frames: [], startedFrom: 'none', stoppedBecause: '' };
  if (task) base.task = taskInfo(task);
  const note = vm.dump.cpuRegs().find((c) => c.cpu === cpu);
  if (!note) return { ...base, stoppedBecause: `no PRSTATUS note for CPU ${cpu}` };
  const r = note.regs;
  if (Object.values(r).every((v) => v === 0n)) {
    return { ...base, stoppedBecause: `CPU ${cpu}'s PRSTATUS registers are all zero (it saved no state: offline, or did not answer the crash NMI)` };
  }
  const regs = prstatusToPtRegs(r);
  const res = unwindFrom(vm, { pc: r.rip ?? 0n, sp: r.rsp ?? 0n, bp: r.rbp ?? 0n, regs, pcIsReturnAddress: false }, {
    ...(task ? { taskStack: taskStackRange(vm, task) } : {}),
  });
  return finish(vm, { ...base, startedFrom: 'prstatus', ...res }, opts);
}

function finish(vm: Vmcore, t: StackTrace, opts: StackOptions): StackTrace {
  return opts.inlines ? { ...t, frames: withInlinedFrames(vm, t.frames) } : t;
}

/** The stack of a task: from PRSTATUS when it was running on a CPU, else from its inactive_task_frame. */
export function taskStack(vm: Vmcore, taskOrAddress: KObject | bigint, opts: StackOptions = {}): StackTrace {
  const task = typeof taskOrAddress === 'bigint' ? vm.objectAt(taskOrAddress, 'struct task_struct') : taskOrAddress;
  const cpu = taskCpu(task);
  if (cpu !== undefined && cpuCurrentTask(vm, cpu)?.address === task.address && vm.dump.cpuRegs().some((c) => c.cpu === cpu)) {
    return cpuStack(vm, cpu, opts);
  }
  const info = taskInfo(task);
  const range = taskStackRange(vm, task);
  let sp: bigint;
  let frame: KObject;
  try {
    sp = task.member('thread.sp').bigint();
    frame = vm.objectAt(sp, 'struct inactive_task_frame').snapshot();
  } catch (e) {
    return { task: info, frames: [], startedFrom: 'none', stoppedBecause: `cannot read the task's saved stack pointer: ${(e as Error).message}` };
  }
  const retAddr = frame.member('ret_addr').bigint();
  // a task that never ran resumes at ret_from_fork itself: an exact pc, not a return address
  const fork = vm.symbols.lookup('ret_from_fork')?.address ?? vm.symbols.lookup('ret_from_fork_asm')?.address;
  const res = unwindFrom(vm, {
    pc: retAddr,
    sp: sp + BigInt(frame.size),
    bp: frame.member('bp').bigint(),
    pcIsReturnAddress: retAddr !== fork,
  }, range ? { taskStack: range } : {});
  return finish(vm, { task: info, ...(cpu !== undefined ? { cpu } : {}), frames: res.frames, startedFrom: 'inactive_task_frame', stoppedBecause: res.stoppedBecause }, opts);
}

/** functions whose presence in a PRSTATUS pc means the CPU was the one handing the crash to kdump */
const CRASH_PATH = /^(__crash_kexec|crash_kexec|crash_setup_regs|machine_crash_shutdown|native_machine_crash_shutdown|panic|oops_end)$/;

/**
 * The CPU that panicked: panic_cpu (set by panic(), and by crash_kexec() since v4.5), else the CPU
 * whose PRSTATUS pc is in the crash path. (src/kernel/panic.ts's panicCpu() also asks crashing_cpu
 * and the log; callers that have it pass its answer to panicStack().)
 */
function findPanicCpu(vm: Vmcore): number | undefined {
  try {
    const c = vm.object('panic_cpu').member('counter').number();
    if (c >= 0 && c < 8192) return c;
  } catch { /* fall through */ }
  const notes = vm.dump.cpuRegs();
  const hit = notes.find((n) => CRASH_PATH.test(vm.symbols.symbolize(n.regs.rip ?? 0n)?.name ?? ''));
  return hit?.cpu;
}

/** The panicking task's stack (on `cpu` when the caller knows the panic CPU). */
export function panicStack(vm: Vmcore, cpu: number | undefined = findPanicCpu(vm), opts: StackOptions = {}): StackTrace {
  if (cpu === undefined) return { frames: [], startedFrom: 'none', stoppedBecause: 'no panic CPU: panic_cpu is -1 and no CPU stopped in the crash path' };
  return cpuStack(vm, cpu, opts);
}
