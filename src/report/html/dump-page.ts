/**
 * One dump's page: the panic and its stack, the wait-for graph, runqueues, task states, grouped
 * stacks, the cgroup tree, CPU topology and TLB state, the kernel log, modules and taints, the
 * similar dumps — each section linking to the analysis files it shows. Built as a string from
 * DumpPageData; the charts, the graph and the task list are drawn in the browser from the page's
 * embedded data (client/), and every figure they draw is also in a table here.
 */
import { panicLinesFromLog, type LogRecord } from '../../kernel/printk/index.js';
import { humanBytes } from '../../output/style.js';
import type { ChartSpec } from './charts.js';
import { binWidth, pairedBars, simpleBars, stackedBars } from './charts.js';
import type {
  CgroupNodeJson, DumpPageData, FrameJson, LogJson, PsTaskJson, RqGroupJson, RunqCpuJson, SchedEntityJson, TraceJson,
} from './data.js';
import { anchorId, esc, urlPart, type Html } from './escape.js';
import { chart, kvTable, page, section, table } from './layout.js';

export interface DumpPageOptions {
  /** URL prefix of the shared assets, relative to the page (default "../assets") */
  assetBase?: string;
  /** URL prefix of this dump's .txt/.json files, relative to the page (default: same directory) */
  filesBase?: string;
  /** the fleet page, relative to the page (default "../index.html"); null: none */
  upHref?: string | null;
  /** URL of another dump's page from its report directory name (default "../DIR/index.html") */
  dumpHref?: (dir: string) => string;
  /** sections of the caller's own put first (the fleet service: the dump's state in the service) */
  extra?: { id: string; label: string; title: string; body: Html }[];
}

/** the browser-side data of a dump page */
export interface DumpClientData {
  kind: 'dump';
  charts: Record<string, ChartSpec>;
  graph: WaitGraph | null;
  tasks: { columns: string[]; rows: (string | number | null)[][]; links: (string | null)[] } | null;
}

export interface WaitGraph {
  nodes: { id: string; label: string; kind: 'task' | 'lock' | 'wait'; href: string | null; cycle: boolean; detail: string }[];
  edges: { from: string; to: string; label: string; cycle: boolean }[];
}

const STATE_NAMES: Record<string, string> = {
  R: 'running', S: 'sleeping', D: 'uninterruptible', T: 'stopped', t: 'traced', X: 'dead', Z: 'zombie', P: 'parked', I: 'idle', '?': 'unknown',
};
/** sched policies (include/uapi/linux/sched.h) and the class that runs them */
const POLICY: Record<number, { name: string; cls: string }> = {
  0: { name: 'NORMAL', cls: 'CFS' }, 1: { name: 'FIFO', cls: 'RT' }, 2: { name: 'RR', cls: 'RT' }, 3: { name: 'BATCH', cls: 'CFS' },
  5: { name: 'IDLE', cls: 'CFS' }, 6: { name: 'DEADLINE', cls: 'DL' },
};
const policyName = (p: number | undefined): string => (p === undefined ? '?' : POLICY[p]?.name ?? String(p));

const num = (x: number | string | null | undefined): number | null => {
  if (x === null || x === undefined) return null;
  const n = typeof x === 'number' ? x : Number(x);
  return Number.isFinite(n) ? n : null;
};
const ms = (ns: number | string | null | undefined): string => {
  const n = num(ns);
  if (n === null) return '?';
  return n >= 1e9 ? `${(n / 1e9).toFixed(3)} s` : `${(n / 1e6).toFixed(3)} ms`;
};
const code = (s: unknown): Html => `<code>${esc(s)}</code>`;
const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** where each task's stack is on the page: its full trace (active CPUs) or its stack group */
class StackLinks {
  readonly trace = new Map<number, string>();
  readonly group = new Map<number, string>();
  constructor(d: DumpPageData) {
    for (const t of d.bt?.traces ?? []) if (typeof t.pid === 'number') this.trace.set(t.pid, anchorId('trace', t.pid, t.cpu ?? 'x'));
    (d.stacks?.groups ?? []).forEach((g, i) => { for (const p of g.pids ?? []) if (!this.group.has(p)) this.group.set(p, anchorId('stack', i)); });
  }
  href(pid: number | null | undefined): string | null {
    if (pid === null || pid === undefined) return null;
    const a = this.trace.get(pid) ?? this.group.get(pid);
    return a ? `#${a}` : null;
  }
  task(pid: number | null | undefined, comm: string | null | undefined): Html {
    const label = `${esc(comm ?? '?')}(${esc(pid ?? '?')})`;
    const h = this.href(pid);
    return h ? `<a href="${esc(h)}">${label}</a>` : label;
  }
}

function frameHtml(f: FrameJson): Html {
  const mod = f.module ? ` <span class="mod" title="module">[${esc(f.module)}]</span>` : '';
  const text = f.module ? f.text.replace(new RegExp(`\\s*\\[${f.module.replace(/[^\w]/g, '\\$&')}\\]$`), '') : f.text;
  const badges = [
    f.inlined ? '<span class="badge inl" title="inlined into the frame below">inlined</span>' : '',
    f.user ? '<span class="badge">user space</span>' : '',
    f.reliable === false ? '<span class="badge warn" title="found by scanning the stack: may be stale">?</span>' : '',
  ].join('');
  const boundary = f.boundary ? `<li class="boundary">--- &lt;${esc(f.boundary)}&gt; interrupted context ---</li>` : '';
  return `${boundary}<li class="frame${f.inlined ? ' inlined' : ''}"><span class="idx">#${esc(f.index)}</span> <span class="fn">${esc(text)}</span>${mod} ${badges}</li>`;
}

