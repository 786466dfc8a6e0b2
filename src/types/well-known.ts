/**
 * Types of well-known kernel globals, from their declarations in the kernel's headers.
 *
 * DWARF types every variable. BTF types only what pahole encoded as VAR/DATASEC: per-CPU
 * variables on kernels built with pahole 1.18+ (so `runqueues` but not `init_task`), and nothing
 * at all before that — Debian 11's 5.10 has no VAR or DATASEC record in its 77,779 types. For
 * those kernels every global vaat reads is typed here, by name, as a C type expression that is
 * resolved in the dump's own types (`struct rq`, `cpumask_var_t`, `struct pglist_data *[]`,
 * `atomic_long_t [NR_VM_ZONE_STAT_ITEMS]`: lengths may name an enumerator). Resolving in the
 * dump keeps every layout the dump's own; a typedef such as cpumask_var_t brings its config
 * (a pointer with CONFIG_CPUMASK_OFFSTACK, else a one-element array) along.
 *
 * A declaration that changed type across 5.4..newest lists its forms, newest first: the first
 * whose type the dump has wins (detection by shape). An expression whose types the dump lacks
 * (an x86 type on arm64) resolves to nothing, and the caller says the type is unknown.
 */
import type { TypeId, TypeInfo } from './typeinfo.js';

export const WELL_KNOWN_GLOBALS: Readonly<Record<string, string | readonly string[]>> = {
  // --- tasks, namespaces, memory descriptors (include/linux/sched/task.h, init_task.c)
  init_task: 'struct task_struct',
  init_uts_ns: 'struct uts_namespace',
  init_pid_ns: 'struct pid_namespace',
  init_nsproxy: 'struct nsproxy',
  init_mm: 'struct mm_struct',
  nr_threads: 'int',
  total_forks: 'unsigned long',
  kthreadd_task: 'struct task_struct *',
  task_state_array: 'const char *const []',
  // --- scheduler (kernel/sched/sched.h), per-CPU
  runqueues: 'struct rq',
  root_task_group: 'struct task_group',
  sd_llc: 'struct sched_domain *',
  sd_llc_size: 'int',
  sd_llc_id: 'int',
  avenrun: 'unsigned long [3]',
  // --- cgroups (kernel/cgroup/cgroup.c)
  cgroup_mutex: 'struct mutex',
  css_set_lock: 'spinlock_t',
  cgrp_dfl_root: 'struct cgroup_root',
  cgroup_roots: 'struct list_head',
  cgroup_subsys: 'struct cgroup_subsys *[CGROUP_SUBSYS_COUNT]',
  cgroup_threadgroup_rwsem: 'struct percpu_rw_semaphore',
  blkcg_policy_iocost: 'struct blkcg_policy',
  // --- global locks `vaat lockinfo` names without --type
  console_sem: 'struct semaphore',
  uts_sem: 'struct rw_semaphore',
  namespace_sem: 'struct rw_semaphore',
  rtnl_mutex: 'struct mutex',
  module_mutex: 'struct mutex',
  // --- time (kernel/time)
  jiffies: 'unsigned long',
  jiffies_64: 'u64',
  tick_nsec: 'unsigned long',
  // tk_core is an anonymous struct { seq; struct timekeeper timekeeper; }: no name to declare it by
  // --- CPUs (kernel/cpu.c, include/linux/cpumask.h: __cpu_*_mask since v4.5, "kernel/cpu.c: change type of cpu_possible_bits and friends")
  nr_cpu_ids: 'unsigned int',
  nr_node_ids: 'unsigned int',
  __per_cpu_offset: 'unsigned long []', // [NR_CPUS]: the config's count, which no type records
  __cpu_online_mask: 'struct cpumask',
  __cpu_possible_mask: 'struct cpumask',
  __cpu_present_mask: 'struct cpumask',
  __cpu_active_mask: 'struct cpumask',
  numa_node: 'int',
  // --- panic, taint, crash (kernel/panic.c, kernel/crash_core.c)
  panic_cpu: 'atomic_t',
  tainted_mask: 'unsigned long',
  taint_flags: 'const struct taint_flag []',
  crash_notes: 'note_buf_t *',
  oops_in_progress: 'int',
  system_state: 'enum system_states',
  sysctl_hung_task_timeout_secs: 'unsigned long',
  saved_command_line: 'char *',
  // --- printk: the lockless ring buffer since v5.10 ("printk: use the lockless ringbuffer",
  // 896fbe20b4e2), the byte buffer of struct printk_log records before
  prb: 'struct printk_ringbuffer *',
  log_buf: 'char *',
  log_buf_len: 'u32',
  log_first_idx: 'u32',
  log_next_idx: 'u32',
  log_first_seq: 'u64',
  log_next_seq: 'u64',
  // --- modules (kernel/module)
  modules: 'struct list_head',
  btf_modules: 'struct list_head',
  // --- memory (mm/)
  // _totalram_pages since v5.0 ("mm: convert totalram_pages and totalhigh_pages variables to atomic", ca79b0c211af)
  _totalram_pages: 'atomic_long_t',
  totalram_pages: 'unsigned long',
  node_data: 'pg_data_t *[]', // [MAX_NUMNODES]
  contig_page_data: 'struct pglist_data',
  vm_zone_stat: 'atomic_long_t [NR_VM_ZONE_STAT_ITEMS]',
  vm_node_stat: 'atomic_long_t [NR_VM_NODE_STAT_ITEMS]',
  // --- x86 (arch/x86/include/asm): per-CPU unless noted
  boot_cpu_data: ['struct cpuinfo_x86', 'struct cpuinfo_arm64'], // x86: global; arm64: static in arch/arm64/kernel/cpuinfo.c
  cpu_khz: 'unsigned int', // global
  smp_num_siblings: 'int', // global
  __max_logical_packages: 'unsigned int', // global
  cpu_info: 'struct cpuinfo_x86',
  cpu_number: 'int',
  current_task: 'struct task_struct *',
  cpu_tlbstate: 'struct tlb_state',
  // v5.13 ("x86/mm/tlb: Privatize cpu_tlbstate", 2f4305b19fe6) moved is_lazy here
  cpu_tlbstate_shared: 'struct tlb_state_shared',
  cpu_sibling_map: 'cpumask_var_t',
  cpu_core_map: 'cpumask_var_t',
  cpu_die_map: 'cpumask_var_t',
  cpu_llc_shared_map: 'cpumask_var_t',
  cpu_l2c_shared_map: 'cpumask_var_t',
  cpu_llc_id: 'u16',
  cpu_l2c_id: 'u16',
  x86_cpu_to_node_map: 'int',
};

