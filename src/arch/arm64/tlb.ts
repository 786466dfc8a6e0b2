/**
 * arm64's TLB view (`cpuinfo -t`): ASIDs are allocated globally, not in per-CPU slots
 * (arch/arm64/mm/context.c). Each mm's `context.id` is generation << asid_bits | ASID; each CPU's
 * per-CPU `active_asids` holds the id it runs with (0 while a rollover is in progress) and
 * `reserved_asids` the one kept across a rollover. What a CPU runs is rq->curr's active_mm;
 * TTBR0_EL1 then holds that mm's pgd (physical) with the ASID in bits 63:48.
 */
import type { KernelContext } from '../../context.js';

export interface Arm64TlbCpu {
  cpu: number;
  activeAsidRaw: bigint;
  activeAsid: number;
  activeGeneration: bigint;
  reservedAsidRaw: bigint;
  reservedAsid: number;
  curr: { pid: number; comm: string; task: bigint; mm: bigint; activeMm: bigint };
  /** rq->curr->active_mm is init_mm; null when init_mm's address is not known */
  activeMmIsInitMm: boolean | null;
  /** active_mm->context.id */
  mmContextId: bigint;
  mmAsid: number;
  mmGeneration: bigint;
  /** the CPU's active_asids holds the active_mm's id */
  activeAsidMatchesMm: boolean;
  /** mm->owner (CONFIG_MEMCG) of the active_mm, else null */
  owner: { pid: number; comm: string; task: bigint } | null;
  /** TTBR0_EL1 as switch_mm() set it: the pgd's physical address | ASID << 48; null when the pgd is not mapped */
  ttbr0: bigint | null;
}

export interface Arm64Tlb {
  asidBits: number;
  /** where asid_bits came from */
  asidBitsSource: string;
  cpus: Arm64TlbCpu[];
}

const ASID_SHIFT = 48n;

/** asid_bits: the variable where known, else the bit the per-CPU ids' common generation starts at */
function asidBits(vm: KernelContext, ids: bigint[]): { bits: number; source: string } {
  try {
    return { bits: vm.object('asid_bits', 'unsigned int').number(), source: 'asid_bits' };
  } catch { /* bare kernels name no data symbols: infer below */ }
  const live = ids.filter((v) => v !== 0n);
  for (const b of [16, 8]) {
    const gens = new Set(live.map((v) => v >> BigInt(b)));
    if (live.length && gens.size === 1 && [...gens][0] >= 1n) return { bits: b, source: `inferred: the CPUs' active ids share generation ${[...gens][0]} above bit ${b}` };
  }
  return { bits: 16, source: 'assumed: 16 (no asid_bits, no live ids to infer it from)' };
}

export function arm64Tlb(vm: KernelContext, cpus: number[]): Arm64Tlb {
  const active = cpus.map((cpu) => vm.perCpu('active_asids', cpu, 'atomic64_t').member('counter').bigint());
  const reserved = cpus.map((cpu) => vm.perCpu('reserved_asids', cpu, 'u64').bigint());
  const { bits, source } = asidBits(vm, active);
  const mask = (1n << BigInt(bits)) - 1n;
  let initMm: bigint | undefined;
  try { initMm = vm.address('init_mm'); } catch { /* unknown on a bare kernel without data symbols */ }
  const rows = cpus.map((cpu, i): Arm64TlbCpu => {
    const curr = vm.perCpu('runqueues', cpu).member('curr').deref();
    const mm = curr.member('mm').pointer();
    const activeMm = curr.member('active_mm').pointer();
    const m = vm.objectAt(activeMm, 'struct mm_struct');
    const id = m.member('context.id').member('counter').bigint();
    let owner: Arm64TlbCpu['owner'] = null;
    if (m.hasMember('owner')) {
      const o = m.member('owner').pointer();
      if (o !== 0n) {
        const t = vm.objectAt(o, 'struct task_struct');
        owner = { pid: t.member('pid').number(), comm: t.member('comm').string(), task: o };
      }
    }
    let ttbr0: bigint | null = null;
    try { ttbr0 = vm.mem.virtToPhys(m.member('pgd').pointer()) | ((id & mask) << ASID_SHIFT); } catch { /* pgd not mapped */ }
    return {
      cpu,
      activeAsidRaw: active[i],
      activeAsid: Number(active[i] & mask),
      activeGeneration: active[i] >> BigInt(bits),
      reservedAsidRaw: reserved[i],
      reservedAsid: Number(reserved[i] & mask),
      curr: { pid: curr.member('pid').number(), comm: curr.member('comm').string(), task: curr.address, mm, activeMm },
      activeMmIsInitMm: initMm === undefined ? null : activeMm === initMm,
      mmContextId: id,
      mmAsid: Number(id & mask),
      mmGeneration: id >> BigInt(bits),
      activeAsidMatchesMm: active[i] === id,
      owner,
      ttbr0,
    };
  });
  return { asidBits: bits, asidBitsSource: source, cpus: rows };
}
