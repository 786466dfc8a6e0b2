/**
 * `vaat runq` as people and scripts run it: --json is the scheduler model (checked against drgn's
 * truth), -g adds the task-group tree, -c picks CPUs, -m/-t/-T add times (checked against the
 * soft-lockup report the kernel itself printed), and the text forms show what they promise.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { vaat, vaatJson } from './cli.js';
import { fixturesDir, truth, type Json } from './fixtures.js';
import { formatSpan, parseCpuList } from '../commands/runq.js';

const sysrq = join(fixturesDir, 'sysrq-basic', 'vmcore.kdump-lzo');
const softlockup = join(fixturesDir, 'softlockup', 'vmcore.elf-d31.lzo');

describe('vaat runq --json', () => {
  it('is the runqueue model of every CPU, equal to drgn on curr, counters and the CFS listing', async () => {
    const r = await vaatJson(['runq', sysrq]);
    const t = truth('sysrq-basic').runqueues;
    expect(Object.keys(r).sort()).toEqual(['cpus', 'newestClock']);
    expect(r.newestClock).toBe(Math.max(...t.map((x: Json) => x.clock)));
    expect(r.cpus.map((c: Json) => c.cpu)).toEqual([0, 1, 2, 3]);
    for (const [i, c] of r.cpus.entries()) {
      expect(Object.keys(c).sort()).toEqual(['cfs', 'clock', 'clockTask', 'cpu', 'curr', 'currRunTime', 'dl', 'idle', 'nrRunning',
        'nrSwitches', 'nrUninterruptible', 'online', 'rq', 'rt', 'stop']);
      expect(c.groups).toBeUndefined();
      expect([c.rq, c.curr.pid, c.nrRunning, c.cfs.minVruntime]).toEqual([t[i].rq, t[i].curr.pid, t[i].nr_running, t[i].cfs.min_vruntime]);
      expect(c.cfs.entities.map((e: Json) => [e.depth, e.running, e.vruntime, e.weight, e.type, e.cgroup]))
        .toEqual(t[i].cfs.queued.map((q: Json) => [q.depth, q.running, q.vruntime, q.weight, q.type, q.cgroup]));
      expect(c.rt.entities).toEqual([]);
      expect(c.dl.entities).toEqual([]);
    }
  });

  it('-g -c 0,2 gives only those CPUs, each with its task-group tree', async () => {
    const r = await vaatJson(['runq', sysrq, '-g', '-c', '0,2']);
    expect(r.cpus.map((c: Json) => c.cpu)).toEqual([0, 2]);
    const [c0, c2] = r.cpus;
    expect(c0.groups.cgroup).toBe('/');
    expect(c0.groups.tasks.map((x: Json) => x.pid)).toEqual([160]); // root-hog: nice 10 in /
    const slice0 = c0.groups.children.find((g: Json) => g.cgroup === '/vaat.slice');
    expect(slice0.se.running).toBe(true);
    expect(slice0.children.map((g: Json) => g.cgroup)).toEqual(['/vaat.slice/web']); // db has nothing on CPU 0
    expect(slice0.children[0].tasks.map((x: Json) => [x.pid, x.running])).toEqual([[156, true], [158, false]]);
    const db = c2.groups.children[0].children.find((g: Json) => g.cgroup === '/vaat.slice/db');
    expect(db.tasks.map((x: Json) => x.comm)).toEqual(['db-hog-a', 'db-hog-b']);
    expect(db.cfsRq.throttled).toBe(false);
    expect(db.bandwidth.quota).toBeNull(); // cpu.max "max": unlimited
  });

  it("-m: the soft-locked CPU's current task has run as long as the watchdog reported", async () => {
    const r = await vaatJson(['runq', softlockup, '-m', '-c', '3']);
    const line = truth('softlockup').panic.oops_lines.find((l: string) => l.includes('soft lockup'));
    const [, cpu, secs, comm, pid] = /CPU#(\d+) stuck for (\d+)s! \[(\S+):(\d+)\]/.exec(line)!;
    const c = r.cpus[0];
    expect([c.cpu, c.curr.comm, c.curr.pid]).toEqual([Number(cpu), comm, Number(pid)]);
    expect(Math.floor(c.currRunTime / 1e9)).toBe(Number(secs));
    // the watchdog's stop-class work is queued behind it
    expect([c.stop.task.comm, c.stop.queued, c.nrRunning]).toEqual(['migration/3', true, c.cfs.hNrRunning + 1]);
  });
});

describe('vaat runq text', () => {
  it('shows the rq table, then each chosen CPU with its current task and CFS entities in order', async () => {
    const r = await vaat(['runq', sysrq, '-c', '1', '-t', '-T']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^CPU\s+ONLINE\s+RUNQUEUE\s+NR_RUNNING\s+CLOCK\s+CLOCK_TASK\s+NR_SWITCHES\s+NR_UNINT\s+CURRENT\s+CLOCK_LAG\n\s+1\s+yes\s+0xffff8d7fd46b1980\s+2\s/);
    expect(r.stdout).toContain('CPU 1  RUNQUEUE: 0xffff8d7fd46b1980');
    expect(r.stdout).not.toContain('CPU 0  RUNQUEUE');
    expect(r.stdout).toContain('CURRENT: PID: 295  TASK: 0xffff8d7fdff84180  COMMAND: "sh"');
    expect(r.stdout).toMatch(/LAST_ARRIVAL\s+LAST_QUEUED\s+SINCE_RUN/);
    const order = ['[120] 295 sh', '</vaat.slice>', '</vaat.slice/web>', '[115] 162 web-hog-c'].map((s) => r.stdout.indexOf(s));
    expect(order.every((p) => p > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.stdout).toMatch(/^\*\s+\[120\] 295 sh\s+10115126685\s+0\s+1048576\s+\//m);
  });

  it('-g draws the task-group tree with the tasks under their groups', async () => {
    const r = await vaat(['runq', sysrq, '-g', '-c', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ROOT_TASK_GROUP <\/>  TASK_GROUP: 0x[0-9a-f]+  CFS_RQ: 0xffff8d7fd4631a00/m);
    expect(r.stdout).toMatch(/└── <\/vaat\.slice>  TASK_GROUP: 0xffff8d7fdfc95180 .*\[RUNNING\]\n    └── <\/vaat\.slice\/web>  TASK_GROUP: 0xffff8d7fdfc97700/);
    expect(r.stdout).toMatch(/├── \[120\] PID: 156 .*"web-hog-a".*\[CURRENT\]\n\s+└── \[125\] PID: 158 /);
  });

  it('rejects a bad CPU list with one line on stderr', async () => {
    const r = await vaat(['runq', sysrq, '-c', '3-1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^vaat: bad CPU range '3-1'\n$/);
  });
});

describe('runq helpers', () => {
  it('parseCpuList reads kernel-style CPU lists', () => {
    expect(parseCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('3')).toEqual([3]);
    expect(() => parseCpuList('a')).toThrow(/bad CPU list/);
  });
  it("formatSpan writes crash's [d hh:mm:ss.mmm]", () => {
    expect(formatSpan(11_051_064_712n)).toBe('[0 00:00:11.051]');
    expect(formatSpan(90_061_001_000_000n)).toBe('[1 01:01:01.001]');
    expect(formatSpan(-11_000_000n)).toBe('-[0 00:00:00.011]');
  });
});
