/**
 * vaat cgroupinfo: the cgroup hierarchies as trees (v2 unified first, then mounted v1 ones), each
 * cgroup with its id, level, controllers, task count and controller state (cpuset, cpu weight and
 * bandwidth, memory, pids, io weight). `--tasks` lists tasks, `--flat` prints a table.
 */
import { defineCommand, scriptPrelude } from '../src/plugin.js';
import type { Output, TreeNode } from '../src/output/sink.js';
import { humanBytes } from '../src/output/style.js';
import { cgroupRoots, cgroupTask, cgroupTree, flattenCgroups, walkedCssSetTasks, type CgroupInfo, type CgroupTask, type CssSetTasksSource, type MemcgState } from '../src/kernel/cgroup/index.js';
import { listTasks } from '../src/kernel/tasks.js';

interface CgroupinfoOptions { tasks?: boolean; flat?: boolean }

/** a cgroup as --json shows it: the model's CgroupInfo, its address under `cgroup`, sizes in bytes too, and flags */
export interface CgroupNode extends Omit<CgroupInfo, 'cgrp' | 'memory' | 'children'> {
  /** struct cgroup address */
  cgroup: CgroupInfo['cgrp'];
  memory: (MemcgState & { currentBytes: number; maxBytes: number | 'max' }) | null;
  /** why this cgroup deserves a look (OOM kills, throttling, pids at its limit) */
  flags: string[];
  children: CgroupNode[];
}

export interface CgroupHierarchyResult {
  hierarchyId: number;
  version: 1 | 2;
  name: string;
  controllers: string[];
  root: CgroupNode;
}

export interface CgroupinfoResult { hierarchies: CgroupHierarchyResult[] }

function flagsOf(c: CgroupInfo): string[] {
  const f: string[] = [];
  const ev = c.memory?.events ?? {};
  if (ev.oom_kill) f.push(`memory: ${ev.oom_kill} OOM kill(s)`);
  else if (ev.oom) f.push(`memory: ${ev.oom} OOM event(s)`);
  if (c.cpu?.bandwidth?.nrThrottled) f.push(`cpu: throttled ${c.cpu.bandwidth.nrThrottled} time(s)`);
  if (c.pids && c.pids.max !== 'max' && c.pids.current >= c.pids.max) f.push(`pids: at its limit (${c.pids.current}/${c.pids.max})`);
  if (c.pids?.eventsMax) f.push(`pids: ${c.pids.eventsMax} fork(s) refused`);
  if (!c.online) f.push('offline (being removed)');
  return f;
}

function toNode(c: CgroupInfo): CgroupNode {
  const ps = c.memory?.pageSize ?? 4096;
  return {
    path: c.path, cgroup: c.cgrp, id: c.id, level: c.level,
    subtreeControl: c.subtreeControl, controllers: c.controllers, cssControllers: c.cssControllers,
    nrTasks: c.nrTasks, nrPopulatedCsets: c.nrPopulatedCsets, nrDescendants: c.nrDescendants, online: c.online,
    cpuset: c.cpuset, cpu: c.cpu,
    memory: c.memory && { ...c.memory, currentBytes: c.memory.currentPages * ps, maxBytes: c.memory.maxPages === 'max' ? 'max' : c.memory.maxPages * ps },
    pids: c.pids, ioWeight: c.ioWeight, flags: flagsOf(c),
    ...(c.tasks ? { tasks: c.tasks } : {}),
    children: c.children.map(toNode),
  };
}

function flatten(n: CgroupNode): CgroupNode[] { return [n, ...n.children.flatMap(flatten)]; }

function summary(n: CgroupNode, out: Output): string {
  const c = out.c;
  const parts: string[] = [];
  if (n.cpuset) parts.push(`cpus ${n.cpuset.cpus ?? '-'}${n.cpuset.effectiveCpus !== n.cpuset.cpus ? ` (eff ${n.cpuset.effectiveCpus})` : ''}`);
  if (n.cpu) {
    let s = `weight ${n.cpu.weight}`;
    const b = n.cpu.bandwidth;
    if (b && b.quotaUs !== null) s += ` max ${b.quotaUs}/${b.periodUs}`;
    if (b?.nrThrottled) s += c.yellow(` throttled ${b.nrThrottled}× ${(Number(b.throttledTimeNs) / 1e6).toFixed(1)} ms`);
    parts.push(s);
  }
  if (n.memory) parts.push(`mem ${humanBytes(n.memory.currentBytes)}/${n.memory.maxBytes === 'max' ? 'max' : humanBytes(n.memory.maxBytes)}`);
  if (n.pids) parts.push(`pids ${n.pids.current}/${n.pids.max}`);
  if (n.ioWeight !== null && n.level > 0) parts.push(`io.weight ${n.ioWeight}`);
  return parts.join(c.dim(' · '));
}

function label(n: CgroupNode, out: Output): string {
  const c = out.c;
  const name = n.level === 0 ? n.path : n.path.slice(n.path.lastIndexOf('/') + 1);
  const head = `${c.bold(name)} ${c.dim(`id ${n.id}`)} tasks ${n.nrTasks}${n.subtreeControl.length ? c.cyan(` [${n.subtreeControl.join(' ')}]`) : ''}`;
  const s = summary(n, out);
  const flags = n.flags.length ? ' ' + c.red(`! ${n.flags.join('; ')}`) : '';
  return `${head}${s ? '  ' + s : ''}${flags}`;
}