/** The declaration of a well-known global resolved in `types`, or null (not listed, or its types absent). */
export function declaredGlobalType(types: TypeInfo, name: string): TypeId | null {
  const decl = Object.hasOwn(WELL_KNOWN_GLOBALS, name) ? WELL_KNOWN_GLOBALS[name] : undefined;
  if (decl === undefined) return null;
  for (const expr of typeof decl === 'string' ? [decl] : decl) {
    const id = types.findType(expr) ?? tryGetType(types, expr);
    if (id !== null) return id;
  }
  return null;
}

/**
 * A global's type: the variable record of the types (DWARF: every variable; BTF: per-CPU ones
 * with pahole 1.18+), else its declaration above; null when neither knows it.
 */
export function globalType(types: TypeInfo, name: string): TypeId | null {
  return types.findVariable(name)?.type ?? declaredGlobalType(types, name);
}

function tryGetType(types: TypeInfo, expr: string): TypeId | null {
  try { return types.getType(expr); } catch { return null; }
}

/**
 * Where `tk_core.timekeeper` sits in tk_core, which is an anonymous `struct { seqcount_raw_spinlock_t
 * seq; struct timekeeper timekeeper; }` (kernel/time/timekeeping.c): no type names it, so the
 * timekeeper is found past the seqcount, aligned to 8 (seqcount_t before v5.10's
 * seqcount_raw_spinlock_t).
 */
export function tkCoreTimekeeperOffset(types: TypeInfo): number {
  return Math.ceil(types.sizeof(types.findType('seqcount_raw_spinlock_t') ?? types.getType('seqcount_t')) / 8) * 8;
}
