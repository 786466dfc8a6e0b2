/**
 * CPUs as the scheduler sees them: nr_cpu_ids, the possible/online/present/active masks and each
 * CPU's runqueue (current and idle task). Names follow the kernel (and drgn's helpers).
 */
import type { KernelContext } from '../context.js';
import { cpumaskToList } from '../object/helpers.js';

export type CpuMaskName = 'possible' | 'online' | 'present' | 'active';

export interface CpuState {
  cpu: number;
  online: boolean;
  /** rq->curr: the task running on this CPU (the idle task when nothing else runs) */
  curr: bigint;
  /** rq->idle: this CPU's idle task (swapper/N) */
  idle: bigint;
}

export interface CpuInfo {
  nrCpuIds: number;
  possible: number[];
  online: number[];
  present: number[];
  active: number[];
  cpus: CpuState[];
}

/** nr_cpu_ids: the bound every cpumask walk stops at */
export function nrCpuIds(vm: KernelContext): number {
  try {
    return vm.object('nr_cpu_ids', 'unsigned int').number();
  } catch {
    // !SMP kernels have no nr_cpu_ids variable (it is the constant 1); dumps still record a CPU count.
    return Math.max(1, vm.nrCpus);
  }
}

/** the CPUs in __cpu_<name>_mask ("cpumask: make cpu_*_mask names private", v4.5) */
export function cpuMask(vm: KernelContext, name: CpuMaskName): number[] {
  return cpumaskToList(vm.object(`__cpu_${name}_mask`, 'struct cpumask'), nrCpuIds(vm));
}

/** for_each_possible_cpu(): the CPUs cpu_possible_mask holds */
export function forEachPossibleCpu(vm: KernelContext): number[] { return cpuMask(vm, 'possible'); }
/** for_each_online_cpu(): the CPUs cpu_online_mask holds */
export function forEachOnlineCpu(vm: KernelContext): number[] { return cpuMask(vm, 'online'); }

/** cpu_rq(cpu)->curr */
export function cpuCurr(vm: KernelContext, cpu: number): bigint {
  return vm.perCpu('runqueues', cpu).member('curr').pointer();
}

/** cpu_rq(cpu)->idle */
export function cpuIdle(vm: KernelContext, cpu: number): bigint {
  return vm.perCpu('runqueues', cpu).member('idle').pointer();
}

/** every possible CPU's runqueue current and idle task, read with one snapshot per runqueue */
export function cpuInfo(vm: KernelContext): CpuInfo {
  const possible = cpuMask(vm, 'possible');
  const online = cpuMask(vm, 'online');
  const onlineSet = new Set(online);
  const cpus = possible.map((cpu) => {
    const rq = vm.perCpu('runqueues', cpu).snapshot();
    return { cpu, online: onlineSet.has(cpu), curr: rq.member('curr').pointer(), idle: rq.member('idle').pointer() };
  });
  return { nrCpuIds: nrCpuIds(vm), possible, online, present: cpuMask(vm, 'present'), active: cpuMask(vm, 'active'), cpus };
}
