/**
 * Kernel stack unwinding on arm64 by frame records: every non-leaf kernel function stores
 * {x29, x30} (the caller's frame pointer and its return address) and points x29 at them
 * (arm64 builds with frame pointers; CONFIG_FRAME_POINTER is forced on, arch/arm64/Kconfig).
 *
 * - Return addresses carry a pointer-authentication code in their top bits when the kernel signs
 *   them (CONFIG_ARM64_PTR_AUTH_KERNEL): VMCOREINFO's KERNELPACMASK says which bits to restore.
 * - An exception or interrupt from EL1 leaves a `struct pt_regs` whose `stackframe` is a frame
 *   record {interrupted x29, interrupted pc} (kernel_entry, arch/arm64/kernel/entry.S), so the chain
 *   runs on into the interrupted code; the registers there come from that pt_regs. From EL0 the
 *   record is {0, 0}: the chain ends at the vector, as it does at the record every task's
 *   pt_regs ends its stack with.
 * - The IRQ stack is linked in by call_on_irq_stack(), which leaves a frame record on the new stack
 *   pointing back to the task stack: following x29 crosses it without knowing where it is.
 */
import type { KernelContext } from '../../context.js';
import { stackFrame } from '../frame.js';
import type { AddressSpace, Boundary, RegisterSet, StackFrame, StartRegisters, UnwindOptions, UnwindResult } from '../arch.js';

export interface Arm64UnwindLayout {
  space: AddressSpace;
  threadSize: bigint;
  /** VMCOREINFO KERNELPACMASK: the bits of a kernel return address that hold its PAC (0 without) */
  pacMask: bigint;
}

const MAX_FRAMES = 128;
const U64 = (1n << 64n) - 1n;

/** the exception vectors' C-less entry points: el1h_64_sync, el0t_64_irq (v5.14+), el1_sync, el0_irq (older) */
const ENTRY = /^el[01][th]?_(64_|32_)?(sync|irq|fiq|error)(_invalid)?$/;

/** A return address with its PAC bits restored to what the address itself has (all ones for the kernel half). */
export function stripPac(addr: bigint, pacMask: bigint): bigint {
  if (pacMask === 0n) return addr;
  return (addr >> 55n) & 1n ? addr | pacMask : addr & ~pacMask & U64;
}

interface State { pc: bigint; sp: bigint; fp: bigint; exact: boolean; regs: RegisterSet | null }

