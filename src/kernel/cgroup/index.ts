/**
 * cgroups: hierarchies (the v2 unified one and any v1 ones), their cgroups in pre-order, and each
 * cgroup's controller state as the cgroupfs files would show it (cpuset.cpus, cpu.weight,
 * memory.max, pids.current ...). Everything is read through type information; kernel-version
 * differences are handled where they occur, with the change named.
 */
import type { KernelContext } from '../../context.js';
import { ObjectError, type KObject } from '../../object/kobject.js';
import { containerOf, cpumaskToList, cpuListString, listForEachEntry } from '../../object/helpers.js';
import { cgroupPath } from './path.js';
import { nrCpuIds } from '../cpu.js';
import { PF_EXITING, type Task } from '../tasks.js';

export { cgroupPath };

/** cgroup trees are shallow and small; more than this is a corrupt sibling list */
const MAX_CGROUPS = 100_000;

export interface CgroupSubsys {
  /** ssid: the bit in subtree_control and the index of cgroup->subsys[] */
  id: number;
  name: string;
}

export interface CgroupHierarchy {
  /** cgroup_root address */
  root: bigint;
  hierarchyId: number;
  /** true for cgrp_dfl_root (cgroup v2) */
  dfl: boolean;
  /** "name=" of a v1 mount, '' when unnamed */
  name: string;
  /** controllers bound to this hierarchy (subsys_mask) */
  controllers: string[];
  /** &root->cgrp */
  cgrp: bigint;
}

/** cgroup_subsys[]: every compiled-in controller, in ssid order */
export function cgroupSubsystems(vm: KernelContext): CgroupSubsys[] {
  // The array's length is CGROUP_SUBSYS_COUNT, which is also the length of cgroup->subsys[].
  const t = vm.types.resolved(vm.types.memberPath('struct cgroup', 'subsys').type);
  const count = t.kind === 'array' ? t.length : 0;
  const base = vm.address('cgroup_subsys');
  const ptr = vm.types.pointerSize;
  const out: CgroupSubsys[] = [];
  for (let id = 0; id < count; id++) {
    const ss = vm.mem.pointer(base + BigInt(id * ptr));
    out.push({ id, name: ss === 0n ? `ss${id}` : vm.objectAt(ss, 'struct cgroup_subsys').member('name').string(64) });
  }
  return out;
}

function maskNames(mask: number, subsys: readonly CgroupSubsys[]): string[] {
  return subsys.filter((s) => (mask >> s.id) & 1).map((s) => s.name);
}

/** cgroup_roots: the v2 root (cgrp_dfl_root) first, then every mounted v1 hierarchy */
export function cgroupRoots(vm: KernelContext): CgroupHierarchy[] {
  const subsys = cgroupSubsystems(vm);
  const dfl = vm.object('cgrp_dfl_root', 'struct cgroup_root');
  const describe = (r: KObject): CgroupHierarchy => ({
    root: r.address,
    hierarchyId: r.member('hierarchy_id').number(),
    dfl: r.address === dfl.address,
    name: r.member('name').string(),
    controllers: maskNames(r.member('subsys_mask').number(), subsys),
    cgrp: r.member('cgrp').address,
  });
  const out = [describe(dfl)];
  // cgroup_setup_root() links every root, cgrp_dfl_root included, on cgroup_roots.
  const head = vm.object('cgroup_roots', 'struct list_head');
  for (const r of listForEachEntry(head, 'struct cgroup_root', 'root_list')) {
    if (r.address !== dfl.address) out.push(describe(r));
  }
  return out;
}

/** css_for_each_child: the live and dying children of a css, in creation order */
export function* cssForEachChild(css: KObject): Generator<KObject> {
  yield* listForEachEntry(css.member('children'), 'struct cgroup_subsys_state', 'sibling');
}

/** css_for_each_descendant_pre: `css` itself, then its descendants, parents before children */
export function* cssForEachDescendantPre(css: KObject): Generator<KObject> {
  const stack: KObject[] = [css];
  for (let n = 0; stack.length; n++) {
    if (n > MAX_CGROUPS) throw new ObjectError(`css tree at 0x${css.address.toString(16)} does not end`);
    const c = stack.pop()!;
    yield c;
    stack.push(...[...cssForEachChild(c)].reverse());
  }
}

