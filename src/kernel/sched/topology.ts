/**
 * x86 CPU topology as the kernel recorded it: per-CPU `cpu_info` (struct cpuinfo_x86) ids, the
 * sibling cpumasks built by set_cpu_sibling_map() (arch/x86/kernel/smpboot.c), the NUMA node of
 * each CPU, and the CPU masks. Field renames across 5.10–6.12 are resolved here.
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';
import { cpumaskToList } from '../../object/helpers.js';
import { cpuMask, nrCpuIds } from '../cpu.js';
import { globalType } from '../../types/well-known.js';

export interface CpuTopology {
  cpu: number;
  online: boolean;
  present: boolean;
  /** physical package (socket) id: phys_proc_id, topo.pkg_id in v6.7+ */
  packageId: number;
  logicalPackageId: number | null;
  dieId: number;
  logicalDieId: number | null;
  coreId: number;
  /** index of this CPU among its SMT siblings (0 for the first thread of a core) */
  thread: number;
  apicid: number;
  initialApicid: number;
  /** last-level-cache id (per-CPU cpu_llc_id; topo.llc_id on newer kernels), null when unknown */
  llcId: number | null;
  numaNode: number;
  smtSiblings: number[];
  coreSiblings: number[];
  /** cpu_die_map (v5.3+), null when absent */
  dieSiblings: number[] | null;
}

export interface TopologyGlobals {
  nrCpuIds: number;
  smpNumSiblings: number | null;
  maxLogicalPackages: number | null;
  maxSmtThreads: number | null;
  maxDiesPerPackage: number | null;
}

export interface Topology {
  possible: number[];
  present: number[];
  online: number[];
  active: number[];
  vendor: string | null;
  model: string | null;
  globals: TopologyGlobals;
  cpus: CpuTopology[];
  /** package id → core id → CPUs (threads) */
  matrix: { package: number; cores: { core: number; cpus: number[] }[] }[];
  smtActive: boolean;
}

/**
 * cpuinfo_x86 ids, newest name first: the series ending in "x86/cpu: Encapsulate topology
 * information in cpuinfo_x86" (v6.7) moved phys_proc_id, cpu_die_id, cpu_core_id, apicid and the
 * logical ids into `struct cpuinfo_topology topo` (logical_proc_id became topo.logical_pkg_id);
 * the per-CPU cpu_llc_id followed into topo.llc_id.
 */
const FIELDS = {
  packageId: ['topo.pkg_id', 'phys_proc_id'],
  logicalPackageId: ['topo.logical_pkg_id', 'logical_proc_id'],
  dieId: ['topo.die_id', 'cpu_die_id'],
  logicalDieId: ['topo.logical_die_id', 'logical_die_id'],
  coreId: ['topo.core_id', 'cpu_core_id'],
  apicid: ['topo.apicid', 'apicid'],
  initialApicid: ['topo.initial_apicid', 'initial_apicid'],
  llcId: ['topo.llc_id'],
} as const;

function field(info: KObject, paths: readonly string[]): number | null {
  const r = info.ctx.types.tryResolveMember(info.type, paths);
  return r ? info.member(r.path).number() : null;
}

/** cpumask_var_t: a pointer with CONFIG_CPUMASK_OFFSTACK, else a one-element array of cpumask */
function cpumaskVar(obj: KObject): KObject {
  return obj.kind === 'pointer' ? obj.deref() : obj.kind === 'array' ? obj.index(0) : obj;
}

/** a per-CPU variable this kernel has: a symbol with a type (debug info's, or its declaration) */
function hasPerCpu(vm: KernelContext, name: string): boolean {
  return globalType(vm.types, name) !== null && vm.symbols.lookup(name) !== undefined;
}

function perCpuMask(vm: KernelContext, name: string, cpu: number, n: number): number[] | null {
  if (!hasPerCpu(vm, name)) return null;
  try { return cpumaskToList(cpumaskVar(vm.perCpu(name, cpu)), n); } catch { return null; }
}

function perCpuInt(vm: KernelContext, name: string, cpu: number): number | null {
  if (!hasPerCpu(vm, name)) return null;
  try { return vm.perCpu(name, cpu).number(); } catch { return null; }
}

function globalInt(vm: KernelContext, name: string): number | null {
  if (!vm.symbols.lookup(name)) return null;
  try { return vm.object(name, 'int').number(); } catch { return null; }
}

