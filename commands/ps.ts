/** vaat ps: every task as crash's `ps` lists them, with state, CPU, priority and cgroup. */
import { defineCommand } from '../src/plugin.js';
import { listTasks, type Task, type TaskStateChar } from '../src/kernel/tasks.js';
import { cpuInfo } from '../src/kernel/cpu.js';
import { panicCpu } from '../src/kernel/panic.js';
import { hex } from '../src/output/style.js';

export interface PsOptions {
  json?: boolean;
  /** -G: thread group leaders only */
  G?: boolean;
  /** -k / -u: kernel threads / user tasks only */
  k?: boolean;
  u?: boolean;
  /** --state DR: only tasks in these states */
  state?: string;
  /** --cgroup /vaat.slice: tasks in this cgroup or below */
  cgroup?: string;
  /** --active: only the tasks current on a CPU */
  active?: boolean;
}

/**
 * A task as `ps` lists it: the model's Task fields it shows, the task_struct address under `task`,
 * and what ps adds — current on a CPU (crash's '>'), the panicking task.
 */
export type PsRow = Pick<Task, 'pid' | 'tgid' | 'ppid' | 'cpu' | 'state' | 'prio' | 'nice' | 'policy' | 'comm' | 'cgroup' | 'flags' | 'onCpu' | 'lastArrival'> & {
  task: Task['address'];
  kthread: Task['isKthread'];
  idle: Task['isIdle'];
  /** current on its CPU (crash's '>') */
  active: boolean;
  /** the task that panicked */
  panic: boolean;
};

export interface PsResult {
  count: number;
  /** how many of each state letter among the listed tasks */
  states: Partial<Record<TaskStateChar, number>>;
  tasks: PsRow[];
}

function matcher(args: string[]): (t: Task) => boolean {
  if (args.length === 0) return () => true;
  const tests = args.map((a): ((t: Task) => boolean) => {
    if (/^\d+$/.test(a)) return (t) => t.pid === Number(a);
    if (/^0x[0-9a-f]+$/i.test(a)) return (t) => t.address === BigInt(a);
    const re = /^\/(.*)\/$/.exec(a);
    if (re) { const r = new RegExp(re[1]); return (t) => r.test(t.comm); }
    return (t) => t.comm === a;
  });
  return (t) => tests.some((f) => f(t));
}

export default defineCommand<PsOptions, PsResult>({
  name: 'ps',
  jsonl: 'tasks',
  summary: 'tasks: pid, parent, CPU, state, priority, command and cgroup (crash ps)',
  args: '[pid|0xtask|comm|/regex/ ...]',
  options: [
    { flags: '-G', description: 'thread group leaders only' },
    { flags: '-k', description: 'kernel threads only' },
    { flags: '-u', description: 'user tasks only' },
    { flags: '--state <letters>', description: 'only these states, e.g. D or RD (R S D T t X Z P I)' },
    { flags: '--cgroup <path>', description: 'only tasks in this cgroup v2 path or below' },
    { flags: '--active', description: 'only the tasks running on a CPU' },
  ],
  run({ vm, options, args }) {
    const currs = new Set<bigint>();
    try { for (const c of cpuInfo(vm).cpus) currs.add(c.curr); } catch { /* no runqueues: no '>' marks */ }
    let panicAddr: bigint | null = null;
    try {
      const pc = panicCpu(vm);
      if (pc) panicAddr = vm.perCpu('runqueues', pc.cpu).member('curr').pointer();
    } catch { /* no panic CPU */ }
    const want = matcher(args);
    const states = options.state ? new Set(options.state.split('')) : null;
    const cg = options.cgroup?.replace(/\/+$/, '') || null;
    // one pass, one array: on 100,000 tasks each chained filter's copy cost more than its test
    const keep = (t: Task): boolean => want(t)
      && (!options.G || t.pid === t.tgid)
      && (!options.k || t.isKthread || t.isIdle)
      && (!options.u || !(t.isKthread || t.isIdle))
      && (!states || states.has(t.state))
      && (!cg || (t.cgroup !== null && (t.cgroup === cg || t.cgroup.startsWith(cg + '/') || cg === '')))
      && (!options.active || currs.has(t.address));
    const rows: PsRow[] = [];
    for (const t of listTasks(vm)) {
      if (!keep(t)) continue;
      rows.push({
        pid: t.pid, tgid: t.tgid, ppid: t.ppid, cpu: t.cpu, task: t.address, state: t.state, prio: t.prio, nice: t.nice,
        policy: t.policy, comm: t.comm, cgroup: t.cgroup, kthread: t.isKthread, idle: t.isIdle,
        active: currs.has(t.address), panic: t.address === panicAddr, flags: t.flags, onCpu: t.onCpu, lastArrival: t.lastArrival,
      });
    }
    rows.sort((a, b) => a.pid - b.pid || a.cpu - b.cpu);
    const counts: Partial<Record<TaskStateChar, number>> = {};
    for (const r of rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
    return { count: rows.length, states: counts, tasks: rows };
  },
  render(r, out) {
    const c = out.c;
    const stateColour = (s: TaskStateChar): string => (s === 'D' ? c.red(s) : s === 'R' ? c.green(s) : s === 'Z' ? c.yellow(s) : s);
    // a generator: the table measures its columns, then writes row by row, with no copy of the rows
    out.table(
      function* () {
        for (const t of r.tasks) {
          yield [
            t.active ? (t.panic ? c.red('>') : '>') : '',
            t.pid, t.ppid, t.cpu, hex(t.task).slice(2), stateColour(t.state), t.prio,
            t.kthread || t.idle ? `[${t.comm}]` : t.comm,
            t.cgroup,
          ];
        }
      },
      { header: ['', 'PID', 'PPID', 'CPU', 'TASK', 'ST', 'PRIO', 'COMM', 'CGROUP'], alignRight: [1, 2, 3, 6] },
    );
    const summary = Object.entries(r.states).map(([s, n]) => `${n} ${s}`).join(', ');
    out.line(c.dim(`${r.count} tasks${summary ? ` (${summary})` : ''}; '>' marks tasks current on a CPU${r.tasks.some((t) => t.panic) ? ', red: the panicking task' : ''}`));
  },
});