/** cgroup_css(cgrp, ss): the controller's css on this cgroup, null when the controller is not enabled there */
export function cgroupSubsysState(vm: KernelContext, cgrp: bigint, ssid: number): bigint {
  return vm.objectAt(cgrp, 'struct cgroup').member('subsys').index(ssid).pointer();
}

/**
 * cgroup_id(): cgrp->kn->id, a u64 (idr id, wrap count in the high 32 bits) since v5.5 ("cgroup:
 * use cgrp->kn->id as the cgroup ID"); before that the int cgrp->id
 */
export function cgroupId(vm: KernelContext, cgrp: bigint): number {
  const c = vm.objectAt(cgrp, 'struct cgroup');
  return c.hasMember('id') ? c.member('id').number() : Number(c.member('kn.id').bigint());
}

/** the task_structs on a css_set's task lists (tasks, mg_tasks, dying_tasks) */
export function* cssSetTasks(vm: KernelContext, cset: bigint): Generator<bigint> {
  const cs = vm.objectAt(cset, 'struct css_set');
  // dying_tasks: "cgroup: Include dying leaders with live threads in PROCS iterations", v5.2
  for (const list of ['tasks', 'mg_tasks', 'dying_tasks']) {
    if (!cs.hasMember(list)) continue;
    for (const t of listForEachEntry(cs.member(list), 'struct task_struct', 'cg_list')) yield t.address;
  }
}

/** the css_sets linked to a cgroup (cgrp->cset_links): those whose member of this hierarchy it is */
export function* cgroupCssSets(vm: KernelContext, cgrp: bigint): Generator<bigint> {
  const head = vm.objectAt(cgrp, 'struct cgroup').member('cset_links');
  for (const l of listForEachEntry(head, 'struct cgrp_cset_link', 'cset_link')) yield l.member('cset').pointer();
}

/** a css_set's tasks from elsewhere than its lists (walkedCssSetTasks), null where they cannot stand in for them */
export type CssSetTasksSource = (cset: bigint) => bigint[] | null;

/** every task whose css_set puts it in this cgroup (cgroup.threads, with exiting tasks) */
export function cgroupTasks(vm: KernelContext, cgrp: bigint, known?: CssSetTasksSource): bigint[] {
  const out: bigint[] = [];
  for (const cset of cgroupCssSets(vm, cgrp)) out.push(...(known?.(cset) ?? cssSetTasks(vm, cset)));
  return out;
}

/**
 * Each css_set's tasks as a task walk saw them (task->cgroups), for a caller that walked every
 * task anyway: the css_set lists link the tasks through task->cg_list, so walking them reads every
 * task_struct a second time (on 20,000 tasks, a sixth of `cgroupinfo --tasks`). A css_set's walked
 * tasks stand in for its lists only when they agree with the kernel's own count, css_set.nr_tasks
 * (its `tasks` and `mg_tasks`), and none is exiting (PF_EXITING: it may be on `dying_tasks`, which
 * nr_tasks leaves out); otherwise, or without nr_tasks, null: walk the lists.
 */
export function walkedCssSetTasks(vm: KernelContext, tasks: readonly Task[]): CssSetTasksSource {
  const nr = vm.types.tryMemberPath('struct css_set', 'nr_tasks');
  if (!nr) return () => null;
  const nrOff = BigInt(nr.offset);
  const by = new Map<bigint, Task[]>();
  for (const t of tasks) {
    // idle tasks (pid 0) are on no css_set list: cgroup_post_fork() adds only tasks with a pid
    if (t.isIdle || !t.cssSet) continue;
    const l = by.get(t.cssSet);
    if (l) l.push(t); else by.set(t.cssSet, [t]);
  }
  return (cset) => {
    const l = by.get(cset) ?? [];
    if (l.some((t) => (t.flags & PF_EXITING) !== 0)) return null;
    try {
      return vm.mem.s32(cset + nrOff) === l.length ? l.map((t) => t.address) : null;
    } catch {
      return null;
    }
  };
}