function traceHtml(t: TraceJson, heading: boolean): Html {
  const id = anchorId('trace', t.pid, t.cpu ?? 'x');
  return `<div class="trace" id="${esc(id)}">${heading ? `<h4>${esc(t.comm)}(${esc(t.pid)}) on CPU ${esc(t.cpu)} <span class="dim">${esc(t.task)}</span></h4>` : ''}`
    + `<ol class="stack">${t.frames.map(frameHtml).join('')}</ol>`
    + `<p class="dim small">from ${esc(t.startedFrom ?? '?')}; stopped: ${esc(t.stoppedBecause ?? '?')}</p></div>`;
}

function overviewSection(d: DumpPageData): Html {
  const s = d.sys;
  const sig = d.signature;
  const panicTrace = d.bt?.traces.find((t) => s?.pid !== null && s?.pid !== undefined && t.pid === s.pid && (s.cpu === null || s.cpu === undefined || t.cpu === s.cpu))
    ?? d.bt?.traces.find((t) => t.cpu === s?.panic?.cpu?.cpu) ?? null;
  const kv = kvTable([
    ['Panic', s?.panic?.message ? `<strong class="panic-msg">${esc(s.panic.message)}</strong>${s.panic.source ? ` <span class="dim">(${esc(s.panic.source)})</span>` : ''}` : '<span class="dim">no panic message found</span>'],
    ['Signature', sig ? `${esc(sig.class.title)} <span class="dim">(${esc(sig.class.kind)}${sig.frames.guilty ? `, guilty frame ${code(sig.frames.guilty)}` : ''})</span>` : null],
    ['CPU', s?.panic?.cpu ? `${esc(s.panic.cpu.cpu)} <span class="dim">(${esc(s.panic.cpu.source)})</span>` : esc(s?.cpu ?? null)],
    ['Task', s?.pid !== null && s?.pid !== undefined ? `${esc(s.command)}(${esc(s.pid)}) <span class="dim">${esc(s.task)} ${esc(s.state)}</span>` : null],
    ['Host', esc(s?.nodename)],
    ['Kernel', s?.release ? `${esc(s.release)} <span class="dim">${esc(s.version)} ${esc(s.machine)}</span>` : null],
    ['Crashed at', esc(s?.dateText ?? d.summary.overview?.DATE)],
    ['Uptime', esc(s?.uptime?.text)],
    ['CPUs', s?.cpus !== undefined ? `${esc(s.cpus)} (${esc(s.cpusOnline)} online)` : null],
    ['Memory', esc(s?.memory?.text)],
    ['Tasks', esc(s?.tasks?.total)],
    ['Load average', esc(s?.loadAverage?.text)],
    ['Taint', s?.taint ? `${code(s.taint)}${s.taintLetters ? ` <a href="#modules">${esc(s.taintLetters)}</a>` : ''}` : null],
    ['Dump', `${code(d.summary.path)}${s?.dumpLevel !== null && s?.dumpLevel !== undefined ? ` <span class="dim">dump level ${esc(s.dumpLevel)}</span>` : ''}`],
    ['Symbols', esc(s?.kernel?.symbols)],
    ['Types', esc(s?.kernel?.types)],
  ]);
  const warnings = [...(s?.warnings ?? []), ...(sig?.errors ?? [])];
  const stack = panicTrace
    ? `<h3>Panic stack: ${esc(panicTrace.comm)}(${esc(panicTrace.pid)}) on CPU ${esc(panicTrace.cpu)}</h3>${traceHtml({ ...panicTrace }, false)}`
    : '<p class="dim">No stack of the panicking task (see bt-a).</p>';
  return section('panic', 'Panic', ['sys', 'signature', 'bt-a'],
    kv + (warnings.length ? `<ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '') + stack);
}

function waitGraph(d: DumpPageData, links: StackLinks): WaitGraph | null {
  const L = d.locks;
  if (!L || L.tasks.length === 0) return null;
  const cyclePids = new Set(L.chains.filter((c) => c.cycle).flatMap((c) => c.pids));
  for (const c of L.cycles ?? []) for (const p of c.pids) cyclePids.add(p);
  const nodes = new Map<string, WaitGraph['nodes'][number]>();
  const edges: WaitGraph['edges'] = [];
  const taskNode = (pid: number, comm: string | null, state: string | null): string => {
    const id = `task:${pid}`;
    if (!nodes.has(id)) nodes.set(id, { id, label: `${comm ?? '?'}(${pid})${state ? ` ${state}` : ''}`, kind: 'task', href: links.href(pid), cycle: cyclePids.has(pid), detail: state ? `state ${state}` : '' });
    return id;
  };
  for (const w of L.tasks) {
    const t = taskNode(w.pid, w.comm, w.state);
    const target = w.lockAddress ?? w.waitAddress;
    if (!target) continue;
    const kind = w.kind === 'lock' ? 'lock' : 'wait';
    const id = `${kind}:${target}`;
    const inCycle = cyclePids.has(w.pid) && w.ownerPid !== null && cyclePids.has(w.ownerPid);
    if (!nodes.has(id)) {
      const name = w.lockSymbol ?? target;
      nodes.set(id, { id, label: w.lockKind ? `${name} (${w.lockKind})` : `${name} (${w.kind})`, kind, href: null, cycle: false, detail: w.note });
    }
    if (inCycle) nodes.get(id)!.cycle = true;
    edges.push({ from: t, to: id, label: w.waited?.seconds !== null && w.waited?.seconds !== undefined ? `waits ${w.waited.seconds.toFixed(1)} s` : 'waits', cycle: inCycle });
    if (w.ownerPid !== null) {
      const o = taskNode(w.ownerPid, w.ownerComm, w.ownerState);
      const held = edges.find((e) => e.from === id && e.to === o);
      if (held) held.cycle ||= inCycle;
      else edges.push({ from: id, to: o, label: 'held by', cycle: inCycle });
    }
  }
  return { nodes: [...nodes.values()], edges };
}

function waitsSection(d: DumpPageData, links: StackLinks, g: WaitGraph | null): Html {
  const L = d.locks;
  if (!L) return section('waits', 'Wait-for graph', ['lockinfo-blocked'], '<p class="dim">Not available (the lockinfo --blocked analysis failed or did not run).</p>');
  if (!g) return section('waits', 'Wait-for graph', ['lockinfo-blocked'], '<p>No task is blocked on a lock, completion or wait queue.</p>');
  const cycles = L.chains.filter((c) => c.cycle);
  const desc = `Wait-for graph: ${plural(L.tasks.length, 'blocked task')}, ${plural(g.nodes.filter((n) => n.kind !== 'task').length, 'lock or wait object')}, ${cycles.length ? `${plural(cycles.length, 'deadlock cycle')} (highlighted)` : 'no deadlock cycle'}.`;
  const chains = `<h3>Chains</h3><ul class="chains">${L.chains.map((c) => `<li class="${c.cycle ? 'cycle' : ''}">${c.cycle ? '<strong>cycle:</strong> ' : ''}${esc(c.text)} <span class="dim">— ${esc(c.end)}</span></li>`).join('')}</ul>`;
  const rows = L.tasks.map((w) => [
    links.task(w.pid, w.comm), esc(w.state), esc(w.note),
    w.ownerPid !== null ? links.task(w.ownerPid, w.ownerComm) : '<span class="dim">—</span>',
    esc(w.waited?.seconds !== null && w.waited?.seconds !== undefined ? w.waited.seconds.toFixed(3) : '?'),
    esc((w.blockedIn ?? []).join(' ← ')),
  ]);
  return section('waits', 'Wait-for graph', ['lockinfo-blocked'],
    `<figure class="graph"><div class="graph-box" data-graph="waits" role="group" aria-label="${esc(desc)}"></div><figcaption>${esc(desc)} Blocked tasks point to what they wait on, locks to their owners; each task links to its stack.</figcaption></figure>`
    + chains + table(['TASK', 'STATE', 'WAITS ON', 'OWNER', 'WAITED (s)', 'BLOCKED IN'], rows, { numeric: [4] }));
}

function currClass(c: RunqCpuJson, ps: Map<number, PsTaskJson>): string {
  if (!c.curr) return 'unknown';
  if (c.idle && c.curr.task === c.idle.task) return 'idle';
  if (c.stop?.task && c.curr.task === c.stop.task.task) return 'stop';
  const p = ps.get(c.curr.pid)?.policy;
  return p === undefined ? (c.curr.prio < 100 ? 'RT' : 'CFS') : POLICY[p]?.cls ?? 'CFS';
}

function cfsTable(c: RunqCpuJson, links: StackLinks): Html {
  const ents = c.cfs?.entities ?? [];
  if (ents.length === 0) return '<p class="dim">CFS: nothing queued.</p>';
  const rows = ents.map((e: SchedEntityJson) => [
    `${'&nbsp;&nbsp;'.repeat(e.depth)}${e.type === 'task' ? links.task(e.pid, e.comm) : `<span class="grp">group ${esc(e.cgroup ?? '?')}</span>`}`,
    e.running ? '<strong>running</strong>' : 'queued',
    esc(e.vruntime), esc(e.minVruntimeLag ?? e.eevdf?.lag ?? '?'), esc(e.weight),
    e.type === 'task' ? esc(e.cgroup ?? '') : e.throttled ? '<strong class="bad">throttled</strong>' : '',
  ]);
  return table(['ENTITY (tree order)', '', 'VRUNTIME', 'LAG (vs min_vruntime)', 'WEIGHT', 'CGROUP'], rows, { numeric: [2, 3, 4], caption: `CPU ${c.cpu} CFS order (${c.cfs?.order ?? 'vruntime'})` });
}

function throttledGroups(cpus: RunqCpuJson[]): { cpu: number; g: RqGroupJson }[] {
  const out: { cpu: number; g: RqGroupJson }[] = [];
  const walk = (cpu: number, g: RqGroupJson | null | undefined): void => {
    if (!g) return;
    if (g.cfsRq?.throttled || (g.cfsRq?.throttleCount ?? 0) > 0 || (g.bandwidth?.nrThrottled ?? 0) > 0) out.push({ cpu, g });
    for (const ch of g.children ?? []) walk(cpu, ch);
  };
  for (const c of cpus) walk(c.cpu, c.groups);
  return out;
}

function runqSection(d: DumpPageData, links: StackLinks, charts: Record<string, ChartSpec>): Html {
  const rq = d.runq;
  if (!rq) return section('runq', 'Runqueues', ['runq', 'runq-g'], '<p class="dim">Not available.</p>');
  const ps = new Map((d.ps?.tasks ?? []).map((t) => [t.pid, t]));
  const cpus = rq.cpus;
  const cats = cpus.map((c) => `CPU ${c.cpu}`);
  const classes = ['CFS', 'RT', 'DL', 'stop', 'idle', 'unknown'];
  const running = classes.map((k) => ({ name: `running: ${k}`, data: cpus.map((c) => (currClass(c, ps) === k ? 1 : 0)) })).filter((s) => s.data.some((x) => x));
  const queued = [
    { name: 'queued: CFS', data: cpus.map((c) => c.cfs?.queuedTasks?.length ?? 0) },
    { name: 'queued: RT', data: cpus.map((c) => Math.max(0, (c.rt?.entities?.length ?? 0) - (currClass(c, ps) === 'RT' ? 1 : 0))) },
    { name: 'queued: DL', data: cpus.map((c) => Math.max(0, (c.dl?.entities?.length ?? 0) - (currClass(c, ps) === 'DL' ? 1 : 0))) },
  ].filter((s) => s.data.some((x) => x));
  const links1 = cpus.map((c) => `#${anchorId('rq', c.cpu)}`);
  charts.runq = stackedBars({
    categories: cats, series: [...running, ...queued], links: links1, yName: 'tasks',
    description: `Tasks per CPU runqueue at the crash, the running one by scheduling class and the queued ones by class: ${cpus.map((c) => `CPU ${c.cpu} ${c.nrRunning} runnable`).join(', ')}.`,
  });
  const runtimes = cpus.map((c) => (num(c.currRunTime) ?? 0) / 1e6);
  charts.runtime = simpleBars({
    categories: cpus.map((c) => `CPU ${c.cpu}: ${c.curr?.comm ?? '?'}(${c.curr?.pid ?? '?'})`), values: runtimes.map((v) => Math.round(v * 1000) / 1000),
    name: 'ran for (ms)', yName: 'ms', horizontal: true, links: links1, height: 60 + cpus.length * 28,
    description: `How long each CPU's current task had run when the dump was taken: ${cpus.map((c, i) => `CPU ${c.cpu} ${c.curr?.comm ?? '?'} ${runtimes[i].toFixed(1)} ms`).join(', ')}.`,
  });
  const summary = table(['CPU', 'CURRENT', 'CLASS', 'RAN FOR', 'RUNNABLE', 'CFS', 'RT', 'DL'], cpus.map((c) => [
    `<a href="#${esc(anchorId('rq', c.cpu))}">${esc(c.cpu)}</a>${c.online ? '' : ' <span class="dim">offline</span>'}`,
    c.curr ? links.task(c.curr.pid, c.curr.comm) : '?', esc(currClass(c, ps)), esc(ms(c.currRunTime)), esc(c.nrRunning),
    esc(c.cfs?.hNrRunning ?? c.cfs?.nrRunning ?? 0), esc(c.rt?.rtNrRunning ?? 0), esc(c.dl?.dlNrRunning ?? 0),
  ]), { numeric: [0, 4, 5, 6, 7] });
  const perCpu = cpus.map((c) => {
    const rt = (c.rt?.entities ?? []).length ? table(['RT TASK', 'PRIO'], (c.rt?.entities ?? []).map((e) => [links.task(e.pid, e.comm), esc(e.prio)])) : '';
    const dl = (c.dl?.entities ?? []).length ? table(['DL TASK'], (c.dl?.entities ?? []).map((e) => [links.task(e.pid, e.comm)])) : '';
    return `<details id="${esc(anchorId('rq', c.cpu))}" class="rq"><summary>CPU ${esc(c.cpu)}: ${c.curr ? `${esc(c.curr.comm)}(${esc(c.curr.pid)})` : '?'} running, ${esc(c.nrRunning)} runnable${c.cfs?.throttled ? ' — <strong class="bad">CFS throttled</strong>' : ''}${c.rt?.rtThrottled ? ' — <strong class="bad">RT throttled</strong>' : ''}</summary>${cfsTable(c, links)}${rt}${dl}</details>`;
  }).join('');
  const thr = throttledGroups(d.runqGroups?.cpus ?? []);
  const thrHtml = `<h3>Throttled groups</h3>` + (thr.length ? table(['CPU', 'CGROUP', 'THROTTLED NOW', 'QUOTA', 'PERIOD', 'TIMES THROTTLED', 'THROTTLED TIME'], thr.map(({ cpu, g }) => [
    esc(cpu), esc(g.cgroup ?? g.taskGroup), g.cfsRq?.throttled ? '<strong class="bad">yes</strong>' : 'no', esc(ms(g.bandwidth?.quota)), esc(ms(g.bandwidth?.period)),
    esc(g.bandwidth?.nrThrottled ?? 0), esc(ms(g.bandwidth?.throttledTime)),
  ]), { numeric: [0, 5] }) : '<p>No task group is or was throttled.</p>');
  return section('runq', 'Runqueues', ['runq', 'runq-g'],
    `<div class="two">${chart('runq', charts.runq.description)}${chart('runtime', charts.runtime.description, charts.runtime.height)}</div>${summary}<h3>Per CPU (CFS order with lag)</h3>${perCpu}${thrHtml}`);
}

function tasksSection(d: DumpPageData, links: StackLinks, charts: Record<string, ChartSpec>): { html: Html; client: DumpClientData['tasks'] } {
  const ps = d.ps;
  if (!ps) return { html: section('tasks', 'Tasks', ['ps'], '<p class="dim">Not available.</p>'), client: null };
  const states = Object.entries(ps.states).sort((a, b) => b[1] - a[1]);
  charts.states = simpleBars({
    categories: states.map(([s]) => `${s} ${STATE_NAMES[s] ?? ''}`.trim()), values: states.map(([, n]) => n), name: 'tasks', yName: 'tasks',
    mark: states.map(([s], i) => (s === 'D' ? i : -1)).filter((i) => i >= 0),
    description: `Task states over all ${ps.count} tasks: ${states.map(([s, n]) => `${n} ${STATE_NAMES[s] ?? s}`).join(', ')}.`,
  });
  const columns = ['PID', 'PPID', 'CPU', 'ST', 'PRIO', 'POLICY', 'COMM', 'CGROUP', 'TASK'];
  const rows = ps.tasks.map((t) => [t.pid, t.ppid, t.cpu, t.state, t.prio, policyName(t.policy), t.comm + (t.panic ? ' (panic)' : t.active ? ' (active)' : ''), t.cgroup ?? '', t.task]);
  const tlinks = ps.tasks.map((t) => links.href(t.pid));
  const stateTable = table(['STATE', 'TASKS'], states.map(([s, n]) => [`${esc(s)} <span class="dim">${esc(STATE_NAMES[s] ?? '')}</span>`, esc(n)]), { numeric: [1] });
  const list = `<div class="tasklist" data-tasklist="tasks">
<label class="filter">Filter tasks <input type="search" placeholder="pid, comm, state or cgroup" data-tasklist-filter></label> <span class="dim" data-tasklist-count>${esc(ps.count)} tasks</span>
<div class="vt" role="table" aria-label="All ${esc(ps.count)} tasks" aria-rowcount="${esc(ps.count + 1)}">
<div class="vt-head" role="row">${columns.map((c, i) => `<span role="columnheader" class="c${i}"><button type="button" data-sort="${i}">${esc(c)}</button></span>`).join('')}</div>
<div class="vt-body" tabindex="0" data-tasklist-body aria-label="task rows: arrow keys scroll"></div>
</div></div>`;
  return {
    html: section('tasks', 'Tasks', ['ps'], `<div class="two">${chart('states', charts.states.description)}${stateTable}</div>${list}`),
    client: { columns, rows, links: tlinks },
  };
}

const PID_LIST_MAX = 200;

function stacksSection(d: DumpPageData): Html {
  const st = d.stacks;
  const active = (d.bt?.traces ?? []).map((t) => traceHtml(t, true)).join('');
  const activeHtml = d.bt ? `<h3>Active CPUs (bt -a)</h3>${active || '<p class="dim">(none)</p>'}` : '';
  if (!st) return section('stacks', 'Stacks', ['stacks', 'bt-a'], '<p class="dim">Grouped stacks not available.</p>' + activeHtml);
  const groups = st.groups.map((g, i) => {
    const shown = g.pids.slice(0, PID_LIST_MAX).map((p, j) => `${esc(g.comms[j] ?? '?')}(${esc(p)})`).join(', ');
    const more = g.pids.length > PID_LIST_MAX ? ` <span class="dim">… and ${g.pids.length - PID_LIST_MAX} more (see stacks.json)</span>` : '';
    const top = g.functions[0] ?? '?';
    return `<details class="sg state-${esc(anchorId(g.state))}" id="${esc(anchorId('stack', i))}"${g.state === 'D' ? ' open' : ''}><summary><span class="count">${esc(g.count)}</span> × <span class="st">${esc(g.state)}</span> ${esc(top)}${g.functions.length > 1 ? ` ← ${esc(g.functions[1])}` : ''}</summary>`
      + `<ol class="stack">${g.functions.map((f) => `<li class="frame"><span class="fn">${esc(f)}</span></li>`).join('')}</ol>`
      + `<p class="small">Tasks: ${shown}${more}</p>${g.stoppedBecause ? `<p class="dim small">stopped: ${esc(g.stoppedBecause)}</p>` : ''}</details>`;
  }).join('\n');
  return section('stacks', 'Stacks', ['stacks', 'bt-a'],
    `<p>${esc(st.tasks)} tasks in ${esc(st.groups.length)} groups of identical stacks (uninterruptible ones open). <button type="button" class="toggle-all" data-toggle="#stacks details.sg">Expand/collapse all</button></p>${groups}${activeHtml}`);
}

function cgroupNodeHtml(n: CgroupNodeJson): Html {
  const mem = n.memory;
  const cur = num(mem?.currentBytes);
  const max = mem?.maxBytes === 'max' || mem?.maxBytes === null || mem?.maxBytes === undefined ? null : num(mem.maxBytes);
  const memHtml = cur === null ? '' : max !== null
    ? `<span class="memuse">memory <meter min="0" max="${esc(max)}" value="${esc(Math.min(cur, max))}" high="${esc(max * 0.9)}" optimum="0" title="${esc(humanBytes(cur))} of ${esc(humanBytes(max))}">${esc(Math.round((cur / max) * 100))}%</meter> ${esc(humanBytes(cur))} / ${esc(humanBytes(max))}</span>`
    : `<span class="memuse">memory ${esc(humanBytes(cur))} <span class="dim">/ max</span></span>`;
  const bw = n.cpu?.bandwidth;
  const facts = [
    n.nrTasks !== null && n.nrTasks !== undefined ? `${esc(n.nrTasks)} tasks` : '',
    n.cpuset?.effectiveCpus ? `cpus ${esc(n.cpuset.effectiveCpus)}${n.cpuset.cpus && n.cpuset.cpus !== n.cpuset.effectiveCpus ? ` (asked ${esc(n.cpuset.cpus)})` : ''}` : '',
    n.cpuset?.effectiveMems ? `mems ${esc(n.cpuset.effectiveMems)}` : '',
    n.cpu?.weight !== null && n.cpu?.weight !== undefined ? `cpu.weight ${esc(n.cpu.weight)}` : '',
    bw?.quotaUs ? `cpu.max ${esc(bw.quotaUs)}/${esc(bw.periodUs)} µs${bw.nrThrottled ? `, <strong class="bad">throttled ${esc(bw.nrThrottled)}×</strong>` : ''}` : '',
    memHtml,
    n.pids && n.pids.current !== null ? `pids ${esc(n.pids.current)} / ${esc(n.pids.max)}` : '',
    (mem?.events?.oom ?? 0) > 0 ? `<strong class="bad">oom ${esc(mem?.events?.oom)}</strong>` : '',
  ].filter(Boolean).join(' · ');
  const kids = n.children ?? [];
  const label = `<code class="cg">${esc(n.path)}</code> <span class="facts">${facts}</span>`;
  if (!kids.length) return `<li class="leaf">${label}</li>`;
  return `<li><details open><summary>${label}</summary><ul>${kids.map(cgroupNodeHtml).join('')}</ul></details></li>`;
}

function cgroupsSection(d: DumpPageData, charts: Record<string, ChartSpec>): Html {
  const cg = d.cgroups;
  if (!cg || !cg.hierarchies?.length) return section('cgroups', 'Cgroups', ['cgroupinfo'], '<p class="dim">Not available.</p>');
  const trees = cg.hierarchies.map((h) => `<h3>cgroup v${esc(h.version)}${h.name ? ` ${esc(h.name)}` : ''} <span class="dim">(hierarchy ${esc(h.hierarchyId)})</span></h3><ul class="tree">${cgroupNodeHtml(h.root)}</ul>`).join('');
  const limited: { path: string; cur: number; max: number }[] = [];
  const walk = (n: CgroupNodeJson): void => {
    const cur = num(n.memory?.currentBytes);
    const max = n.memory?.maxBytes === 'max' ? null : num(n.memory?.maxBytes ?? null);
    if (cur !== null && max !== null) limited.push({ path: n.path, cur, max });
    (n.children ?? []).forEach(walk);
  };
  cg.hierarchies.forEach((h) => walk(h.root));
  let memChart = '';
  if (limited.length) {
    const MiB = 1 << 20;
    charts.memory = pairedBars({
      categories: limited.map((l) => l.path), xName: 'MiB', height: 70 + limited.length * 34,
      a: { name: 'memory.current', data: limited.map((l) => Math.round((l.cur / MiB) * 10) / 10) },
      b: { name: 'memory.max', data: limited.map((l) => Math.round((l.max / MiB) * 10) / 10) },
      description: `Memory in use against the limit for the ${plural(limited.length, 'cgroup')} with a memory.max: ${limited.map((l) => `${l.path} ${humanBytes(l.cur)} of ${humanBytes(l.max)}`).join(', ')}.`,
    });
    memChart = chart('memory', charts.memory.description, charts.memory.height);
  }
  return section('cgroups', 'Cgroups', ['cgroupinfo'], `<p><button type="button" class="toggle-all" data-toggle="#cgroups details">Expand/collapse all</button></p>${trees}${memChart}`);
}

function cpusSection(d: DumpPageData, links: StackLinks): Html {
  const ci = d.cpus;
  if (!ci) return section('cpus', 'CPUs', ['cpuinfo'], '<p class="dim">Not available.</p>');
  const topo = ci.topology;
  let topoHtml = '<p class="dim">Topology not available.</p>';
  if (topo) {
    const byCpu = new Map(topo.cpus.map((c) => [c.cpu, c]));
    const cell = (cpu: number): Html => {
      const c = byCpu.get(cpu);
      const doing = c?.doing;
      const what = doing ? (doing.pid !== undefined ? `${links.task(doing.pid, doing.comm)} <span class="dim">${esc(doing.state)}</span>` : esc(doing.state)) : '?';
      const panic = topo.panicCpu === cpu;
      return `<div class="cpu${panic ? ' panic' : ''}${c && !c.online ? ' offline' : ''}"><div class="cpu-n">CPU ${esc(cpu)}${panic ? ' <strong>panic</strong>' : ''}</div><div class="cpu-doing">${what}</div>${c?.numaNode !== null && c?.numaNode !== undefined ? `<div class="dim small">node ${esc(c.numaNode)}</div>` : ''}</div>`;
    };
    const matrix = topo.matrix?.length
      ? topo.matrix.map((p) => `<div class="pkg"><div class="pkg-n">socket ${esc(p.package)}</div>${p.cores.map((c) => `<div class="core"><div class="core-n">core ${esc(c.core)}</div>${c.cpus.map(cell).join('')}</div>`).join('')}</div>`).join('')
      : topo.cpus.map((c) => cell(c.cpu)).join('');
    topoHtml = `<p>${esc(topo.vendor ?? '')} ${esc(topo.model ?? '')}${topo.smtActive ? ' · SMT active' : ''}</p><div class="topology" role="list" aria-label="CPU topology: sockets, cores, CPUs and what each ran at the crash">${matrix}</div>`;
  }
  const tlb = ci.tlb;
  const tlbHtml = tlb ? `<h3>TLB state <span class="dim">(${esc(tlb.nrDynAsids)} dynamic ASIDs, PCID ${tlb.pcid === null ? '?' : tlb.pcid ? 'on' : 'off'})</span></h3>` + table(
    ['CPU', 'LOADED MM', 'OWNER', 'ASID', 'LAZY', 'CTX_ID / TLB_GEN (mm)', 'SLOT', 'FLAGS'],
    tlb.cpus.map((t) => [
      esc(t.cpu), t.isInitMm ? 'init_mm' : code(t.loadedMm ?? '?'), t.owner ? links.task(t.owner.pid, t.owner.comm) : '<span class="dim">—</span>',
      esc(t.loadedMmAsid ?? '?'), t.isLazy === null ? '?' : t.isLazy ? 'lazy' : 'no', `${esc(t.mmCtxId ?? '?')} / ${esc(t.mmTlbGen ?? '?')}`,
      t.slotMatchesMm === false ? '<strong class="bad">mismatch</strong>' : t.slotTlbGenCurrent === false ? '<strong class="bad">flush pending</strong>' : 'current',
      (t.flags ?? []).map((f) => `<span class="badge warn">${esc(f)}</span>`).join(' '),
    ]), { numeric: [0, 3] }) : '';
  return section('cpus', 'CPUs', ['cpuinfo'], topoHtml + tlbHtml);
}

const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

function logSection(d: DumpPageData, charts: Record<string, ChartSpec>): Html {
  const log: LogJson | null = d.log;
  if (!log) return section('log', 'Kernel log', ['log'], '<p class="dim">Not available.</p>');
  const recs = log.records;
  // which records open a fault report and which one is the panic: the kernel model's own rules
  const asRecords: LogRecord[] = recs.map((r) => ({ seq: r.seq, tsNsec: BigInt(Math.round((r.time ?? 0) * 1e9)), level: r.level, facility: null, callerId: r.caller ?? null, text: r.text }));
  const pl = panicLinesFromLog(asRecords);
  const oops = new Set(pl.oopsRecords.map((r) => r.seq));
  const panicSeq = pl.panicRecord?.seq ?? null;
  const firstFault = recs.findIndex((r) => oops.has(r.seq) || r.seq === panicSeq);
  // the fault report: from its first line, what the faulting context (same caller) printed
  const faultCallers = new Set(recs.filter((r) => oops.has(r.seq) || r.seq === panicSeq).map((r) => r.caller ?? ''));
  const inReport = (i: number): boolean => firstFault >= 0 && i >= firstFault && faultCallers.has(recs[i].caller ?? '');
  const lines = recs.map((r, i) => {
    const cls = [`lv${r.level ?? 'x'}`, r.seq === panicSeq ? 'panic-line' : oops.has(r.seq) ? 'oops-line' : inReport(i) ? 'report-line' : ''].filter(Boolean).join(' ');
    const ts = `[${(r.time ?? 0).toFixed(6).padStart(12)}]`;
    return `<li id="log-${esc(r.seq)}" class="${cls}"><span class="ts">${esc(ts)}</span> ${esc(r.text)}</li>`;
  }).join('');
  if (recs.length) {
    const t0 = recs[0].time ?? 0;
    const t1 = recs[recs.length - 1].time ?? 0;
    const w = binWidth(Math.max(t1 - t0, 0.001), 50);
    const start = Math.floor(t0 / w) * w;
    const nb = Math.max(1, Math.floor((t1 - start) / w) + 1);
    const groups = [
      { name: 'emerg–err (0–3)', color: '#d9534f', test: (l: number) => l <= 3 },
      { name: 'warning (4)', color: '#e8a33d', test: (l: number) => l === 4 },
      { name: 'notice–debug (5–7)', color: '#7f8c9a', test: (l: number) => l >= 5 },
    ];
    const series = groups.map((g) => ({ name: g.name, color: g.color, data: new Array<number>(nb).fill(0) }));
    const first = new Array<string | null>(nb).fill(null);
    for (const r of recs) {
      const b = Math.min(nb - 1, Math.floor(((r.time ?? 0) - start) / w));
      const gi = groups.findIndex((g) => g.test(r.level ?? 6));
      series[gi].data[b]++;
      if (first[b] === null) first[b] = `#log-${r.seq}`;
    }
    const label = (i: number): string => `${(start + i * w).toFixed(w < 1 ? 3 : 0)} s`;
    charts.log = stackedBars({
      categories: Array.from({ length: nb }, (_, i) => label(i)), series, links: first, yName: 'records',
      description: `Kernel log records over time since boot (${recs.length} records in ${w} s bins) by severity${pl.panicRecord ? `; the panic is at ${(Number(pl.panicRecord.tsNsec) / 1e9).toFixed(3)} s` : ''}. Click a bar to go to its first line.`,
    });
    if (pl.panicRecord) {
      const pb = Math.min(nb - 1, Math.floor((Number(pl.panicRecord.tsNsec) / 1e9 - start) / w));
      const s0 = (charts.log.option.series as Record<string, unknown>[])[0];
      s0.markLine = { symbol: 'none', data: [{ xAxis: label(pb), name: 'panic' }], label: { formatter: 'panic' }, lineStyle: { color: '#d9534f', type: 'solid', width: 2 } };
    }
  }
  const jump = panicSeq !== null ? `<a href="#log-${esc(panicSeq)}">go to the panic line</a>` : firstFault >= 0 ? `<a href="#log-${esc(recs[firstFault].seq)}">go to the fault report</a>` : '';
  return section('log', 'Kernel log', ['log'],
    (recs.length ? chart('log', charts.log.description, 220) : '')
    + `<p>${esc(log.total)} records${recs.length !== log.total ? ` (${recs.length} shown)` : ''}. ${jump} <span class="legend"><span class="panic-line">panic</span> <span class="oops-line">fault report start</span> <span class="report-line">fault report</span></span></p>`
    + `<ol class="log" aria-label="kernel log">${lines}</ol>`);
}

function modulesSection(d: DumpPageData): Html {
  const m = d.mod;
  const s = d.sys;
  const taint = s?.taint ? `<p>Kernel taint: ${code(s.taint)}${s.taintLetters ? ` — flags <strong>${esc(s.taintLetters)}</strong>` : ' — untainted'}</p>` : '';
  if (!m) return section('modules', 'Modules and taints', ['mod'], taint + '<p class="dim">Modules not available.</p>');
  return section('modules', 'Modules and taints', ['mod', 'sys'], taint + table(['MODULE', 'BASE', 'SIZE', 'STATE', 'TAINTS', 'REFS'],
    m.modules.map((x) => [code(x.name), code(x.base ?? ''), esc(humanBytes(x.size)), esc(x.state ?? ''), x.taints ? `<strong>${esc(x.taints)}</strong>` : '', esc(x.refcount ?? '')]),
    { numeric: [2, 5], caption: `${m.count} loaded modules` }));
}

function similarSection(d: DumpPageData, o: Required<DumpPageOptions>): Html {
  if (!d.similar) return '';
  const b = d.bucket ? `<p>Triage bucket <a href="${esc(o.upHref ?? '')}#${esc(anchorId('bucket', d.bucket.id))}">#${esc(d.bucket.id)} ${esc(d.bucket.title)}</a> (${esc(d.bucket.size)} crash${d.bucket.size === 1 ? '' : 'es'}).</p>` : '';
  if (!d.similar.length) return section('similar', 'Similar dumps', ['signature'], b + '<p>No other dump in this report set.</p>');
  const items = d.similar.map((m) => `<li><span class="score" title="similarity">${esc(m.score.toFixed(3))}</span> ${m.dir ? `<a href="${esc(o.dumpHref(m.dir))}">${esc(m.path)}</a>` : esc(m.path)}${m.duplicate ? ' <span class="badge">same crash</span>' : m.exact ? ' <span class="badge">exact</span>' : ''} — ${esc(m.title)}<br><span class="dim small">${esc(m.reasons.join('; '))}</span></li>`).join('');
  return section('similar', 'Similar dumps', ['signature'], b + `<ol class="similar">${items}</ol>`);
}

function filesSection(d: DumpPageData, filesBase: string): Html {
  const rows = d.summary.analyses.map((a) => [
    esc(`vaat ${[a.command, ...a.argv].join(' ')}`),
    a.ok ? `<a href="${esc(filesBase + urlPart(a.file))}.txt">${esc(a.file)}.txt</a> · <a href="${esc(filesBase + urlPart(a.file))}.json">${esc(a.file)}.json</a>` : `<strong class="bad">failed</strong>: ${esc(a.error ?? '')}`,
    esc(a.ms),
  ]);
  return section('files', 'Report files', [], table(['ANALYSIS', 'FILES', 'MS'], rows, { numeric: [2] }) + `<p><a href="${esc(filesBase)}summary.json">summary.json</a></p>`);
}

/** the page's HTML, and the data its script draws */
export function renderDumpPage(d: DumpPageData, opts: DumpPageOptions = {}): Html {
  const o: Required<DumpPageOptions> = {
    assetBase: opts.assetBase ?? '../assets',
    filesBase: opts.filesBase ?? '',
    upHref: opts.upHref === undefined ? '../index.html' : opts.upHref,
    dumpHref: opts.dumpHref ?? ((dir) => `../${urlPart(dir)}/index.html`),
    extra: opts.extra ?? [],
  };
  const links = new StackLinks(d);
  const charts: Record<string, ChartSpec> = {};
  const graph = waitGraph(d, links);
  const tasks = tasksSection(d, links, charts);
  const similar = similarSection(d, o);
  const filesBase = o.filesBase;
  // a section links the files it comes from that exist: an analysis that failed or did not run wrote none
  const written = new Set(d.summary.analyses.filter((a) => a.ok).map((a) => urlPart(a.file)));
  const existing = (html: Html): Html => html.replace(/<p class="files">From (.*?)<\/p>/g, (_m, links: string) => {
    const kept = links.split(', ').filter((l) => written.has(/href="([\w.-]+)\.txt"/.exec(l)?.[1] ?? ''));
    return kept.length ? `<p class="files">From ${kept.join(', ')}</p>` : '';
  });
  const withFiles = (html: Html): Html => {
    const h = existing(html);
    return filesBase ? h.replace(/href="([\w.-]+\.(?:txt|json))"/g, (_m, f: string) => `href="${esc(filesBase)}${f}"`) : h;
  };
  const body = o.extra.map((x) => section(x.id, x.title, [], x.body)).join('\n') + withFiles([
    overviewSection(d), waitsSection(d, links, graph), runqSection(d, links, charts), tasks.html, stacksSection(d),
    cgroupsSection(d, charts), cpusSection(d, links), logSection(d, charts), modulesSection(d), similar,
  ].join('\n')) + filesSection(d, filesBase);
  const title = d.signature?.class.title ?? d.summary.title ?? d.sys?.panic?.message ?? d.summary.dir;
  const host = d.sys?.nodename ?? d.summary.overview?.HOST ?? '?';
  const header = `<h1>${esc(title)}</h1><p class="sub">${esc(host)} · ${esc(d.sys?.release ?? d.summary.overview?.RELEASE ?? '?')} · ${esc(d.sys?.dateText ?? d.summary.overview?.DATE ?? 'crash time unknown')} · <code>${esc(d.summary.path)}</code></p>`;
  const nav = [
    ...o.extra.map((x) => [x.id, x.label]),
    ['panic', 'Panic'], ['waits', 'Wait-for graph'], ['runq', 'Runqueues'], ['tasks', 'Tasks'], ['stacks', 'Stacks'], ['cgroups', 'Cgroups'],
    ['cpus', 'CPUs'], ['log', 'Log'], ['modules', 'Modules'], ...(similar ? [['similar', 'Similar']] : []), ['files', 'Files'],
  ].map(([id, label]) => ({ id, label }));
  const data: DumpClientData = { kind: 'dump', charts, graph, tasks: tasks.client };
  return page({
    title: `vaat: ${title} (${host})`, assetBase: o.assetBase, up: o.upHref ? { href: o.upHref, label: 'all dumps' } : null, nav, header, body, data,
  });
}
