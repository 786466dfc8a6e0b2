/**
 * vaat VMCORE (no command): a one-screen triage summary — what kind of crash, where, the
 * panicking task's stack, what blocked tasks were doing, runqueue lengths, and anything odd.
 * Each section is computed on its own: one that fails is reported with its error and the rest
 * still print (the idea of Oracle's corelens modules).
 */
import { defineCommand } from '../src/plugin.js';
import { shorten } from '../src/output/style.js';
import { excludedPageClasses } from '../src/dump/levels.js';
import type { Vmcore } from '../src/vmcore.js';
import { panicInfo } from '../src/kernel/panic.js';
import { panicStack } from '../src/kernel/stack/index.js';
import { groupTaskStacks, type StackGroup } from '../src/kernel/stack/groups.js';
import { listTasks } from '../src/kernel/tasks.js';
import { runqueues } from '../src/kernel/sched/index.js';
import { sysInfo, type SysResult } from '../src/analysis/sys.js';
import { chainJson, groupChains } from '../src/analysis/lock-chains.js';
import { waitForGraph } from '../src/kernel/locking/waits.js';
import { cpuMask } from '../src/kernel/cpu.js';
import type { Cell } from '../src/output/sink.js';
import { groupAlike } from '../src/output/cpu-rows.js';

export interface SummaryResult {
  file: string;
  sys: SysResult | null;
  panic: {
    message: string | null;
    source: string | null;
    oopsLines: string[];
    cpu: number | null;
    pid: number | null;
    comm: string | null;
    stack: string[];
  } | null;
  states: Record<string, number> | null;
  blocked: { count: number; groups: StackGroup[] } | null;
  runqueues: { cpu: number; nrRunning: number; curr: string; currRunSeconds: number | null }[] | null;
  /** blocked tasks' lock waits, grouped by lock and owner (lockinfo --blocked), and deadlocks */
  lockWaits: { waiters: number; what: string; pids: number[] }[] | null;
  deadlocks: string[] | null;
  findings: string[];
  /** sections that could not be computed, with why */
  errors: { section: string; error: string }[];
}

/** a section's value, or null with its error recorded */
function section<T>(errors: SummaryResult['errors'], name: string, fn: () => T): T | null {
  try { return fn(); } catch (e) { errors.push({ section: name, error: (e as Error).message.split('\n')[0] }); return null; }
}

/** things a person should look at first, in plain words */
function findings(r: SummaryResult): string[] {
  const out: string[] = [];
  const d = r.states?.D ?? 0;
  if (d) out.push(`${d} task${d > 1 ? 's' : ''} in uninterruptible sleep (D)`);
  for (const w of r.lockWaits ?? []) out.push(`${w.waiters} task${w.waiters > 1 ? 's' : ''} wait${w.waiters > 1 ? '' : 's'} on ${w.what}`);
  for (const c of r.deadlocks ?? []) out.push(`deadlock: ${c}`);
  for (const q of r.runqueues ?? []) {
    if (q.currRunSeconds !== null && q.currRunSeconds > 10 && !q.curr.startsWith('swapper')) {
      out.push(`CPU ${q.cpu}: ${q.curr} had been running for ${q.currRunSeconds.toFixed(1)} s without a switch`);
    }
  }
  if (r.sys?.taintLetters) out.push(`kernel tainted: ${r.sys.taintLetters}`);
  if (r.sys?.partialDump) out.push(`partial dump (level ${r.sys.dumpLevel}): ${excludedPageClasses(r.sys.dumpLevel).join(', ')} pages left out`);
  return out;
}

export function summarize(vm: Vmcore): SummaryResult {
  const errors: SummaryResult['errors'] = [];
  const r: SummaryResult = {
    file: vm.file,
    sys: section(errors, 'sys', () => sysInfo(vm)),
    panic: section(errors, 'panic', () => {
      const p = panicInfo(vm);
      let stack: string[] = [];
      try {
        stack = panicStack(vm, p.cpu?.cpu).frames.map((f) => f.text);
      } catch (e) {
        errors.push({ section: 'panic stack', error: (e as Error).message });
      }
      return {
        message: p.message,
        source: p.source,
        oopsLines: p.oopsLines,
        cpu: p.cpu?.cpu ?? null,
        pid: p.task?.pid ?? null,
        comm: p.task?.comm ?? null,
        stack,
      };
    }),
    states: section(errors, 'task states', () => {
      const counts: Record<string, number> = {};
      for (const t of listTasks(vm)) counts[t.state] = (counts[t.state] ?? 0) + 1;
      return counts;
    }),
    blocked: section(errors, 'blocked tasks', () => {
      const g = groupTaskStacks(vm, 'D');
      return { count: g.tasks, groups: g.groups.slice(0, 3) };
    }),
    runqueues: section(errors, 'runqueues', () => runqueues(vm).filter((q) => q.online).map((q) => ({
      cpu: q.cpu,
      nrRunning: q.nrRunning,
      curr: `${q.curr.comm}(${q.curr.pid})`,
      currRunSeconds: q.currRunTime === null ? null : Number(q.currRunTime) / 1e9,
    }))),
    lockWaits: null,
    deadlocks: null,
    findings: [],
    errors,
  };
  // Who blocked tasks wait for: only worth the stack scan when something is in D.
  if (r.states?.D) {
    section(errors, 'lock waits', () => {
      const g = waitForGraph(vm);
      r.lockWaits = groupChains(g.chains);
      r.deadlocks = g.cycles.map((c) => chainJson(c).text);
    });
  }
  r.findings = findings(r);
  // possible CPUs that are not present are hot-plug slots, offline by nature: only present ones count
  try {
    const online = new Set(cpuMask(vm, 'online'));
    const present = cpuMask(vm, 'present');
    const offline = present.filter((c) => !online.has(c)).length;
    if (offline) r.findings.push(`${offline} of ${present.length} present CPUs offline at crash time`);
  } catch { /* no CPU masks: nothing to say */ }
  return r;
}