// ---- controllers ------------------------------------------------------------------------------

export interface CpusetState {
  /** cpuset.cpus as configured: null on the root (no such file there) */
  cpus: string | null;
  /** cpuset.cpus.effective */
  effectiveCpus: string;
  mems: string | null;
  effectiveMems: string;
  /** cpuset.cpus.partition: 'member', 'root', 'isolated' or the raw state */
  partition: string | null;
}

/** cpumask_var_t is a pointer with CONFIG_CPUMASK_OFFSTACK, else a one-element array */
function cpumaskVar(obj: KObject): KObject {
  return obj.kind === 'pointer' ? obj.deref() : obj.kind === 'array' ? obj.index(0) : obj;
}

function nodeList(vm: KernelContext, nodemask: KObject): string {
  let nr = 1;
  try { nr = vm.object('nr_node_ids', 'unsigned int').number(); } catch { /* !NUMA: one node */ }
  return cpuListString(cpumaskToList(nodemask, nr));
}

/** the cpuset controller's state of a css (struct cpuset embeds its css as `css`) */
export function cpusetState(vm: KernelContext, css: bigint, isRoot: boolean): CpusetState {
  const cs = containerOf(vm.objectAt(css, 'struct cgroup_subsys_state'), css, 'struct cpuset', 'css');
  const n = nrCpuIds(vm);
  const cpus = (m: string) => cpuListString(cpumaskToList(cpumaskVar(cs.member(m)), n));
  let partition: string | null = null;
  if (cs.hasMember('partition_root_state')) { // v5.11 cgroup v2 partitions
    const p = cs.member('partition_root_state').number();
    // PRS_MEMBER 0, PRS_ROOT 1, PRS_ISOLATED 2 (6.1); negative values are invalid roots (6.1+)
    partition = p === 0 ? 'member' : p === 1 ? 'root' : p === 2 ? 'isolated' : p < 0 ? `invalid (${p})` : String(p);
  }
  return {
    cpus: isRoot ? null : cpus('cpus_allowed'),
    effectiveCpus: cpus('effective_cpus'),
    mems: isRoot ? null : nodeList(vm, cs.member('mems_allowed')),
    effectiveMems: nodeList(vm, cs.member('effective_mems')),
    partition,
  };
}

export interface CpuCgroupState {
  /** tg->shares as stored (scale_load()ed on 64-bit) */
  sharesRaw: bigint;
  /** cgroup v1 cpu.shares: scale_load_down(tg->shares) */
  shares: number;
  /** cgroup v2 cpu.weight (1..10000, default 100) */
  weight: number;
  /** cpu.idle (v5.15 SCHED_IDLE groups), null when absent */
  idle: boolean | null;
  /** cfs_bandwidth: quota/period in µs (cpu.max), null quota = "max"; null when !CONFIG_CFS_BANDWIDTH */
  bandwidth: {
    quotaUs: number | null;
    periodUs: number;
    burstUs: number | null;
    nrPeriods: number;
    nrThrottled: number;
    throttledTimeNs: bigint;
  } | null;
}

/** tg->shares of root_task_group is ROOT_TASK_GROUP_LOAD = NICE_0_LOAD: its ratio to 1024 is scale_load()'s factor */
function loadScale(vm: KernelContext): bigint {
  const root = vm.object('root_task_group', 'struct task_group').member('shares').bigint();
  return root >= 1024n ? root / 1024n : 1n;
}

