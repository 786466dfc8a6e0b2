/**
 * The architecture seam, like drgn's `arch_*`: everything that differs between CPU architectures
 * (the kernel's address ranges, THREAD_SIZE, pt_regs and PRSTATUS register layouts, how a stack
 * is unwound, where a sleeping task's registers are, the TLB/ASID state) lives in one module per
 * architecture (`src/arch/x86_64.ts`, ...) behind the `Arch` interface. The kernel model asks
 * `archOf(vm)` and never assumes one architecture itself.
 */
import type { KernelContext } from '../context.js';
import type { KObject } from '../object/kobject.js';
import { UnsupportedFormatError } from '../dump/errors.js';

// ---------------------------------------------------------------------------------------------
// Stack frames: what an unwinder produces (the kernel model's stack/ adds tasks and inlines)

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

/** Registers by pt_regs member name (ip, sp, bp, di, dx, r10, r13, cs, flags... on x86_64). */
export type RegisterSet = Partial<Record<string, bigint>>;

export interface StartRegisters {
  pc: bigint;
  sp: bigint;
  /** the frame pointer register (rbp on x86_64) */
  bp: bigint;
  /** every register known at the start (PRSTATUS has them all) */
  regs?: RegisterSet;
  /** pc is a return address (inactive_task_frame.ret_addr): look it up at pc - 1 */
  pcIsReturnAddress: boolean;
}

export interface UnwindOptions {
  /** [low, high) of the task's own stack, to stop at its top and bound scans */
  taskStack?: { low: bigint; high: bigint };
  maxFrames?: number;
}

export interface UnwindResult { frames: StackFrame[]; stoppedBecause: string }

// ---------------------------------------------------------------------------------------------
// Address space, THREAD_SIZE, TLB

/** The kernel and user halves of the virtual address space, for the paging mode the dump uses. */
export interface AddressSpace {
  /** page-table levels (4 or 5 on x86_64) */
  levels: number;
  /** lowest kernel virtual address: anything below is user space or non-canonical */
  kernelStart: bigint;
  /** one past the highest user virtual address */
  userEnd: bigint;
}

export interface ThreadSize {
  bytes: number;
  /** how it was found (symbols, a type's size, or the architecture default) */
  source: string;
}

/** One ASID slot of a CPU's TLB (x86: cpu_tlbstate.ctxs[]). */
export interface TlbContext { asid: number; ctxId: bigint; tlbGen: bigint }

/** A CPU's TLB state as the architecture keeps it. */
export interface ArchTlbCpu {
  loadedMm: bigint;
  loadedMmAsid: number;
  nextAsid: number | null;
  invalidateOther: boolean | null;
  cr4: bigint | null;
  ctxs: TlbContext[];
  isLazy: boolean;
  /** where is_lazy was read */
  isLazySource: string;
}

/** The TLB/ASID view (`cpuinfo -t`): per-CPU state, and the mm's own generation. */
export interface ArchTlb {
  /** how many dynamic ASID slots a CPU has */
  nrDynAsids(vm: KernelContext): number;
  /** the CPU supports process-context identifiers (x86 PCID), null when unknown */
  pcid(vm: KernelContext): boolean | null;
  cpuState(vm: KernelContext, cpu: number): ArchTlbCpu;
  /** the mm's own context id and TLB generation */
  mmContext(vm: KernelContext, mm: KObject): { ctxId: bigint; tlbGen: bigint };
}

export interface Arch {
  /** the name the dump's ELF machine and `uname -m` use */
  readonly name: string;
  addressSpace(vm: KernelContext): AddressSpace;
  threadSize(vm: KernelContext): ThreadSize;
  /** PRSTATUS register names (rip, rsp, eflags...) as pt_regs member names (ip, sp, flags...) */
  prstatusToPtRegs(regs: Record<string, bigint>): RegisterSet;
  /** where an unwind of a CPU starts, from its PRSTATUS note's registers */
  prstatusStart(regs: Record<string, bigint>): StartRegisters;
  /**
   * where an unwind of a sleeping (switched-out) task starts, and the saved frame it came from
   * (x86_64: 'inactive_task_frame'); throws when unreadable
   */
  sleepingTaskStart(vm: KernelContext, task: KObject): { regs: StartRegisters; from: 'inactive_task_frame' | 'cpu_context' };
  /** unwind a kernel stack from the given registers */
  unwind(vm: KernelContext, start: StartRegisters, opts?: UnwindOptions): UnwindResult;
  /** the TLB/ASID view, where the architecture has one the model reads */
  readonly tlb?: ArchTlb;
}

