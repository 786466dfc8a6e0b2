/**
 * vaat runq: each CPU's runqueue, as crash's `runq` with its flags: the rq's counters and clocks,
 * the running task, the RT and deadline queues and the CFS entities in scheduling order (each
 * level's running entity first). -g draws the task-group tree instead, with throttled groups.
 */
import { parseCpuList as parseCpuListOf } from '../src/object/helpers.js';
import { defineCommand } from '../src/plugin.js';
import type { Output, Cell, TreeNode } from '../src/output/sink.js';
import { hex } from '../src/output/style.js';
import { runqueues, taskGroupTree, type CfsEntity, type RqModel, type SchedTask, type TaskGroupNode } from '../src/kernel/sched/index.js';
import { NotFoundError } from '../src/errors/index.js';

interface RunqOptions {
  timestamps?: boolean;
  sinceRun?: boolean;
  runTime?: boolean;
  groups?: boolean;
  cpus?: string;
  json?: boolean;
}

export interface RunqCpu extends RqModel {
  /** with -g: the task-group tree on this CPU (null without FAIR_GROUP_SCHED) */
  groups?: TaskGroupNode | null;
}

export interface RunqResult {
  /** the newest rq->clock of the CPUs shown: the best "now" a dump has */
  newestClock: bigint;
  cpus: RunqCpu[];
}

/** "0-2,5" → [0, 1, 2, 5] (cpulist_parse, bounded to real CPU numbers) */
export { parseCpuList } from '../src/object/helpers.js';

/** ns → crash's "[d hh:mm:ss.mmm]"; negative spans (clock skew between CPUs) keep their sign */
export function formatSpan(ns: bigint): string {
  const neg = ns < 0n; // shown as -[...]
  const ms = (neg ? -ns : ns) / 1_000_000n;
  const d = ms / 86_400_000n;
  const h = (ms / 3_600_000n) % 24n;
  const m = (ms / 60_000n) % 60n;
  const s = (ms / 1000n) % 60n;
  const p = (v: bigint, n = 2) => v.toString().padStart(n, '0');
  return `${neg ? '-' : ''}[${d} ${p(h)}:${p(m)}:${p(s)}.${p(ms % 1000n, 3)}]`;
}

export default defineCommand<RunqOptions, RunqResult>({
  name: 'runq',
  summary: "each CPU's runqueue: current task, CFS entities in order with lag, RT and DL queues (-g: task groups)",
  options: [
    { flags: '-t, --timestamps', description: "show rq clocks and each task's last arrival/queued timestamps" },
    { flags: '-T, --since-run', description: "show how long ago each task last ran, and each CPU's clock lag behind the newest" },
    { flags: '-m, --run-time', description: "show how long each CPU's current task has been running" },
    { flags: '-g, --groups', description: 'group by task group (cgroup) as a tree, showing throttled groups' },
    { flags: '-c, --cpus <list>', description: 'only these CPUs, e.g. 0-2,5' },
  ],
  run({ vm, options }) {
    const want = options.cpus ? parseCpuListOf(options.cpus) : undefined;
    const cpus: RunqCpu[] = runqueues(vm, want);
    if (want && cpus.length === 0) throw new NotFoundError(`no possible CPU in '${options.cpus}'`);
    if (options.groups) for (const c of cpus) c.groups = taskGroupTree(vm, c.cpu);
    const newestClock = cpus.reduce((m, c) => (c.clock > m ? c.clock : m), 0n);
    return { newestClock, cpus };
  },
  render(r, out, o) {
    // Idle CPUs with nothing queued say nothing apiece: without -c, runs of them share one row
    // and one line below, so a 512-CPU machine's runq shows the CPUs that were doing something.
    const quiet = o.cpus ? new Set<number>() : new Set(r.cpus.filter(isQuiet).map((c) => c.cpu));
    const runs = quietRuns(r.cpus, quiet);
    const shown = r.cpus.filter((c) => !quiet.has(c.cpu) || runs.get(c.cpu)!.length === 1);
    const rows = (function* () {
      for (const c of r.cpus) {
        const run = runs.get(c.cpu);
        if (run && run.length > 1) {
          if (run[0] === c) yield [`${c.cpu}-${run[run.length - 1].cpu}`, c.online ? 'yes' : 'no', null, 0, null, null, null, null, 'idle (swapper)', ...(o.runTime ? [null] : []), ...(o.sinceRun ? [null] : [])];
          continue;
        }
        yield [
      c.cpu, c.online ? 'yes' : 'no', hex(c.rq), c.nrRunning, c.clock, c.clockTask, c.nrSwitches, c.nrUninterruptible,
      `${c.curr.pid} ${c.curr.comm}`, ...(o.runTime ? [c.currRunTime === null ? null : formatSpan(c.currRunTime)] : []),
      ...(o.sinceRun ? [formatSpan(c.clock - r.newestClock)] : []),
        ];
      }
    });
    out.table(() => rows(), {
      header: ['CPU', 'ONLINE', 'RUNQUEUE', 'NR_RUNNING', 'CLOCK', 'CLOCK_TASK', 'NR_SWITCHES', 'NR_UNINT', 'CURRENT',
        ...(o.runTime ? ['RUN_TIME'] : []), ...(o.sinceRun ? ['CLOCK_LAG'] : [])],
      alignRight: [0, 3, 4, 5, 6, 7],
    });
    const grouped = [...runs.values()].filter((g, i, all) => g.length > 1 && all.indexOf(g) === i);
    if (grouped.length) {
      out.line();
      out.line(out.c.dim(`idle, nothing queued (-c LIST shows them one by one): ${grouped.map((g) => `${g[0].cpu}-${g[g.length - 1].cpu}${g[0].online ? '' : ' (offline)'}`).join(', ')}`));
    }
    for (const c of shown) {
      out.line();
      out.heading(`CPU ${c.cpu}  RUNQUEUE: ${hex(c.rq)}${c.online ? '' : '  (offline)'}`);
      out.line(`  CURRENT: ${taskLine(c.curr)}${o.runTime && c.currRunTime !== null ? `  RUNNING FOR: ${formatSpan(c.currRunTime)}` : ''}`);
      if (c.stop?.queued) out.line(`  STOP: ${taskLine(c.stop.task)}  ${out.c.yellow('[queued]')}`);
      renderRt(c, out, o);
      renderDl(c, out, o);
      if (o.groups) renderGroups(c, out, o);
      else renderCfs(c, out, o);
    }
  },
});

