/**
 * TLB state per CPU: the mm loaded (CR3 on x86), its ASID slot's ctx_id/tlb_gen against the mm's
 * own context (a slot behind the mm's generation has a flush pending), lazy-TLB mode, and which
 * task owns the mm. The per-CPU and per-mm state is the architecture's (src/arch: `tlb`); who
 * uses the mm, and what deserves a look, is decided here.
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { archOf, type ArchTlb, type TlbContext } from '../../arch/index.js';
import { VaatError } from '../../dump/errors.js';
import { cpuMask } from '../cpu.js';
import { PF_EXITING, listTasks, taskAt } from '../tasks.js';

export type { TlbContext } from '../../arch/index.js';

export interface TlbTask { pid: number; comm: string; task: bigint }

export type TlbFlag = 'flush-pending' | 'slot-mismatch' | 'lazy-on-exited-mm';

export interface CpuTlbState {
  cpu: number;
  loadedMm: bigint;
  isInitMm: boolean;
  loadedMmAsid: number;
  nextAsid: number | null;
  /** invalidate_other (v4.19+), null when absent */
  invalidateOther: boolean | null;
  /** cpu_tlbstate.cr4 shadow, null when absent */
  cr4: bigint | null;
  /** the dynamic ASID slots (TLB_NR_DYN_ASIDS of them) */
  ctxs: TlbContext[];
  isLazy: boolean;
  /** where is_lazy was read (x86: cpu_tlbstate_shared since v5.13, cpu_tlbstate before) */
  isLazySource: string;
  mmCtxId: bigint;
  mmTlbGen: bigint;
  mmUsers: number;
  /** mm->owner (CONFIG_MEMCG), else the first task whose ->mm it is */
  owner: TlbTask | null;
  ownerSource: 'mm->owner' | 'task->mm';
  /** the owner is exiting or gone (PF_EXITING, exit_state, or no task has the mm) */
  ownerExited: boolean;
  tasksWithMm: TlbTask[];
  /** tasks borrowing the mm as active_mm (kernel threads, lazy TLB) */
  tasksWithActiveMmOnly: TlbTask[];
  rqCurr: TlbTask & { mm: bigint; activeMm: bigint };
  /** the loaded ASID slot holds this mm's ctx_id */
  slotMatchesMm: boolean;
  /** that slot's tlb_gen has caught up with the mm's */
  slotTlbGenCurrent: boolean;
  flags: { flag: TlbFlag; reason: string }[];
}

export interface TlbSummary {
  /** the dynamic ASID slots per CPU (x86 TLB_NR_DYN_ASIDS: the length of cpu_tlbstate.ctxs[]) */
  nrDynAsids: number;
  /** X86_FEATURE_PCID (word 4 bit 17) in boot_cpu_data */
  pcid: boolean | null;
  cpus: CpuTlbState[];
}

function atomic64(o: KObject): bigint {
  return o.hasMember('counter') ? o.member('counter').bigint() : o.bigint();
}

function archTlb(vm: KernelContext): ArchTlb {
  const a = archOf(vm);
  if (!a.tlb) throw new VaatError(`the TLB state of ${a.name} is not read`);
  return a.tlb;
}

interface MmTasks { withMm: Map<bigint, TlbTask[]>; activeOnly: Map<bigint, TlbTask[]> }

/** every task's mm and active_mm, indexed by mm (one pass over the task list) */
function mmIndex(vm: KernelContext): MmTasks {
  const mmOff = BigInt(vm.types.offsetof('struct task_struct', 'mm'));
  const amOff = BigInt(vm.types.offsetof('struct task_struct', 'active_mm'));
  const withMm = new Map<bigint, TlbTask[]>();
  const activeOnly = new Map<bigint, TlbTask[]>();
  const push = (m: Map<bigint, TlbTask[]>, k: bigint, t: TlbTask) => { const l = m.get(k) ?? []; l.push(t); m.set(k, l); };
  for (const t of listTasks(vm)) {
    const mm = vm.mem.pointer(t.address + mmOff);
    const am = vm.mem.pointer(t.address + amOff);
    const tt = { pid: t.pid, comm: t.comm, task: t.address };
    if (mm !== 0n) push(withMm, mm, tt);
    if (am !== 0n && am !== mm) push(activeOnly, am, tt);
  }
  return { withMm, activeOnly };
}

function taskExiting(vm: KernelContext, task: bigint): boolean {
  const t = vm.objectAt(task, 'struct task_struct');
  return (t.member('flags').number() & PF_EXITING) !== 0 || t.member('exit_state').number() !== 0;
}

/**
 * Why a CPU's TLB state deserves a look: its loaded ASID slot belongs to another mm, its slot's
 * tlb_gen lags the mm's (flush_tlb_mm_range() bumped the mm's generation and this CPU had not yet
 * flushed), or it sits lazily on an mm whose owner is exiting or gone.
 */
