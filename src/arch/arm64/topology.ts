/**
 * arm64 CPU topology as the kernel recorded it (`cpuinfo -i`): `cpu_topology[]` of the generic
 * arch_topology code (drivers/base/arch_topology.c: package, cluster, core and thread ids and the
 * sibling masks, from the device tree / ACPI PPTT or MPIDR), each CPU's MPIDR hardware id
 * (`__cpu_logical_map[]`), its MIDR (per-CPU `cpu_data.reg_midr`) and NUMA node.
 */
import type { KernelContext } from '../../context.js';
import { cpumaskToList } from '../../object/helpers.js';

export interface Arm64CpuTopology {
  cpu: number;
  online: boolean;
  present: boolean;
  packageId: number;
  clusterId: number;
  coreId: number;
  /** -1 when the CPU has no SMT threads */
  threadId: number;
  /** cpu_topology[].llc_id where the kernel has it (v5.8+ ... not every version), else null */
  llcId: number | null;
  /** MPIDR_EL1 affinity (the hardware id), null when __cpu_logical_map is unknown */
  mpidr: bigint | null;
  /** MIDR_EL1 (implementer, part, revision), null when cpu_data is unknown */
  midr: bigint | null;
  numaNode: number;
  smtSiblings: number[];
  coreSiblings: number[];
  clusterSiblings: number[] | null;
  llcSiblings: number[] | null;
}

export function arm64Topology(vm: KernelContext, cpus: number[], nrCpuIds: number, online: Set<number>, present: Set<number>): Arm64CpuTopology[] {
  const topo = vm.object('cpu_topology', 'struct cpu_topology');
  const maybe = <T>(f: () => T): T | null => { try { return f(); } catch { return null; } };
  return cpus.map((cpu) => {
    const t = vm.objectAt(topo.address + BigInt(cpu * vm.types.sizeof('struct cpu_topology')), 'struct cpu_topology').snapshot();
    const mask = (m: string) => (t.hasMember(m) ? cpumaskToList(t.member(m), nrCpuIds) : null);
    return {
      cpu,
      online: online.has(cpu),
      present: present.has(cpu),
      packageId: t.member('package_id').number(),
      clusterId: t.hasMember('cluster_id') ? t.member('cluster_id').number() : -1,
      coreId: t.member('core_id').number(),
      threadId: t.member('thread_id').number(),
      llcId: t.hasMember('llc_id') ? t.member('llc_id').number() : null,
      mpidr: maybe(() => vm.mem.u64(vm.address('__cpu_logical_map') + BigInt(cpu * 8))),
      midr: maybe(() => vm.perCpu('cpu_data', cpu, 'struct cpuinfo_arm64').member('reg_midr').bigint()),
      numaNode: maybe(() => vm.perCpu('numa_node', cpu, 'int').number()) ?? 0,
      smtSiblings: mask('thread_sibling') ?? [cpu],
      coreSiblings: mask('core_sibling') ?? [cpu],
      clusterSiblings: mask('cluster_sibling'),
      llcSiblings: mask('llc_sibling'),
    };
  });
}