/** a CPU running its idle task with nothing queued in any class */
function isQuiet(c: RunqCpu): boolean {
  return c.nrRunning === 0 && c.curr.pid === 0 && !c.stop?.queued && c.rt.entities.length === 0 && c.dl.entities.length === 0 && c.cfs.entities.length === 0;
}

/** each quiet CPU → the run of consecutive quiet CPUs (same online state) it belongs to */
function quietRuns(cpus: readonly RunqCpu[], quiet: ReadonlySet<number>): Map<number, RunqCpu[]> {
  const runs = new Map<number, RunqCpu[]>();
  let cur: RunqCpu[] = [];
  cpus.forEach((c, i) => {
    if (!quiet.has(c.cpu)) { cur = []; return; }
    const prev = cpus[i - 1];
    if (!cur.length || prev.cpu !== c.cpu - 1 || prev.online !== c.online || !quiet.has(prev.cpu)) cur = [];
    cur.push(c);
    runs.set(c.cpu, cur);
  });
  return runs;
}

function taskLine(t: SchedTask): string {
  return `PID: ${t.pid}  TASK: ${hex(t.task)}  COMMAND: "${t.comm}"`;
}

/** the -t / -T columns of a task */
function timeCells(t: SchedTask | null, c: RqModel, o: RunqOptions): Cell[] {
  const cells: Cell[] = [];
  if (o.timestamps) cells.push(t?.lastArrival ?? null, t?.lastQueued || null);
  if (o.sinceRun) cells.push(t?.lastArrival == null ? null : formatSpan(c.clock - t.lastArrival));
  return cells;
}

function timeHeader(o: RunqOptions): string[] {
  return [...(o.timestamps ? ['LAST_ARRIVAL', 'LAST_QUEUED'] : []), ...(o.sinceRun ? ['SINCE_RUN'] : [])];
}

function renderRt(c: RqModel, out: Output, o: RunqOptions): void {
  out.line(`  RT PRIO_ARRAY: ${hex(c.rt.address)}  rt_nr_running: ${c.rt.rtNrRunning}${c.rt.rtThrottled ? '  ' + out.c.red('THROTTLED') : ''}`);
  if (c.rt.bitmapMismatch.length) out.line(out.c.yellow(`     warning: bitmap disagrees with the lists at prio ${c.rt.bitmapMismatch.join(', ')}`));
  if (!c.rt.entities.length) { out.line('     [no tasks queued]'); return; }
  out.table(c.rt.entities.map((e) => [
    e.running ? '*' : '', `${'  '.repeat(e.depth)}[${e.prio}]`, e.task?.pid ?? 'group', e.task?.comm ?? (e.rtRq === null ? null : hex(e.rtRq)), hex(e.task?.task ?? e.rtSe), ...timeCells(e.task, c, o),
  ]), { header: ['', 'PRIO', 'PID', 'COMMAND', 'TASK', ...timeHeader(o)], alignRight: [2] });
}

