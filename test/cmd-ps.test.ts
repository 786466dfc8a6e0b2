/** `vaat ps` through the CLI: JSON rows, filters and crash's '>' marks, on every kernel set's cgroup-mutex-hung dump. */
import { describe, expect, it } from 'vitest';
import { dumpsOf, truth, type Json } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('vaat ps: $scenario', (hung) => {
  const t = truth(hung.scenario);
  const nIdle = (t.cpus.possible as number[]).length;
  // drgn lists threads; ps adds one idle task (state R) per possible CPU
  const states: Record<string, number> = {};
  for (const x of t.tasks as Json[]) states[x.state] = (states[x.state] ?? 0) + 1;
  states.R = (states.R ?? 0) + nIdle;
  const blocked = (t.cgroup_mutex.waiters as Json[]).map((w) => `${w.pid} ${w.comm}`);
  const panicPid = t.panic_task.tid as number;

  it('--json lists every task with its fields, the active ones marked', async () => {
    const r = await vaatJson(['ps', hung.path]);
    expect(r.count).toBe(truth(hung.scenario, 'extra.json').sys.tasks);
    expect(Object.keys(r.tasks[0]).sort()).toEqual([
      'active', 'cgroup', 'comm', 'cpu', 'flags', 'idle', 'kthread', 'lastArrival', 'nice', 'onCpu', 'panic', 'pid', 'policy', 'ppid', 'prio', 'state', 'task', 'tgid',
    ]);
    const active = r.tasks.filter((x: { active: boolean }) => x.active).map((x: { task: string }) => x.task).sort();
    expect(active).toEqual((t.runqueues as { curr: { task_struct: string } }[]).map((q) => q.curr.task_struct).sort());
    const panic = r.tasks.filter((x: { panic: boolean }) => x.panic);
    expect(panic).toMatchObject([{ pid: panicPid, comm: t.panic_task.comm, task: t.panic_task.task_struct, state: 'R' }]);
    expect(r.states).toEqual(states);
  });

  it('filters by state, pid/comm, cgroup and kind', async () => {
    const d = await vaatJson(['ps', hung.path, '--state', 'D']);
    expect(d.tasks.map((x: { pid: number; comm: string }) => `${x.pid} ${x.comm}`)).toEqual(blocked);
    const byArg = await vaatJson(['ps', hung.path, String(panicPid), 'sleeper']);
    const sleepers = (t.tasks as Json[]).filter((x) => x.comm === 'sleeper');
    expect(sleepers.length).toBeGreaterThan(0);
    expect(byArg.tasks.map((x: { comm: string }) => x.comm)).toEqual([t.panic_task.comm, ...sleepers.map(() => 'sleeper')]);
    const db = await vaatJson(['ps', hung.path, '--cgroup', '/vaat.slice/db']);
    const inDb = (t.tasks as Json[]).filter((x) => x.cgroup === '/vaat.slice/db').map((x) => x.comm).sort();
    expect(inDb.length).toBeGreaterThan(0);
    expect(db.tasks.map((x: { comm: string }) => x.comm).sort()).toEqual(inDb);
    const k = await vaatJson(['ps', hung.path, '-k']);
    const u = await vaatJson(['ps', hung.path, '-u']);
    expect(u.count).toBe((t.tasks as Json[]).filter((x) => !x.is_kthread).length);
    expect(k.count + u.count).toBe(truth(hung.scenario, 'extra.json').sys.tasks);
    expect(u.tasks.every((x: { kthread: boolean }) => !x.kthread)).toBe(true);
  });

  it('prints the table with > marks and bracketed kernel threads', async () => {
    const r = await vaat(['ps', hung.path, '--state', 'RD']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\s+PID\s+PPID\s+CPU\s+TASK\s+ST\s+PRIO\s+COMM\s+CGROUP$/m);
    // khungtaskd is a kthread: kthreadd (pid 2) is its parent
    expect(r.stdout).toMatch(new RegExp(`^>\\s+${panicPid}\\s+2\\s+${t.panic_task.cpu}\\s+[0-9a-f]{16}\\s+R\\s+120\\s+\\[${t.panic_task.comm}\\]\\s+/$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\s+${t.cgroup_mutex.waiters[0].pid}\\s+1\\s+\\d\\s+[0-9a-f]{16}\\s+D\\s+120\\s+mkdir\\s+/$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${states.R + states.D} tasks \\(${states.R} R, ${states.D} D\\)`, 'm'));
  });
});