/** the cpu controller's state (struct task_group embeds its css as `css`) */
export function cpuCgroupState(vm: KernelContext, css: bigint): CpuCgroupState {
  const tg = containerOf(vm.objectAt(css, 'struct cgroup_subsys_state'), css, 'struct task_group', 'css');
  const raw = tg.member('shares').bigint();
  const scale = loadScale(vm);
  // scale_load_down() keeps at least 2 for a non-zero weight
  const down = raw === 0n ? 0n : raw / scale < 2n && scale > 1n ? 2n : raw / scale;
  // cpu_weight_read_u64(): DIV_ROUND_CLOSEST(shares * CGROUP_WEIGHT_DFL, 1024)
  const weight = Number((down * 100n + 512n) / 1024n);
  let bandwidth: CpuCgroupState['bandwidth'] = null;
  if (tg.hasMember('cfs_bandwidth')) {
    const b = tg.member('cfs_bandwidth');
    const quota = b.member('quota').bigint();
    const RUNTIME_INF = 0xffffffffffffffffn;
    bandwidth = {
      quotaUs: quota === RUNTIME_INF ? null : Number(quota / 1000n),
      periodUs: Number(b.member('period').bigint() / 1000n),
      burstUs: b.hasMember('burst') ? Number(b.member('burst').bigint() / 1000n) : null, // v5.14
      nrPeriods: b.member('nr_periods').number(),
      nrThrottled: b.member('nr_throttled').number(),
      throttledTimeNs: b.member('throttled_time').bigint(),
    };
  }
  return { sharesRaw: raw, shares: Number(down), weight, idle: tg.hasMember('idle') ? tg.member('idle').number() !== 0 : null, bandwidth };
}

/** a page_counter limit in pages, or 'max' at PAGE_COUNTER_MAX (LONG_MAX / PAGE_SIZE) */
export type PageLimit = number | 'max';

export interface MemcgState {
  /** memory.current in pages (page_counter usage) */
  currentPages: number;
  maxPages: PageLimit;
  highPages: PageLimit | null;
  lowPages: number | null;
  minPages: number | null;
  /** memory.peak (watermark) in pages */
  peakPages: number;
  /** memory.events: low, high, max, oom, oom_kill, oom_group_kill where this kernel has them */
  events: Record<string, number>;
  pageSize: number;
}

const MEMCG_EVENTS: [string, string][] = [
  ['low', 'MEMCG_LOW'], ['high', 'MEMCG_HIGH'], ['max', 'MEMCG_MAX'], ['oom', 'MEMCG_OOM'],
  ['oom_kill', 'MEMCG_OOM_KILL'], ['oom_group_kill', 'MEMCG_OOM_GROUP_KILL'], // the last: v5.17
];

function atomicLong(o: KObject): bigint {
  return o.hasMember('counter') ? o.member('counter').bigint() : o.bigint();
}

/** the memory controller's state (struct mem_cgroup embeds its css as `css`) */
export function memcgState(vm: KernelContext, css: bigint): MemcgState {
  const memcg = containerOf(vm.objectAt(css, 'struct cgroup_subsys_state'), css, 'struct mem_cgroup', 'css');
  const pc = memcg.member('memory').snapshot();
  const pageSize = vm.pageSize;
  const counterMax = 0x7fffffffffffffffn / BigInt(pageSize);
  const limit = (v: bigint): PageLimit => (v >= counterMax ? 'max' : Number(v));
  // memory.high moved from mem_cgroup->high into page_counter in v5.8 ("mm/memcg: prepare for swap over-high accounting and penalty calculation")
  const high = pc.hasMember('high') ? pc.member('high').bigint() : memcg.hasMember('high') ? atomicLong(memcg.member('high')) : null;
  const events: Record<string, number> = {};
  if (memcg.hasMember('memory_events')) {
    const arr = memcg.member('memory_events');
    for (const [name, enumerator] of MEMCG_EVENTS) {
      const e = vm.types.findEnumerator(enumerator);
      if (e) events[name] = Number(atomicLong(arr.index(Number(e.value))));
    }
  }
  return {
    currentPages: Number(atomicLong(pc.member('usage'))),
    maxPages: limit(pc.member('max').bigint()),
    highPages: high === null ? null : limit(high),
    lowPages: pc.hasMember('low') ? Number(pc.member('low').bigint()) : null,
    minPages: pc.hasMember('min') ? Number(pc.member('min').bigint()) : null,
    peakPages: Number(pc.member('watermark').bigint()),
    events,
    pageSize,
  };
}

