/**
 * x86_64: the address space for 4- and 5-level paging, THREAD_SIZE, the pt_regs and PRSTATUS
 * register layouts, the switch frame of a sleeping task, the ORC unwinder and the TLB/ASID state
 * (cpu_tlbstate). The page-table walk itself is native (native/vaat_backend.cc, 4 or 5 levels from
 * VMCOREINFO's `NUMBER(pgtable_l5_enabled)`).
 */
import type { KernelContext } from '../context.js';
import type { KObject } from '../object/kobject.js';
import { detectThreadSize, registerArch, type AddressSpace, type Arch, type ArchTlb, type ArchTlbCpu, type RegisterSet, type StartRegisters, type TlbContext } from './arch.js';
import { unwindX86 } from './x86_64/unwind.js';

/**
 * Documentation/arch/x86/x86_64/mm.rst: with 4-level paging user space ends at 128 TiB and the
 * kernel half starts at 0xffff800000000000; with 5-level paging (LA57) user space ends at 64 PiB
 * and the kernel half starts at 0xff00000000000000.
 */
const FOUR_LEVEL: AddressSpace = { levels: 4, userEnd: 0x0000_8000_0000_0000n, kernelStart: 0xffff_8000_0000_0000n };
const FIVE_LEVEL: AddressSpace = { levels: 5, userEnd: 0x0100_0000_0000_0000n, kernelStart: 0xff00_0000_0000_0000n };

function addressSpace(vm: KernelContext): AddressSpace {
  // VMCOREINFO has exported pgtable_l5_enabled since "x86/kexec: Export pgtable_l5_enabled"
  // (v4.17); its absence means 4-level paging
  return vm.vmcoreinfo.number('pgtable_l5_enabled') === 1n ? FIVE_LEVEL : FOUR_LEVEL;
}

/** PRSTATUS register names (rip, rsp, eflags, orig_rax...) as pt_regs member names (ip, sp, flags, orig_ax...) */
function prstatusToPtRegs(regs: Record<string, bigint>): RegisterSet {
  const out: RegisterSet = {};
  for (const [k, v] of Object.entries(regs)) {
    if (k === 'eflags') out.flags = v;
    else if (k === 'orig_rax') out.orig_ax = v;
    else if (/^r(ax|bx|cx|dx|si|di|bp|sp|ip)$/.test(k)) out[k.slice(1)] = v;
    else out[k] = v;
  }
  return out;
}

function prstatusStart(regs: Record<string, bigint>): StartRegisters {
  return { pc: regs.rip ?? 0n, sp: regs.rsp ?? 0n, bp: regs.rbp ?? 0n, regs: prstatusToPtRegs(regs), pcIsReturnAddress: false };
}

/**
 * A switched-out task: __switch_to_asm pushed a `struct inactive_task_frame` (callee-saved
 * registers, then the return address) and saved its address in `thread.sp`.
 */
function sleepingTaskStart(vm: KernelContext, task: KObject): { regs: StartRegisters; from: 'inactive_task_frame' } {
  const sp = task.member('thread.sp').bigint();
  const frame = vm.objectAt(sp, 'struct inactive_task_frame').snapshot();
  const retAddr = frame.member('ret_addr').bigint();
  // a task that never ran resumes at ret_from_fork itself: an exact pc, not a return address
  const fork = vm.symbols.lookup('ret_from_fork')?.address ?? vm.symbols.lookup('ret_from_fork_asm')?.address;
  return {
    regs: { pc: retAddr, sp: sp + BigInt(frame.size), bp: frame.member('bp').bigint(), pcIsReturnAddress: retAddr !== fork },
    from: 'inactive_task_frame',
  };
}

// ---------------------------------------------------------------------------------------------
// TLB (arch/x86/include/asm/tlbflush.h, arch/x86/mm/tlb.c)

/** X86_FEATURE_PCID = 4*32+17, arch/x86/include/asm/cpufeatures.h */
const PCID_WORD = 4;
const PCID_BIT = 17;

function atomic64(o: KObject): bigint {
  return o.hasMember('counter') ? o.member('counter').bigint() : o.bigint();
}

const tlb: ArchTlb = {
  nrDynAsids(vm) {
    const t = vm.types.resolved(vm.types.memberPath('struct tlb_state', 'ctxs').type);
    return t.kind === 'array' ? t.length : 0;
  },

  pcid(vm) {
    try {
      const w = vm.object('boot_cpu_data', 'struct cpuinfo_x86').member('x86_capability').index(PCID_WORD).number();
      return ((w >>> PCID_BIT) & 1) === 1;
    } catch { return null; }
  },

  cpuState(vm, cpu): ArchTlbCpu {
    const t = vm.perCpu('cpu_tlbstate', cpu, 'struct tlb_state').snapshot();
    const ctxs: TlbContext[] = [];
    if (t.hasMember('ctxs')) {
      const arr = t.member('ctxs');
      const at = vm.types.resolved(arr.type);
      const n = at.kind === 'array' ? at.length : 0;
      for (let i = 0; i < n; i++) ctxs.push({ asid: i, ctxId: arr.index(i).member('ctx_id').bigint(), tlbGen: arr.index(i).member('tlb_gen').bigint() });
    }
    // 2f4305b19fe6 "x86/mm/tlb: Privatize cpu_tlbstate" (v5.13) moved is_lazy into cpu_tlbstate_shared
    const shared = !t.hasMember('is_lazy');
    return {
      loadedMm: t.member('loaded_mm').pointer(),
      loadedMmAsid: t.member('loaded_mm_asid').number(),
      nextAsid: t.hasMember('next_asid') ? t.member('next_asid').number() : null,
      invalidateOther: t.hasMember('invalidate_other') ? t.member('invalidate_other').bool() : null,
      cr4: t.hasMember('cr4') ? t.member('cr4').bigint() : null,
      ctxs,
      isLazy: shared ? vm.perCpu('cpu_tlbstate_shared', cpu, 'struct tlb_state_shared').member('is_lazy').bool() : t.member('is_lazy').bool(),
      isLazySource: shared ? 'cpu_tlbstate_shared.is_lazy' : 'cpu_tlbstate.is_lazy',
    };
  },

  mmContext(_vm, mm) {
    return { ctxId: mm.member('context.ctx_id').bigint(), tlbGen: atomic64(mm.member('context.tlb_gen')) };
  },
};

export const x86_64: Arch = {
  name: 'x86_64',
  addressSpace,
  // THREAD_SIZE_ORDER 2 (16 KiB), doubled by KASAN_STACK_ORDER under KASAN
  threadSize: (vm) => detectThreadSize(vm, vm.symbols.lookup('__asan_load8') !== undefined ? { bytes: 0x8000, why: 'x86_64 default ×2 for KASAN' } : { bytes: 0x4000, why: 'x86_64 default' }),
  prstatusToPtRegs,
  prstatusStart,
  sleepingTaskStart,
  unwind: (vm, start, opts = {}) => unwindX86(vm, { space: addressSpace(vm), threadSize: BigInt(x86_64.threadSize(vm).bytes) }, start, opts),
  tlb,
};

registerArch(x86_64);
