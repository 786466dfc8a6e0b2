/**
 * Kernel stacks of CPUs and tasks. Where an unwind starts comes from a CPU's PRSTATUS note (the
 * task that was running there at crash time) or from the registers a sleeping task saved when it
 * was switched out; the unwinding itself, and both register layouts, belong to the architecture
 * (src/arch: ORC, frame pointers and a stack scan on x86_64).
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { archOf, type StackFrame } from '../../arch/index.js';
import { withInlinedFrames } from './inline.js';

export type { Boundary, RegisterSet, StackFrame, StartRegisters, UnwindMethod, UnwindOptions } from '../../arch/index.js';

/**
 * Where an unwind started: a CPU's PRSTATUS note, or the frame a switched-out task saved
 * (x86_64's `struct inactive_task_frame`; arm64's `thread.cpu_context`).
 */
export type StackStart = 'prstatus' | 'inactive_task_frame' | 'cpu_context' | 'registers' | 'none';

export interface StackTask { address: bigint; pid: number; comm: string }

/** A task's or CPU's kernel stack: its frames innermost first, and why the unwind stopped. */
export interface StackTrace {
  task?: StackTask;
  cpu?: number;
  frames: StackFrame[];
  startedFrom: StackStart;
  stoppedBecause: string;
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

// ---------------------------------------------------------------------------------------------
// Starting points: CPUs, tasks, the panic


function taskInfo(task: KObject): StackTask {
  let pid = -1;
  let comm = '?';
  try { pid = task.member('pid').number(); } catch { /* leave unknown */ }
  try { comm = task.member('comm').string(16); } catch { /* leave unknown */ }
  return { address: task.address, pid, comm };
}

function taskStackRange(vm: KernelContext, task: KObject): { low: bigint; high: bigint } | undefined {
  try {
    const low = task.member('stack').pointer();
    return low ? { low, high: low + BigInt(archOf(vm).threadSize(vm).bytes) } : undefined;
  } catch {
    return undefined;
  }
}

/** the task running on `cpu` at crash time: runqueues[cpu].curr */
export function cpuCurrentTask(vm: KernelContext, cpu: number): KObject | undefined {
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
export function cpuStack(vm: KernelContext, cpu: number, opts: StackOptions = {}): StackTrace {
  const task = cpuCurrentTask(vm, cpu);
  const base: StackTrace = { cpu, frames: [], startedFrom: 'none', stoppedBecause: '' };
  if (task) base.task = taskInfo(task);
  const note = vm.cpuRegs().find((c) => c.cpu === cpu);
  if (!note) return { ...base, stoppedBecause: `no PRSTATUS note for CPU ${cpu}` };
  const r = note.regs;
  if (Object.values(r).every((v) => v === 0n)) {
    return { ...base, stoppedBecause: `CPU ${cpu}'s PRSTATUS registers are all zero (it saved no state: offline, or did not answer the crash NMI)` };
  }
  const arch = archOf(vm);
  const res = arch.unwind(vm, arch.prstatusStart(r), {
    ...(task ? { taskStack: taskStackRange(vm, task) } : {}),
  });
  return finish(vm, { ...base, startedFrom: 'prstatus', ...res }, opts);
}

function finish(vm: KernelContext, t: StackTrace, opts: StackOptions): StackTrace {
  return opts.inlines ? { ...t, frames: withInlinedFrames(vm, t.frames) } : t;
}

/** The stack of a task: from PRSTATUS when it was running on a CPU, else from the frame it saved when switched out. */
export function taskStack(vm: KernelContext, taskOrAddress: KObject | bigint, opts: StackOptions = {}): StackTrace {
  const task = typeof taskOrAddress === 'bigint' ? vm.objectAt(taskOrAddress, 'struct task_struct') : taskOrAddress;
  const cpu = taskCpu(task);
  if (cpu !== undefined && cpuCurrentTask(vm, cpu)?.address === task.address && vm.cpuRegs().some((c) => c.cpu === cpu)) {
    return cpuStack(vm, cpu, opts);
  }
  const info = taskInfo(task);
  const range = taskStackRange(vm, task);
  const arch = archOf(vm);
  let start;
  try {
    start = arch.sleepingTaskStart(vm, task);
  } catch (e) {
    return { task: info, frames: [], startedFrom: 'none', stoppedBecause: `cannot read the task's saved stack pointer: ${(e as Error).message}` };
  }
  const res = arch.unwind(vm, start.regs, range ? { taskStack: range } : {});
  return finish(vm, { task: info, ...(cpu !== undefined ? { cpu } : {}), frames: res.frames, startedFrom: start.from, stoppedBecause: res.stoppedBecause }, opts);
}

/** functions whose presence in a PRSTATUS pc means the CPU was the one handing the crash to kdump */
const CRASH_PATH = /^(__crash_kexec|crash_kexec|crash_setup_regs|machine_crash_shutdown|native_machine_crash_shutdown|panic|oops_end)$/;

/**
 * The CPU that panicked: panic_cpu (set by panic(), and by crash_kexec() since v4.5), else the CPU
 * whose PRSTATUS pc is in the crash path. (src/kernel/panic.ts's panicCpu() also asks crashing_cpu
 * and the log; callers that have it pass its answer to panicStack().)
 */
function findPanicCpu(vm: KernelContext): number | undefined {
  try {
    const c = vm.object('panic_cpu').member('counter').number();
    if (c >= 0 && c < 8192) return c;
  } catch { /* fall through */ }
  const arch = archOf(vm);
  const notes = vm.cpuRegs();
  const hit = notes.find((n) => CRASH_PATH.test(vm.symbols.symbolize(arch.prstatusStart(n.regs).pc)?.name ?? ''));
  return hit?.cpu;
}

/** The panicking task's stack (on `cpu` when the caller knows the panic CPU). */
export function panicStack(vm: KernelContext, cpu: number | undefined = findPanicCpu(vm), opts: StackOptions = {}): StackTrace {
  if (cpu === undefined) return { frames: [], startedFrom: 'none', stoppedBecause: 'no panic CPU: panic_cpu is -1 and no CPU stopped in the crash path' };
  return cpuStack(vm, cpu, opts);
}