export default defineCommand<Record<string, never>, SummaryResult>({
  name: 'summary',
  summary: 'one-screen triage: panic, stack, blocked tasks, runqueues, anything odd (the default)',
  // `vaat -d DIR` / `vaat summary -d DIR`: one row per vmcore
  fleetRow: (r) => ({
    HOST: r.sys?.nodename ?? null,
    RELEASE: r.sys?.release ?? null,
    DATE: r.sys?.date?.utc ?? null,
    PANIC: shorten(r.panic?.message, 48),
    'PANIC TASK': r.panic ? `${r.panic.comm ?? '?'}(${r.panic.pid ?? '?'}) cpu ${r.panic.cpu ?? '?'}` : null,
    'TOP FRAME': shorten(r.panic?.stack[0], 40),
    BLOCKED: r.blocked?.count ?? null,
    FINDINGS: r.findings.length,
    ERRORS: r.errors.length,
  }),
  run({ vm }) {
    return summarize(vm);
  },
  render(r, out) {
    const c = out.c;
    const s = r.sys;
    if (s) {
      out.kv([
        ['RELEASE', s.release],
        ['NODENAME', s.nodename],
        ['DATE', s.dateText],
        ['UPTIME', s.uptime?.text ?? null],
        ['LOAD AVERAGE', s.loadAverage?.text ?? null],
        ['TASKS', s.tasks?.total ?? 'unknown'],
        ['CPUS', `${s.cpus}${s.cpusOffline ? ` (${s.cpusOffline} offline)` : ''}`],
        ['MEMORY', s.memory?.text ?? null],
      ]);
    }
    if (r.panic) {
      out.line();
      out.heading(c.red(`PANIC: ${r.panic.message ?? '(no panic message)'}`));
      for (const l of r.panic.oopsLines.slice(0, 3)) out.line(`  ${l}`);
      const who = r.panic.comm === null && r.panic.pid === null ? 'task unknown' : `task ${r.panic.comm ?? 'unknown'} (pid ${r.panic.pid ?? 'unknown'})`;
      out.line(`  on CPU ${r.panic.cpu ?? 'unknown'}, ${who}`);
      for (const f of r.panic.stack) out.line(c.dim('    ') + f);
    }
    if (r.states) {
      out.line();
      out.line(`${c.bold('TASK STATES')}  ${Object.entries(r.states).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join('  ')}`);
    }
    if (r.blocked && r.blocked.count > 0) {
      out.line();
      out.heading(c.yellow(`${r.blocked.count} BLOCKED (D) TASKS, top stacks:`));
      for (const g of r.blocked.groups) {
        out.line(`  ${g.count} × ${g.comms.length > 4 ? `${g.comms.slice(0, 4).join(', ')}, ...` : g.comms.join(', ')} (pid ${g.pids.slice(0, 6).join(' ')}${g.pids.length > 6 ? ' ...' : ''})`);
        for (const f of g.functions.slice(0, 8)) out.line(c.dim('      ') + f);
      }
    }
    if (r.runqueues) {
      out.line();
      // idle CPUs alike share a row ("3-31  0  idle"): a 256-CPU machine's summary stays a page
      const idle = (q: { nrRunning: number; curr: string }): boolean => q.nrRunning === 0 && /^swapper\/\d+\(0\)$/.test(q.curr);
      const rows = r.runqueues.map((q): Cell[] => (idle(q) ? [q.cpu, 0, 'idle', null]
        : [q.cpu, q.nrRunning, q.curr, q.currRunSeconds === null ? null : q.currRunSeconds.toFixed(2)]));
      out.table(groupAlike(rows, r.runqueues.map((q) => q.cpu)), { header: ['CPU', 'NR_RUNNING', 'CURRENT', 'RUNNING FOR (s)'], alignRight: [0, 1, 3] });
    }
    if (r.findings.length) {
      out.line();
      out.heading('WORTH A LOOK');
      for (const f of r.findings) out.line(`  • ${f}`);
    }
    for (const e of r.errors) out.line(c.red(`  (${e.section} unavailable: ${e.error})`));
  },
});