export function unwindArm64(vm: KernelContext, layout: Arm64UnwindLayout, start: StartRegisters, opts: UnwindOptions = {}): UnwindResult {
  const maxFrames = opts.maxFrames ?? MAX_FRAMES;
  const u64 = (a: bigint): bigint | null => { try { return vm.mem.readVirt(a & U64, 8).readBigUInt64LE(0); } catch { return null; } };
  const frames: StackFrame[] = [];
  const pstate = start.regs?.pstate;
  // PSTATE.M[3:2] is the exception level the CPU was at: 0 is user space
  const user = (pstate !== undefined && ((pstate >> 2n) & 3n) === 0n) || start.pc < layout.space.userEnd;
  let st: State = { pc: stripPac(start.pc, layout.pacMask), sp: start.sp, fp: start.bp, exact: !start.pcIsReturnAddress, regs: start.regs ?? null };
  frames.push(frame(vm, st, 'regs', true, undefined, user));
  if (user) return { frames, stoppedBecause: 'user mode: the registers are a user-space context' };
  let ptRegsStackframe: number | undefined;
  const seen = new Set<bigint>();
  for (;;) {
    if (frames.length >= maxFrames) return { frames, stoppedBecause: `frame limit (${maxFrames}) reached` };
    const fp = st.fp;
    if (fp === 0n) return { frames, stoppedBecause: 'end of the frame-record chain (x29 is 0)' };
    if ((fp & 7n) !== 0n || fp < layout.space.kernelStart) return { frames, stoppedBecause: `x29 0x${fp.toString(16)} is not a kernel frame record address` };
    if (seen.has(fp)) return { frames, stoppedBecause: 'the frame records loop' };
    seen.add(fp);
    const nextFp = u64(fp), lr = u64(fp + 8n);
    if (nextFp === null || lr === null) return { frames, stoppedBecause: `frame record unreadable at 0x${fp.toString(16)}` };
    const fn = vm.symbols.symbolize(st.exact ? st.pc : st.pc - 1n)?.name;
    if (fn !== undefined && ENTRY.test(fn)) {
      // this record is the `stackframe` of the pt_regs the vector saved
      ptRegsStackframe ??= ptRegsOffset(vm);
      const base = fp - BigInt(ptRegsStackframe);
      const regs = readPtRegs(vm, base);
      const boundary: Boundary = /irq|fiq/.test(fn) ? 'irq' : /^el0/.test(fn) ? 'syscall' : 'exception';
      if (!regs || regs.pc === undefined || regs.sp === undefined) return { frames, stoppedBecause: `pt_regs unreadable at 0x${base.toString(16)}` };
      const toUser = regs.pstate !== undefined && ((regs.pstate >> 2n) & 3n) === 0n;
      if (toUser || (nextFp === 0n && lr === 0n)) return { frames, stoppedBecause: `user mode: ${fn} entered the kernel from user space` };
      st = { pc: regs.pc, sp: regs.sp, fp: regs.x29 ?? nextFp, exact: true, regs };
      frames.push(frame(vm, st, 'regs', true, boundary, false));
      continue;
    }
    if (lr === 0n) return { frames, stoppedBecause: 'final frame record (return address 0)' };
    const pc = stripPac(lr, layout.pacMask);
    if (pc < layout.space.kernelStart) return { frames, stoppedBecause: `return address 0x${pc.toString(16)} is not kernel text` };
    st = { pc, sp: fp + 16n, fp: nextFp, exact: false, regs: null };
    frames.push(frame(vm, st, 'fp', true, undefined, false));
  }
}

function frame(vm: KernelContext, st: State, method: StackFrame['method'], reliable: boolean, boundary: Boundary | undefined, user: boolean): StackFrame {
  return stackFrame(vm, st.pc, st.sp, method, reliable, boundary, user, !st.exact);
}

/**
 * struct pt_regs (arch/arm64/include/asm/ptrace.h): user_pt_regs {regs[31], sp, pc, pstate} first,
 * then orig_x0, syscallno, ..., stackframe[2]. Offsets from the types; the fixed v5.x layout without them.
 */
function ptRegsLayout(vm: KernelContext): { stackframe: number; regs: number; sp: number; pc: number; pstate: number } {
  return vm.cache('arm64.ptRegsLayout', () => {
    try {
      const t = vm.types;
      return { stackframe: t.offsetof('struct pt_regs', 'stackframe'), regs: t.offsetof('struct pt_regs', 'regs'), sp: t.offsetof('struct pt_regs', 'sp'), pc: t.offsetof('struct pt_regs', 'pc'), pstate: t.offsetof('struct pt_regs', 'pstate') };
    } catch {
      return { stackframe: 320, regs: 0, sp: 248, pc: 256, pstate: 264 };
    }
  });
}

function ptRegsOffset(vm: KernelContext): number { return ptRegsLayout(vm).stackframe; }

/** x0..x30, sp, pc, pstate of the pt_regs at `base` */
export function readPtRegs(vm: KernelContext, base: bigint): RegisterSet | null {
  const l = ptRegsLayout(vm);
  let b: Buffer;
  try { b = vm.mem.readVirt(base, Math.max(l.pstate, l.pc, l.sp) + 8); } catch { return null; }
  const out: RegisterSet = {};
  for (let i = 0; i < 31; i++) out[`x${i}`] = b.readBigUInt64LE(l.regs + i * 8);
  out.sp = b.readBigUInt64LE(l.sp);
  out.pc = b.readBigUInt64LE(l.pc);
  out.pstate = b.readBigUInt64LE(l.pstate);
  return out;
}