function treeOf(n: CgroupNode, out: Output): TreeNode {
  const tasks: TreeNode[] = (n.tasks ?? []).map((t) => ({ label: out.c.dim(`${t.pid} ${t.comm}`) }));
  return { label: label(n, out), children: [...tasks, ...n.children.map((ch) => treeOf(ch, out))] };
}

export default defineCommand<CgroupinfoOptions, CgroupinfoResult>({
  name: 'cgroupinfo',
  summary: 'cgroup hierarchies: controllers, cpusets, cpu weight, memory, pids and tasks per cgroup',
  options: [
    { flags: '--tasks', description: 'list the tasks of each cgroup' },
    { flags: '--flat', description: 'one table row per cgroup instead of a tree' },
  ],
  run({ vm, options }) {
    let taskInfo: ((a: bigint) => CgroupTask) | undefined;
    let cssSetTasks: CssSetTasksSource | undefined;
    if (options.tasks) {
      const all = listTasks(vm);
      const byAddr = new Map(all.map((t) => [t.address, t]));
      // the walk has every task's css_set: the css_set lists need not be walked again
      cssSetTasks = walkedCssSetTasks(vm, all);
      taskInfo = (a) => {
        const t = byAddr.get(a);
        // on the cgroup's css_set list but not on the task list (exiting, or a torn list): read it
        return t ? { pid: t.pid, comm: t.comm, task: a } : cgroupTask(vm, a);
      };
    }
    return {
      hierarchies: cgroupRoots(vm).map((h) => ({
        hierarchyId: h.hierarchyId,
        version: h.dfl ? 2 : 1,
        name: h.name,
        controllers: h.controllers,
        root: toNode(cgroupTree(vm, h, { tasks: options.tasks, taskInfo, cssSetTasks })),
      })),
    };
  },
  render(r, out, options) {
    for (const h of r.hierarchies) {
      out.heading(h.version === 2 ? 'cgroup v2 (unified hierarchy)' : `cgroup v1 hierarchy ${h.hierarchyId}${h.name ? ` name=${h.name}` : ''}: ${h.controllers.join(',')}`);
      if (!options.flat) { out.tree(treeOf(h.root, out)); out.line(); continue; }
      const all = flatten(h.root);
      out.table(all.map((n) => [
        n.path, n.id, n.nrTasks, n.subtreeControl.join(',') || '-',
        n.cpuset?.cpus ?? null, n.cpuset?.effectiveCpus ?? null, n.cpu?.weight ?? null,
        n.memory ? humanBytes(n.memory.currentBytes) : null,
        n.memory ? (n.memory.maxBytes === 'max' ? 'max' : humanBytes(n.memory.maxBytes)) : null,
        n.pids?.current ?? null, n.pids?.max ?? null,
        n.flags.length ? out.c.red(n.flags.join('; ')) : '',
      ]), { header: ['PATH', 'ID', 'TASKS', 'SUBTREE', 'CPUS', 'EFFECTIVE', 'WEIGHT', 'MEM', 'MEM.MAX', 'PIDS', 'PIDS.MAX', 'FLAGS'], alignRight: [1, 2, 6, 9] });
      if (options.tasks) {
        for (const n of all) if (n.tasks?.length) out.line(`${out.c.bold(n.path)}: ${n.tasks.map((t) => `${t.pid} ${t.comm}`).join(', ')}`);
      }
      out.line();
    }
  },
  script({ file }) {
    return `${scriptPrelude(file)}
// cgroup_subsys[]: controller names by ssid (the length of cgroup->subsys[])
const ssNames = [];
for (let id = 0; ; id++) {
  const ss = vm.dump.pointer(vm.address('cgroup_subsys') + BigInt(id * 8));
  if (ss === 0n || id >= 16) break;
  ssNames.push(vm.objectAt(ss, 'struct cgroup_subsys').member('name').string());
}
const cpuId = ssNames.indexOf('cpu');
const rootShares = vm.object('root_task_group', 'struct task_group').member('shares').bigint();

// walk css->children (list of css.sibling) from cgrp_dfl_root.cgrp.self, parents first
const sibling = vm.types.offsetof('struct cgroup_subsys_state', 'sibling');
function walk(css, path) {
  const cgrp = css.member('cgroup');
  const mask = cgrp.member('subtree_control').number();
  const tg = cgrp.member('subsys').index(cpuId).pointer();
  // cpu.weight = scale_load_down(tg->shares) * 100 / 1024, rounded (tg embeds its css first)
  const weight = tg ? Number((vm.objectAt(tg, 'struct task_group').member('shares').bigint() * 1024n / rootShares * 100n + 512n) / 1024n) : '-';
  console.log(path, 'id', Number(cgrp.member('kn.id').bigint()), 'level', cgrp.member('level').number(),
    'subtree_control', ssNames.filter((_, i) => (mask >> i) & 1).join(',') || '-', 'cpu.weight', weight);
  const head = css.member('children');
  for (let p = head.member('next').pointer(); p !== head.address; p = vm.objectAt(p, 'struct list_head').member('next').pointer()) {
    const child = vm.objectAt(p - BigInt(sibling), 'struct cgroup_subsys_state');
    walk(child, (path === '/' ? '' : path) + '/' + child.member('cgroup.kn.name').string());
  }
}
walk(vm.object('cgrp_dfl_root', 'struct cgroup_root').member('cgrp.self'), '/');
`;
  },
});
