/**
 * Types of well-known kernel globals. BTF describes only per-CPU variables, so for everything
 * else the caller must say what a symbol is; this table says it for the globals vaat itself reads.
 * Callers can always pass a type explicitly (`vm.object('foo', 'struct mutex')`), and DWARF's
 * answer wins where DWARF is loaded.
 */
export const WELL_KNOWN_GLOBALS: Readonly<Record<string, string>> = {
  init_task: 'struct task_struct',
  init_uts_ns: 'struct uts_namespace',
  init_pid_ns: 'struct pid_namespace',
  init_mm: 'struct mm_struct',
  cgroup_mutex: 'struct mutex',
  // global locks `vaat lockinfo` names without --type (5.10..6.12: unchanged types)
  console_sem: 'struct semaphore',
  uts_sem: 'struct rw_semaphore',
  namespace_sem: 'struct rw_semaphore',
  rtnl_mutex: 'struct mutex',
  module_mutex: 'struct mutex',
  cgrp_dfl_root: 'struct cgroup_root',
  css_set_lock: 'spinlock_t',
  jiffies: 'unsigned long',
  jiffies_64: 'u64',
  avenrun: 'unsigned long',
  panic_cpu: 'atomic_t',
  nr_cpu_ids: 'unsigned int',
  __per_cpu_offset: 'unsigned long',
  __cpu_online_mask: 'struct cpumask',
  __cpu_possible_mask: 'struct cpumask',
  __cpu_present_mask: 'struct cpumask',
  __cpu_active_mask: 'struct cpumask',
  modules: 'struct list_head',
  prb: 'struct printk_ringbuffer *',
  tainted_mask: 'unsigned long',
  crash_notes: 'note_buf_t *',
  _totalram_pages: 'atomic_long_t',
  tick_nsec: 'unsigned long',
  tk_core: 'struct tk_core',
  node_data: 'struct pglist_data *',
  nr_threads: 'int',
  total_forks: 'unsigned long',
  vm_zone_stat: 'atomic_long_t',
};