export function tlbFlags(s: {
  asid: number; slot: TlbContext | undefined; mmCtxId: bigint; mmTlbGen: bigint;
  isLazy: boolean; ownerExited: boolean; owner: TlbTask | null; mmUsers: number;
}): { flag: TlbFlag; reason: string }[] {
  const flags: { flag: TlbFlag; reason: string }[] = [];
  if (s.slot && s.slot.ctxId !== s.mmCtxId) flags.push({ flag: 'slot-mismatch', reason: `ASID ${s.asid} holds ctx_id ${s.slot.ctxId}, the loaded mm's is ${s.mmCtxId}` });
  else if (s.slot && s.slot.tlbGen < s.mmTlbGen) flags.push({ flag: 'flush-pending', reason: `ASID ${s.asid} tlb_gen ${s.slot.tlbGen} lags the mm's ${s.mmTlbGen}: a flush was pending on this CPU` });
  if (s.isLazy && s.ownerExited) flags.push({ flag: 'lazy-on-exited-mm', reason: `lazy TLB on an mm whose owner ${s.owner ? `${s.owner.pid} ${s.owner.comm} is exiting` : 'is gone'} (mm_users ${s.mmUsers})` });
  return flags;
}

/** the CPU supports process-context identifiers (X86_FEATURE_PCID on x86), null when unknown */
export function hasPcid(vm: KernelContext): boolean | null {
  return archTlb(vm).pcid(vm);
}

/** one CPU's TLB state; `index` is the task/mm index (built once by cpuTlbStates) */
export function cpuTlbState(vm: KernelContext, cpu: number, index: MmTasks = mmIndex(vm)): CpuTlbState {
  const tlb = archTlb(vm);
  const state = tlb.cpuState(vm, cpu);
  const { loadedMm, ctxs, isLazy } = state;
  const asid = state.loadedMmAsid;

  const initMm = vm.address('init_mm');
  const mm = vm.objectAt(loadedMm, 'struct mm_struct');
  const { ctxId: mmCtxId, tlbGen: mmTlbGen } = tlb.mmContext(vm, mm);
  const mmUsers = atomic64(mm.member('mm_users'));

  const tasksWithMm = index.withMm.get(loadedMm) ?? [];
  let owner: TlbTask | null = null;
  const ownerSource = mm.hasMember('owner') ? 'mm->owner' as const : 'task->mm' as const;
  if (ownerSource === 'mm->owner') {
    const o = mm.member('owner').pointer();
    if (o !== 0n) { const t = taskAt(vm, o); owner = { pid: t.pid, comm: t.comm, task: o }; }
  } else owner = tasksWithMm[0] ?? null;
  const isInitMm = loadedMm === initMm;
  const ownerExited = !isInitMm && (owner === null || taskExiting(vm, owner.task) || mmUsers === 0n || tasksWithMm.length === 0);

  const rq = vm.perCpu('runqueues', cpu);
  const curr = rq.member('curr').pointer();
  const ct = taskAt(vm, curr);
  const cobj = vm.objectAt(curr, 'struct task_struct');

  const slot = ctxs[asid];
  const slotMatchesMm = slot ? slot.ctxId === mmCtxId : true;
  const slotTlbGenCurrent = slot ? slot.tlbGen >= mmTlbGen : true;
  const flags = tlbFlags({ asid, slot, mmCtxId, mmTlbGen, isLazy, ownerExited, owner, mmUsers: Number(mmUsers) });

  return {
    cpu,
    loadedMm,
    isInitMm,
    loadedMmAsid: asid,
    nextAsid: state.nextAsid,
    invalidateOther: state.invalidateOther,
    cr4: state.cr4,
    ctxs,
    isLazy,
    isLazySource: state.isLazySource,
    mmCtxId,
    mmTlbGen,
    mmUsers: Number(mmUsers),
    owner,
    ownerSource,
    ownerExited,
    tasksWithMm,
    tasksWithActiveMmOnly: index.activeOnly.get(loadedMm) ?? [],
    rqCurr: { pid: ct.pid, comm: ct.comm, task: curr, mm: cobj.member('mm').pointer(), activeMm: cobj.member('active_mm').pointer() },
    slotMatchesMm,
    slotTlbGenCurrent,
    flags,
  };
}

/** every possible CPU's TLB state */
export function cpuTlbStates(vm: KernelContext): TlbSummary {
  const index = mmIndex(vm);
  const cpus = cpuMask(vm, 'possible').map((cpu) => cpuTlbState(vm, cpu, index));
  return { nrDynAsids: archTlb(vm).nrDynAsids(vm), pcid: hasPcid(vm), cpus };
}
