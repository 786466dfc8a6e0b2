/**
 * arm64 (aarch64): the kernel's address space from VMCOREINFO (VA_BITS, the page size), THREAD_SIZE,
 * the PRSTATUS and pt_regs register layout (x0..x30, sp, pc, pstate), a sleeping task's saved
 * `thread.cpu_context`, and unwinding by frame records with PAC bits stripped. The page-table walk
 * itself is native (native/page_tables.cc: 4/16/64 KiB granules, 48/52-bit VAs).
 */
import type { KernelContext } from '../context.js';
import type { KObject } from '../object/kobject.js';
import { detectThreadSize, registerArch, type AddressSpace, type Arch, type RegisterSet, type StartRegisters } from './arch.js';
import { unwindArm64 } from './arm64/unwind.js';

/**
 * Documentation/arch/arm64/memory.rst: since v5.4 ("arm64: mm: Flip kernel VA space") the kernel
 * half starts at PAGE_OFFSET = -(1 << VA_BITS), the linear map; user space ends at 1 << VA_BITS
 * (TTBR0 covers as many bits as TTBR1 in the kernel's configuration).
 */
function addressSpace(vm: KernelContext): AddressSpace {
  const vaBits = vm.vmcoreinfo.number('VA_BITS') ?? 48n;
  const pageShift = BigInt(Math.log2(vm.pageSize));
  return {
    // ARM64_HW_PGTABLE_LEVELS(va_bits)
    levels: Number((vaBits - 4n) / (pageShift - 3n)),
    kernelStart: (1n << 64n) - (1n << vaBits),
    userEnd: 1n << vaBits,
  };
}

/** PRSTATUS's user_pt_regs names are pt_regs' own (x0..x30, sp, pc, pstate) */
function prstatusToPtRegs(regs: Record<string, bigint>): RegisterSet {
  return { ...regs };
}

function prstatusStart(regs: Record<string, bigint>): StartRegisters {
  return { pc: regs.pc ?? 0n, sp: regs.sp ?? 0n, bp: regs.x29 ?? 0n, regs: prstatusToPtRegs(regs), pcIsReturnAddress: false };
}

/**
 * A switched-out task: cpu_switch_to() saved x19..x28, fp, sp and lr (its return address into
 * __switch_to) in `thread.cpu_context` (arch/arm64/kernel/entry.S). A task that never ran
 * resumes at ret_from_fork itself: an exact pc, not a return address.
 */
function sleepingTaskStart(vm: KernelContext, task: KObject): { regs: StartRegisters; from: 'cpu_context' } {
  const c = task.member('thread.cpu_context').snapshot();
  const pc = c.member('pc').bigint();
  const fork = vm.symbols.lookup('ret_from_fork')?.address;
  return {
    regs: { pc, sp: c.member('sp').bigint(), bp: c.member('fp').bigint(), pcIsReturnAddress: pc !== fork },
    from: 'cpu_context',
  };
}

/** VMCOREINFO KERNELPACMASK (v5.7, "arm64: kexec: Export KERNELPACMASK"): 0 when the kernel signs no return addresses */
function pacMask(vm: KernelContext): bigint {
  return vm.vmcoreinfo.number('KERNELPACMASK') ?? 0n;
}

const PF_KTHREAD = 0x00200000n;

/**
 * THREAD_SIZE from kernel threads' own stacks, where no symbol or type gives it (a bare dump whose
 * kallsyms name no data): since v5.14 copy_thread() points a new thread's frame chain at the final
 * record in its pt_regs ("arm64: Implement stack trace termination record", 7d7b720a4b80), which
 * sits at stack + THREAD_SIZE - sizeof(pt_regs) + offsetof(pt_regs, stackframe). Each of the first
 * kernel threads' chains (fp only grows) must end there at one power-of-two size; else null.
 */
function threadSizeFromFinalRecords(vm: KernelContext): number | null {
  try {
    const t = vm.types;
    const tail = BigInt(t.sizeof('struct pt_regs') - t.offsetof('struct pt_regs', 'stackframe'));
    const tasksOff = BigInt(t.offsetof('struct task_struct', 'tasks'));
    const head = vm.address('init_task') + tasksOff;
    const sizes = new Set<bigint>();
    let seen = 0;
    for (let n = vm.mem.pointer(head), i = 0; n !== head && i < 64 && seen < 3; n = vm.mem.pointer(n), i++) {
      const task = vm.objectAt(n - tasksOff, 'struct task_struct');
      if (!(task.member('flags').bigint() & PF_KTHREAD)) continue;
      const stack = task.member('stack').pointer();
      let fp = task.member('thread.cpu_context.fp').bigint();
      let last = 0n;
      for (let k = 0; k < 256 && fp > last && fp >= stack && fp < stack + (1n << 20n); k++) {
        last = fp;
        fp = vm.mem.pointer(fp);
      }
      if (fp !== 0n || last === 0n) return null;
      sizes.add(last + tail - stack);
      seen++;
    }
    const [size] = sizes;
    const ok = seen > 0 && sizes.size === 1 && size >= BigInt(vm.pageSize) && size <= 1n << 20n && (size & (size - 1n)) === 0n;
    return ok ? Number(size) : null;
  } catch {
    return null;
  }
}

export const arm64: Arch = {
  name: 'aarch64',
  addressSpace,
  // THREAD_SHIFT is 14 (16 KiB), 15 with KASAN, and at least PAGE_SHIFT with VMAP_STACK (64 KiB pages)
  threadSize: (vm) => detectThreadSize(vm, { bytes: Math.max(0x4000, vm.pageSize), why: 'arm64 default (MIN_THREAD_SHIFT 14, at least a page)' }, () => {
    const bytes = threadSizeFromFinalRecords(vm);
    return bytes === null ? null : { bytes, source: 'kernel threads\' final frame records (task_pt_regs(task)->stackframe) − task->stack' };
  }),
  prstatusToPtRegs,
  prstatusStart,
  sleepingTaskStart,
  unwind: (vm, start, opts = {}) => unwindArm64(vm, { space: addressSpace(vm), threadSize: BigInt(arm64.threadSize(vm).bytes), pacMask: pacMask(vm) }, start, opts),
};

registerArch(arm64);
