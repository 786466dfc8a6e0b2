/** `vaat ps` through the CLI: JSON rows, filters and crash's '>' marks. */
import { describe, expect, it } from 'vitest';
import { dumps, truth } from './fixtures.js';
import { vaat, vaatJson } from './cli.js';

const hung = dumps.find((d) => d.scenario === 'cgroup-mutex-hung')!;

describe('vaat ps', () => {
  it('--json lists every task with its fields, the active ones marked', () => {
    const r = vaatJson(['ps', hung.path]);
    const t = truth(hung.scenario);
    expect(r.count).toBe(truth(hung.scenario, 'extra.json').sys.tasks);
    expect(Object.keys(r.tasks[0]).sort()).toEqual([
      'active', 'cgroup', 'comm', 'cpu', 'flags', 'idle', 'kthread', 'lastArrival', 'nice', 'onCpu', 'panic', 'pid', 'policy', 'ppid', 'prio', 'state', 'task', 'tgid',
    ]);
    const active = r.tasks.filter((x: { active: boolean }) => x.active).map((x: { task: string }) => x.task).sort();
    expect(active).toEqual((t.runqueues as { curr: { task_struct: string } }[]).map((q) => q.curr.task_struct).sort());
    const panic = r.tasks.filter((x: { panic: boolean }) => x.panic);
    expect(panic).toMatchObject([{ pid: 38, comm: 'khungtaskd', task: t.panic_task.task_struct, state: 'R' }]);
    expect(r.states).toEqual({ R: 11, S: 27, I: 48, D: 3 });
  });

  it('filters by state, pid/comm, cgroup and kind', () => {
    const d = vaatJson(['ps', hung.path, '--state', 'D']);
    expect(d.tasks.map((x: { pid: number; comm: string }) => `${x.pid} ${x.comm}`)).toEqual(['309 mkdir', '311 mkdir', '313 mkdir']);
    const byArg = vaatJson(['ps', hung.path, '38', 'sleeper']);
    expect(byArg.tasks.map((x: { comm: string }) => x.comm)).toEqual(['khungtaskd', 'sleeper']);
    const db = vaatJson(['ps', hung.path, '--cgroup', '/vaat.slice/db']);
    expect(db.tasks.map((x: { comm: string }) => x.comm).sort()).toEqual(['db-hog-a', 'db-hog-b', 'dbworker', 'dbworker']);
    const k = vaatJson(['ps', hung.path, '-k']);
    const u = vaatJson(['ps', hung.path, '-u']);
    expect(k.count + u.count).toBe(89);
    expect(u.tasks.every((x: { kthread: boolean }) => !x.kthread)).toBe(true);
  });

  it('prints the table with > marks and bracketed kernel threads', () => {
    const r = vaat(['ps', hung.path, '--state', 'RD']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\s+PID\s+PPID\s+CPU\s+TASK\s+ST\s+PRIO\s+COMM\s+CGROUP$/m);
    expect(r.stdout).toMatch(/^>\s+38\s+2\s+3\s+[0-9a-f]{16}\s+R\s+120\s+\[khungtaskd\]\s+\/$/m);
    expect(r.stdout).toMatch(/^\s+309\s+1\s+\d\s+[0-9a-f]{16}\s+D\s+120\s+mkdir\s+\/$/m);
    expect(r.stdout).toMatch(/^14 tasks \(11 R, 3 D\)/m);
  });
});