export interface PidsState {
  current: number;
  /** pids.max: 'max' at PIDS_MAX */
  max: number | 'max';
  /** pids.peak (watermark), null where absent */
  peak: number | null;
  /** pids.events "max": forks refused by this limit */
  eventsMax: number | null;
}

/** the pids controller's state (struct pids_cgroup embeds its css as `css`) */
export function pidsState(vm: KernelContext, css: bigint, rootCss: bigint): PidsState {
  const at = (a: bigint) => containerOf(vm.objectAt(a, 'struct cgroup_subsys_state'), a, 'struct pids_cgroup', 'css');
  const p = at(css);
  // The root's limit is always PIDS_MAX (PID_MAX_LIMIT + 1; it has no pids.max file): compare against it.
  const pidsMax = atomicLong(at(rootCss).member('limit'));
  const limit = atomicLong(p.member('limit'));
  let eventsMax: number | null = null;
  if (p.hasMember('events_limit')) eventsMax = Number(atomicLong(p.member('events_limit')));
  else if (p.hasMember('events')) { // events[PIDCG_MAX] since "cgroup/pids: Make event counters hierarchical" (v6.11)
    const e = vm.types.findEnumerator('PIDCG_MAX');
    if (e) eventsMax = Number(atomicLong(p.member('events').index(Number(e.value))));
  }
  return {
    current: Number(atomicLong(p.member('counter'))),
    max: limit >= pidsMax ? 'max' : Number(limit),
    peak: p.hasMember('watermark') ? Number(p.member('watermark').bigint()) : null,
    eventsMax,
  };
}

/** io.weight "default" of blk-iocost (ioc_cgrp->dfl_weight / WEIGHT_ONE), null without iocost */
export function ioWeight(vm: KernelContext, css: bigint): number | null {
  try {
    if (vm.types.findType('struct ioc_cgrp') === null) return null;
    const blkcg = containerOf(vm.objectAt(css, 'struct cgroup_subsys_state'), css, 'struct blkcg', 'css');
    const plid = vm.object('blkcg_policy_iocost', 'struct blkcg_policy').member('plid').number();
    const cpd = blkcg.member('cpd').index(plid).pointer();
    if (cpd === 0n) return null;
    const iocc = containerOf(blkcg, cpd, 'struct ioc_cgrp', 'cpd');
    // WEIGHT_ONE = 1 << 16 (blk-iocost.c, unchanged since v5.4)
    return Math.round(iocc.member('dfl_weight').number() / 65536);
  } catch {
    return null; // iocost not built in or its policy not registered
  }
}

// ---- the tree ---------------------------------------------------------------------------------

export interface CgroupTask { pid: number; comm: string; task: bigint }

export interface CgroupInfo {
  cgrp: bigint;
  path: string;
  id: number;
  level: number;
  /** controllers this cgroup hands to its children (cgroup.subtree_control) */
  subtreeControl: string[];
  /**
   * controllers enabled here, cgroup_control()'s rule without its root filter: the parent's
   * subtree_control, and on the root every controller bound to the hierarchy (root->subsys_mask)
   */
  controllers: string[];
  /** controllers with a css on this cgroup: `controllers` plus implicit ones (perf_event) */
  cssControllers: string[];
  /** tasks whose css_set puts them here (for v2: css_set->dfl_cgrp == this cgroup) */
  nrTasks: number;
  nrPopulatedCsets: number;
  nrDescendants: number;
  /** live (not yet offlined) */
  online: boolean;
  cpuset: CpusetState | null;
  cpu: CpuCgroupState | null;
  memory: MemcgState | null;
  pids: PidsState | null;
  ioWeight: number | null;
  tasks?: CgroupTask[];
  children: CgroupInfo[];
}

export interface CgroupTreeOptions {
  /** list each cgroup's tasks */
  tasks?: boolean;
  /** describe a task for the listing (default: pid and comm read from the task_struct) */
  taskInfo?: (task: bigint) => CgroupTask;
  /** css_sets' tasks known without walking their lists (walkedCssSetTasks) */
  cssSetTasks?: CssSetTasksSource;
}