/** cpu_to_node(): per-CPU numa_node (CONFIG_USE_PERCPU_NUMA_NODE_ID), else x86_cpu_to_node_map; 0 without NUMA */
export function cpuToNode(vm: KernelContext, cpu: number): number {
  return perCpuInt(vm, 'numa_node', cpu) ?? perCpuInt(vm, 'x86_cpu_to_node_map', cpu) ?? 0;
}

/** one CPU's topology from per-CPU cpu_info and the sibling maps */
export function cpuTopology(vm: KernelContext, cpu: number, masks?: { online: Set<number>; present: Set<number> }): CpuTopology {
  const n = nrCpuIds(vm);
  const info = vm.perCpu('cpu_info', cpu, 'struct cpuinfo_x86').snapshot();
  const smt = perCpuMask(vm, 'cpu_sibling_map', cpu, n) ?? [cpu];
  const online = masks?.online ?? new Set(cpuMask(vm, 'online'));
  const present = masks?.present ?? new Set(cpuMask(vm, 'present'));
  return {
    cpu,
    online: online.has(cpu),
    present: present.has(cpu),
    packageId: field(info, FIELDS.packageId) ?? 0,
    logicalPackageId: field(info, FIELDS.logicalPackageId),
    dieId: field(info, FIELDS.dieId) ?? 0,
    logicalDieId: field(info, FIELDS.logicalDieId),
    coreId: field(info, FIELDS.coreId) ?? 0,
    thread: Math.max(0, smt.indexOf(cpu)),
    apicid: field(info, FIELDS.apicid) ?? cpu,
    initialApicid: field(info, FIELDS.initialApicid) ?? cpu,
    // per-CPU cpu_llc_id until it moved into cpuinfo_x86.topo
    llcId: field(info, FIELDS.llcId) ?? perCpuInt(vm, 'cpu_llc_id', cpu),
    numaNode: cpuToNode(vm, cpu),
    smtSiblings: smt,
    coreSiblings: perCpuMask(vm, 'cpu_core_map', cpu, n) ?? [cpu],
    dieSiblings: perCpuMask(vm, 'cpu_die_map', cpu, n),
  };
}

/** every possible CPU's topology, the masks, and the packages × cores × threads matrix (present CPUs) */
export function cpuTopologyAll(vm: KernelContext): Topology {
  const possible = cpuMask(vm, 'possible');
  const present = cpuMask(vm, 'present');
  const online = cpuMask(vm, 'online');
  const active = cpuMask(vm, 'active');
  const sets = { online: new Set(online), present: new Set(present) };
  const cpus = possible.map((cpu) => cpuTopology(vm, cpu, sets));
  const pk = new Map<number, Map<number, number[]>>();
  for (const c of cpus) {
    // a possible CPU that is not present (a hot-pluggable slot) never filled its cpu_info: no place in the matrix
    if (!c.present) continue;
    const cores = pk.get(c.packageId) ?? new Map<number, number[]>();
    pk.set(c.packageId, cores);
    cores.set(c.coreId, [...(cores.get(c.coreId) ?? []), c.cpu]);
  }
  const matrix = [...pk.entries()].sort((a, b) => a[0] - b[0]).map(([p, cores]) => ({
    package: p,
    cores: [...cores.entries()].sort((a, b) => a[0] - b[0]).map(([core, list]) => ({ core, cpus: list })),
  }));
  let vendor: string | null = null;
  let model: string | null = null;
  try {
    const b = vm.object('boot_cpu_data', 'struct cpuinfo_x86');
    vendor = b.member('x86_vendor_id').string();
    model = b.member('x86_model_id').string();
  } catch { /* no boot_cpu_data symbol */ }
  return {
    possible, present, online, active, vendor, model,
    globals: {
      nrCpuIds: nrCpuIds(vm),
      smpNumSiblings: globalInt(vm, 'smp_num_siblings'),
      // absent on kernels after the x86 topology rework (v6.7+), which derives them elsewhere
      maxLogicalPackages: globalInt(vm, '__max_logical_packages'),
      maxSmtThreads: globalInt(vm, '__max_smt_threads'),
      maxDiesPerPackage: globalInt(vm, '__max_die_per_package'),
    },
    cpus,
    matrix,
    smtActive: cpus.some((c) => c.smtSiblings.length > 1),
  };
}