const registry = new Map<string, Arch>();

/** Make an architecture known to archOf() (each src/arch/<name>.ts registers itself). */
export function registerArch(arch: Arch): void {
  registry.set(arch.name, arch);
}

/** Every registered architecture's name. */
export function knownArchs(): string[] {
  return [...registry.keys()];
}

/** The dump's architecture, as the native reader found it in the dump's headers. */
export function archOf(vm: KernelContext): Arch {
  const name = vm.machine;
  const a = registry.get(name);
  if (!a) throw new UnsupportedFormatError(`architecture '${name || 'unknown'}' is not supported (known: ${knownArchs().join(', ')})`);
  return a;
}

/** Is `a` in the kernel half of the dump's address space (a plausible kernel pointer)? */
export function isKernelAddress(vm: KernelContext, a: bigint): boolean {
  return a >= vm.cache('arch.kernelStart', () => archOf(vm).addressSpace(vm).kernelStart);
}

/** [start, end) between two of the image's linker symbols, null when the symbols lack either */
function imageRange(vm: KernelContext, from: string, to: string): { start: bigint; end: bigint } | null {
  return vm.cache(`arch.image.${from}.${to}`, () => {
    const start = vm.symbols.lookup(from)?.address;
    const end = vm.symbols.lookup(to)?.address;
    return start !== undefined && end !== undefined && start < end ? { start, end } : null;
  });
}

/** `a` lies in the kernel image's text, [_stext, _etext) */
export function isImageText(vm: KernelContext, a: bigint): boolean {
  const t = imageRange(vm, '_stext', '_etext');
  return t !== null && a >= t.start && a < t.end;
}

/**
 * `a` lies in the kernel image's text or read-only data, [_stext, __end_rodata) (the generic
 * linker script's RO_DATA ends at __end_rodata; ro_after_init data lies inside it): memory the
 * running kernel never writes, so no list it links at run time (a lock's wait_list) passes there
 */
export function isImageReadOnly(vm: KernelContext, a: bigint): boolean {
  const r = imageRange(vm, '_stext', '__end_rodata');
  return r !== null ? a >= r.start && a < r.end : isImageText(vm, a);
}

/**
 * THREAD_SIZE, the same way on every architecture: the linker script puts init_stack
 * (= __start_init_task) THREAD_SIZE below __end_init_task; else the size of `union
 * thread_union`; else the architecture's default (`fallback`), said so in `source`.
 */
export function detectThreadSize(vm: KernelContext, fallback: { bytes: number; why: string }, derive?: () => ThreadSize | null): ThreadSize {
  return vm.cache('arch.threadSize', (): ThreadSize => {
    let ts: ThreadSize;
    const start = vm.symbols.lookup('__start_init_task') ?? vm.symbols.lookup('init_stack');
    const end = vm.symbols.lookup('__end_init_task');
    const span = start && end ? Number(end.address - start.address) : 0;
    if (span >= 4096 && span <= 1 << 20 && (span & (span - 1)) === 0) ts = { bytes: span, source: '__end_init_task − __start_init_task' };
    else {
      const tu = vm.types.findType('union thread_union');
      if (tu !== null) ts = { bytes: vm.types.sizeof(tu), source: 'sizeof(union thread_union)' };
      else ts = derive?.() ?? { bytes: fallback.bytes, source: `assumed: ${fallback.why} (no init stack symbols or thread_union type)` };
    }
    return ts;
  });
}