/** CSS_ONLINE, include/linux/cgroup-defs.h (unchanged since v3.15) */
const CSS_ONLINE = 1 << 1;

/** a cgroup's task as the cgroup tree lists it, read from its task_struct */
export function cgroupTask(vm: KernelContext, task: bigint): CgroupTask {
  const t = vm.objectAt(task, 'struct task_struct');
  return { pid: t.member('pid').number(), comm: t.member('comm').string(), task };
}

function defaultTaskInfo(vm: KernelContext): (task: bigint) => CgroupTask {
  return (task) => cgroupTask(vm, task);
}

/** one hierarchy's cgroups as a tree, with every controller's state read */
export function cgroupTree(vm: KernelContext, h: CgroupHierarchy, opts: CgroupTreeOptions = {}): CgroupInfo {
  const subsys = cgroupSubsystems(vm);
  const ssid = (name: string) => subsys.find((s) => s.name === name)?.id ?? -1;
  const ids = { cpuset: ssid('cpuset'), cpu: ssid('cpu'), memory: ssid('memory'), pids: ssid('pids'), io: ssid('io') };
  const rootCgrp = vm.objectAt(h.cgrp, 'struct cgroup');
  const rootPids = ids.pids >= 0 ? rootCgrp.member('subsys').index(ids.pids).pointer() : 0n;
  const taskInfo = opts.taskInfo ?? defaultTaskInfo(vm);
  const safe = <T>(f: () => T): T | null => { try { return f(); } catch { return null; } };

  const describe = (self: KObject, parentControl: string[] | null): CgroupInfo => {
    const cgrp = self.member('cgroup').pointer();
    const c = vm.objectAt(cgrp, 'struct cgroup');
    const css = (id: number) => (id >= 0 ? c.member('subsys').index(id).pointer() : 0n);
    const isRoot = cgrp === h.cgrp;
    const present = subsys.filter((s) => css(s.id) !== 0n).map((s) => s.name);
    const tasks = cgroupTasks(vm, cgrp, opts.cssSetTasks);
    const info: CgroupInfo = {
      cgrp,
      path: cgroupPath(vm, cgrp) ?? '?',
      id: cgroupId(vm, cgrp),
      level: c.member('level').number(),
      subtreeControl: maskNames(c.member('subtree_control').number(), subsys),
      controllers: parentControl ?? h.controllers,
      cssControllers: present,
      nrTasks: tasks.length,
      nrPopulatedCsets: c.member('nr_populated_csets').number(),
      nrDescendants: c.member('nr_descendants').number(),
      online: (self.member('flags').number() & CSS_ONLINE) !== 0,
      cpuset: css(ids.cpuset) ? safe(() => cpusetState(vm, css(ids.cpuset), isRoot)) : null,
      cpu: css(ids.cpu) ? safe(() => cpuCgroupState(vm, css(ids.cpu))) : null,
      memory: css(ids.memory) ? safe(() => memcgState(vm, css(ids.memory))) : null,
      pids: css(ids.pids) && rootPids ? safe(() => pidsState(vm, css(ids.pids), rootPids)) : null,
      ioWeight: css(ids.io) ? ioWeight(vm, css(ids.io)) : null,
      children: [],
    };
    if (opts.tasks) info.tasks = tasks.map(taskInfo).sort((a, b) => a.pid - b.pid);
    return info;
  };

  const build = (self: KObject, parentControl: string[] | null, depth: number): CgroupInfo => {
    if (depth > 1000) throw new ObjectError('cgroup tree too deep (corrupt)');
    const node = describe(self, parentControl);
    node.children = [...cssForEachChild(self)].map((ch) => build(ch, node.subtreeControl, depth + 1));
    return node;
  };
  return build(rootCgrp.member('self'), null, 0);
}

/** a tree's cgroups in pre-order (css_for_each_descendant_pre order) */
export function flattenCgroups(root: CgroupInfo): CgroupInfo[] {
  const out: CgroupInfo[] = [];
  const walk = (n: CgroupInfo) => { out.push(n); n.children.forEach(walk); };
  walk(root);
  return out;
}
