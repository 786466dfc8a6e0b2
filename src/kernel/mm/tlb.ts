/**
 * x86 TLB state per CPU (arch/x86/include/asm/tlbflush.h, arch/x86/mm/tlb.c): the mm loaded in
 * CR3, its ASID slot's ctx_id/tlb_gen against the mm's own context.ctx_id/tlb_gen (a slot behind
 * the mm's generation has a flush pending), lazy-TLB mode, and which task owns the mm.
 */
import type { Vmcore } from '../../vmcore.js';
import type { KObject } from '../../object/kobject.js';
import { cpuMask } from '../cpu.js';
import { listTasks, taskAt } from '../tasks.js';

export interface TlbContext { asid: number; ctxId: bigint; tlbGen: bigint }

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
  /** where is_lazy was read: cpu_tlbstate_shared since v5.13, cpu_tlbstate before */
  isLazySource: 'cpu_tlbstate_shared.is_lazy' | 'cpu_tlbstate.is_lazy';
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
  /** TLB_NR_DYN_ASIDS: the length of cpu_tlbstate.ctxs[] */
  nrDynAsids: number;
  /** X86_FEATURE_PCID (word 4 bit 17) in boot_cpu_data */
  pcid: boolean | null;
  cpus: CpuTlbState[];
}

/** PF_EXITING, include/linux/sched.h */
const PF_EXITING = 0x4;
/** X86_FEATURE_PCID = 4*32+17, arch/x86/include/asm/cpufeatures.h */
const PCID_WORD = 4;
const PCID_BIT = 17;

function atomic64(o: KObject): bigint {
  return o.hasMember('counter') ? o.member('counter').bigint() : o.bigint();
}

interface MmTasks { withMm: Map<bigint, TlbTask[]>; activeOnly: Map<bigint, TlbTask[]> }

/** every task's mm and active_mm, indexed by mm (one pass over the task list) */
function mmIndex(vm: Vmcore): MmTasks {
  const mmOff = BigInt(vm.types.offsetof('struct task_struct', 'mm'));
  const amOff = BigInt(vm.types.offsetof('struct task_struct', 'active_mm'));
  const withMm = new Map<bigint, TlbTask[]>();
  const activeOnly = new Map<bigint, TlbTask[]>();
  const push = (m: Map<bigint, TlbTask[]>, k: bigint, t: TlbTask) => { const l = m.get(k) ?? []; l.push(t); m.set(k, l); };
  for (const t of listTasks(vm)) {
    const mm = vm.dump.pointer(t.address + mmOff);
    const am = vm.dump.pointer(t.address + amOff);
    const tt = { pid: t.pid, comm: t.comm, task: t.address };
    if (mm !== 0n) push(withMm, mm, tt);
    if (am !== 0n && am !== mm) push(activeOnly, am, tt);
  }
  return { withMm, activeOnly };
}

function taskExiting(vm: Vmcore, task: bigint): boolean {
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

/** X86_FEATURE_PCID in boot_cpu_data.x86_capability */
export function hasPcid(vm: Vmcore): boolean | null {
  try {
    const w = vm.object('boot_cpu_data', 'struct cpuinfo_x86').member('x86_capability').index(PCID_WORD).number();
    return ((w >>> PCID_BIT) & 1) === 1;
  } catch { return null; }
}

/** one CPU's TLB state; `index` is the task/mm index (built once by cpuTlbStates) */
export function cpuTlbState(vm: Vmcore, cpu: number, index: MmTasks = mmIndex(vm)): CpuTlbState {
  const tlb = vm.perCpu('cpu_tlbstate', cpu, 'struct tlb_state').snapshot();
  const loadedMm = tlb.member('loaded_mm').pointer();
  const asid = tlb.member('loaded_mm_asid').number();
  const ctxs: TlbContext[] = [];
  if (tlb.hasMember('ctxs')) {
    const arr = tlb.member('ctxs');
    const t = vm.types.resolved(arr.type);
    const n = t.kind === 'array' ? t.length : 0;
    for (let i = 0; i < n; i++) ctxs.push({ asid: i, ctxId: arr.index(i).member('ctx_id').bigint(), tlbGen: arr.index(i).member('tlb_gen').bigint() });
  }
  // "x86/mm/tlb: Privatize cpu_tlbstate" (v5.13) moved is_lazy into cpu_tlbstate_shared
  const shared = !tlb.hasMember('is_lazy');
  const isLazy = shared ? vm.perCpu('cpu_tlbstate_shared', cpu, 'struct tlb_state_shared').member('is_lazy').bool() : tlb.member('is_lazy').bool();

  const initMm = vm.address('init_mm');
  const mm = vm.objectAt(loadedMm, 'struct mm_struct');
  const mmCtxId = mm.member('context.ctx_id').bigint();
  const mmTlbGen = atomic64(mm.member('context.tlb_gen'));
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
    nextAsid: tlb.hasMember('next_asid') ? tlb.member('next_asid').number() : null,
    invalidateOther: tlb.hasMember('invalidate_other') ? tlb.member('invalidate_other').bool() : null,
    cr4: tlb.hasMember('cr4') ? tlb.member('cr4').bigint() : null,
    ctxs,
    isLazy,
    isLazySource: shared ? 'cpu_tlbstate_shared.is_lazy' : 'cpu_tlbstate.is_lazy',
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
export function cpuTlbStates(vm: Vmcore): TlbSummary {
  const index = mmIndex(vm);
  const cpus = cpuMask(vm, 'possible').map((cpu) => cpuTlbState(vm, cpu, index));
  const t = vm.types.resolved(vm.types.memberPath('struct tlb_state', 'ctxs').type);
  return { nrDynAsids: t.kind === 'array' ? t.length : 0, pcid: hasPcid(vm), cpus };
}