function renderDl(c: RqModel, out: Output, o: RunqOptions): void {
  out.line(`  DL RB_ROOT: ${hex(c.dl.address)}  dl_nr_running: ${c.dl.dlNrRunning}`);
  if (!c.dl.entities.length) { out.line('     [no tasks queued]'); return; }
  out.table(c.dl.entities.map((e) => [
    e.running ? '*' : '', e.task?.pid ?? 'server', e.task?.comm ?? hex(e.dlSe), e.deadline, e.runtime, e.dlRuntime, e.dlPeriod, e.throttled ? 'yes' : '', ...timeCells(e.task, c, o),
  ]), { header: ['', 'PID', 'COMMAND', 'DEADLINE', 'RUNTIME', 'DL_RUNTIME', 'DL_PERIOD', 'THROTTLED', ...timeHeader(o)], alignRight: [1, 3, 4, 5, 6] });
}

function entityName(e: CfsEntity): string {
  const pad = '  '.repeat(e.depth);
  return e.type === 'task' ? `${pad}[${e.prio}] ${e.pid} ${e.comm}` : `${pad}<${e.cgroup}>${e.throttled ? ' THROTTLED' : ''}`;
}

function renderCfs(c: RqModel, out: Output, o: RunqOptions): void {
  const q = c.cfs;
  const eevdf = q.entities.some((e) => e.eevdf);
  out.line(`  CFS_RQ: ${hex(q.address)}  nr_running: ${q.nrRunning}  h_nr_running: ${q.hNrRunning}  min_vruntime: ${q.minVruntime}` +
    `${q.avgVruntime !== null ? `  avg_vruntime: ${q.avgVruntime}` : ''}  (tree order: ${q.order})`);
  if (!q.entities.length) { out.line('     [no tasks queued]'); return; }
  out.table(q.entities.map((e) => [
    e.running ? '*' : '', entityName(e), e.vruntime, e.minVruntimeLag, e.weight,
    ...(eevdf ? [e.eevdf?.lag ?? null, e.eevdf?.deadline ?? null, e.eevdf?.eligible === null || !e.eevdf ? null : e.eevdf.eligible ? 'yes' : 'no'] : []),
    e.type === 'task' ? e.cgroup : `${e.nrRunning} queued`,
    ...timeCells(e.type === 'task' ? e : null, c, o),
  ]), {
    header: ['', 'ENTITY', 'VRUNTIME', '+MIN_VRUNTIME', 'WEIGHT', ...(eevdf ? ['LAG', 'DEADLINE', 'ELIGIBLE'] : []), 'CGROUP', ...timeHeader(o)],
    alignRight: [2, 3, 4, ...(eevdf ? [5, 6] : [])],
  });
  out.line(out.c.dim('     * = running on its cfs_rq (cfs_rq->curr, not in the rbtree); weights as stored (nice 0 = 1048576 on 64-bit)'));
}

function renderGroups(c: RunqCpu, out: Output, o: RunqOptions): void {
  const g = c.groups;
  if (!g) { out.line('  (this kernel has no FAIR_GROUP_SCHED: no task groups)'); renderCfs(c, out, o); return; }
  const taskLabel = (t: CfsEntity & { type: 'task' }) => {
    const times = [
      o.timestamps && t.lastArrival !== null ? `arrived ${t.lastArrival}` : '',
      o.sinceRun && t.lastArrival !== null ? `ran ${formatSpan(c.clock - t.lastArrival)} ago` : '',
    ].filter(Boolean).join(', ');
    return `[${t.prio}] PID: ${t.pid}  TASK: ${hex(t.task)}  COMMAND: "${t.comm}"  vruntime ${t.vruntime}` +
      `${t.running ? (t.task === c.curr.task ? ' [CURRENT]' : ' [RUNNING]') : ''}${times ? `  (${times})` : ''}`;
  };
  const node = (n: TaskGroupNode): TreeNode => {
    const q = n.cfsRq;
    const bw = n.bandwidth && n.bandwidth.quota !== null ? `  quota ${n.bandwidth.quota / 1000n}us/${n.bandwidth.period / 1000n}us` : '';
    const thr = q.throttled ? `  ${out.c.red('THROTTLED')} runtime_remaining ${q.runtimeRemaining}` : (q.throttleCount ?? 0) > 0 ? '  (under a throttled ancestor)' : '';
    const se = n.se ? `  vruntime ${n.se.vruntime} weight ${n.se.weight}${n.se.running ? ' [RUNNING]' : ''}` : '';
    const label = `${n.se ? '' : 'ROOT_TASK_GROUP '}<${n.cgroup}>  TASK_GROUP: ${hex(n.taskGroup)}  CFS_RQ: ${hex(q.address)}  nr_running ${q.nrRunning}/${q.hNrRunning}${se}${bw}${thr}`;
    const kids: TreeNode[] = [...n.tasks.map((t) => ({ label: taskLabel(t) })), ...n.children.map(node)];
    if (!kids.length) kids.push({ label: '[no tasks queued]' });
    return { label, children: kids };
  };
  out.tree(node(g));
}
