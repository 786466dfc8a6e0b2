/**
 * Kernel stack unwinding on x86_64: ORC first, then the rbp chain, then a scan of the stack for
 * return addresses.
 *
 * Interrupt, exception, NMI and syscall entries leave a `struct pt_regs` on the stack, and ORC
 * says so (type REGS, or REGS_PARTIAL for a bare iret frame); taking ip/sp/bp from those regs
 * crosses from an IRQ, exception or NMI stack back to the interrupted one without knowing where
 * those stacks are. The irq-stack switch in call_on_irqstack() is ORC's SP_INDIRECT (the old sp
 * saved at the top of the irq stack).
 */
import type { KernelContext } from '../../context.js';
import type { AddressSpace, Boundary, RegisterSet, StackFrame, StartRegisters, UnwindMethod, UnwindOptions, UnwindResult } from '../arch.js';
import { isImageText } from '../arch.js';
import { stackFrame } from '../frame.js';
import { orcUnwindInfo, OrcReg, type OrcEntry } from './orc.js';

/** What the unwinder needs to know about the dump's memory layout (from src/arch/x86_64.ts). */
export interface UnwindLayout {
  space: AddressSpace;
  /** THREAD_SIZE in bytes: the most one frame may span, and the size of a task stack */
  threadSize: bigint;
}

const MAX_FRAMES = 128;
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
export function unwindX86(vm: KernelContext, layout: UnwindLayout, start: StartRegisters, opts: UnwindOptions = {}): UnwindResult {
  const u = new Unwinder(vm, layout, opts);
  return u.run(start);
}

class Unwinder {
  readonly #mem: PageCache;
  readonly #orc;
  readonly #ptRegs: Map<string, number>;
  readonly #orcKernel: boolean;
  readonly #maxFrames: number;

  constructor(readonly vm: KernelContext, readonly layout: UnwindLayout, readonly opts: UnwindOptions) {
    this.#mem = new PageCache(vm);
    this.#orc = orcUnwindInfo(vm);
    this.#orcKernel = this.#orc.kernel !== null;
    this.#ptRegs = ptRegsOffsets(vm);
    this.#maxFrames = opts.maxFrames ?? MAX_FRAMES;
  }

  run(start: StartRegisters): UnwindResult {
    const frames: StackFrame[] = [];
    let st: State = { pc: start.pc, sp: start.sp, bp: start.bp, regs: start.regs ?? null, signal: !start.pcIsReturnAddress };
    const user = (start.regs?.cs !== undefined && (start.regs.cs & 3n) !== 0n) || start.pc < this.layout.space.userEnd;
    frames.push(this.#frame(st, 'regs', true, undefined, user));
    if (user) return { frames, stoppedBecause: 'user mode: the registers are a user-space context' };
    const seen = new Set<string>();
    for (;;) {
      if (frames.length >= this.#maxFrames) return { frames, stoppedBecause: `frame limit (${this.#maxFrames}) reached` };
      const top = this.opts.taskStack?.high;
      if (top !== undefined && st.sp >= top && st.sp < top + this.layout.threadSize) return { frames, stoppedBecause: 'reached the top of the task stack' };
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
      const userFrame = step.user === true || step.next.pc < this.layout.space.userEnd;
      frames.push(this.#frame(step.next, step.method, reliable, step.boundary, userFrame));
      if (userFrame) return { frames, stoppedBecause: 'user mode: the saved pt_regs are a user-space context' };
      st = step.next;
    }
  }

  #frame(st: State, method: UnwindMethod, reliable: boolean, boundary: Boundary | undefined, user: boolean): StackFrame {
    return stackFrame(this.vm, st.pc, st.sp, method, reliable, boundary, user, !st.signal);
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
    if (bp <= st.sp || bp - st.sp > this.layout.threadSize || (bp & 7n) !== 0n) return undefined;
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

  #isText(a: bigint): boolean {
    if (a < this.layout.space.kernelStart) return false;
    if (isImageText(this.vm, a)) return true;
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
  constructor(readonly vm: KernelContext) {}

  #page(addr: bigint): Buffer | null {
    const base = addr & ~0xfffn;
    let p = this.#pages.get(base);
    if (p === undefined) {
      try { p = this.vm.mem.readVirt(base, 0x1000); } catch { p = null; }
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

/** struct pt_regs members in layout order (arch/x86/include/asm/ptrace.h), for dumps without the type */
export const PT_REGS_NAMES = ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss'] as const;

/** struct pt_regs member offsets, from the types (the fixed x86_64 layout when they lack it) */
function ptRegsOffsets(vm: KernelContext): Map<string, number> {
  return vm.cache('x86_64.ptRegs', (): Map<string, number> => {
    let m: Map<string, number>;
    m = new Map();
    try {
      for (const mem of vm.types.members('struct pt_regs')) m.set(mem.name, mem.offset);
    } catch {
      PT_REGS_NAMES.forEach((n, i) => m!.set(n, i * 8));
    }
  return m;
  });
}
