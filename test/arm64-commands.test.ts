/**
 * The commands on the arm64 set (Debian 12's 6.1.0-54-cloud-arm64: two real kdump files and QEMU's
 * 64 KiB-block dump) against drgn 0.2.0's truth. scripts/test.sh runs this file twice: bare
 * (VAAT_VMLINUX=none: kallsyms without data symbols, BTF found in the dump, data symbols derived)
 * and with the arm64 debug vmlinux's DWARF. What is not supported yet is skipped with the reason
 * in the test's name, never passed silently.
 */
import { describe, expect, it } from 'vitest';
import { vaat, vaatJson } from './cli.js';
import { allScenarios, fixturesDir, truth } from './fixtures.js';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';

const bare = process.env.VAAT_VMLINUX === 'none';
const sets = allScenarios.filter((s) => s.startsWith('arm64-')).map((scenario) => {
  const name = readdirSync(join(fixturesDir, scenario)).find((f) => f.startsWith('vmcore'))!;
  return { scenario, name, path: join(fixturesDir, scenario, name) };
});

interface TruthTask { pid: number; comm: string; state: string; cpu: number; task_struct: string; cgroup: string; prio: number }

describe.each(sets)('$scenario/$name', ({ scenario, path }) => {
  const t = truth(scenario);

  it(`opens ${bare ? 'bare (BTF found after _etext, data symbols derived)' : 'with the arm64 debug vmlinux'} and names its sources`, async () => {
    const info = await vaatJson(['info', path]);
    expect(info.arch).toBe('aarch64');
    expect(info.pageSize).toBe(4096);
    expect(info.sources.types).toMatch(bare ? /^BTF in the dump/ : /^DWARF .*vmlinux-6\.1\.0-54-cloud-arm64/);
    expect((await vaat(['p', path, 'init_task.comm'])).stdout).toContain('"swapper/0"');
    expect((await vaat(['p', path, 'init_uts_ns.name.release'])).stdout).toContain(`"${t.uname.release}"`);
  });

  it('ps lists every task of the truth with its pid, comm, state, CPU, address and cgroup', async () => {
    const ps = await vaatJson(['ps', path]);
    const mine = new Map<string, { pid: number; comm: string; state: string; cpu: number; cgroup: string; prio: number }>(
      ps.tasks.map((x: { task: string }) => [BigInt(x.task).toString(16), x]));
    const want = (t.tasks as TruthTask[]);
    expect(want.length).toBeGreaterThan(50);
    for (const w of want) {
      const got = mine.get(BigInt(w.task_struct).toString(16));
      expect(got, `task ${w.pid} ${w.comm}`).toBeDefined();
      expect([got!.pid, got!.comm, got!.state, got!.cpu, got!.cgroup, got!.prio]).toEqual([w.pid, w.comm, w.state, w.cpu, w.cgroup, w.prio]);
    }
  });

  it('runq: each CPU\'s current task and nr_running as in the truth', async () => {
    const r = await vaatJson(['runq', path]);
    const rqs = t.runqueues as { cpu: number; rq: string; curr: { pid: number; comm: string }; nr_running: number }[];
    expect(r.cpus.map((c: { cpu: number }) => c.cpu)).toEqual(rqs.map((q) => q.cpu));
    for (const q of rqs) {
      const c = r.cpus.find((x: { cpu: number }) => x.cpu === q.cpu);
      expect([BigInt(c.rq), c.curr.pid, c.curr.comm, c.nrRunning]).toEqual([BigInt(q.rq), q.curr.pid, q.curr.comm, q.nr_running]);
    }
  });

  it('lockinfo cgroup_mutex: owner and waiters as in the truth', async () => {
    const l = (await vaatJson(['lockinfo', path, 'cgroup_mutex'])).lock;
    const m = t.cgroup_mutex;
    expect(BigInt(l.address)).toBe(BigInt(m.address));
    expect(l.owner?.pid ?? null).toBe(m.owner?.pid ?? null);
    expect(l.waiters.map((w: { pid: number }) => w.pid)).toEqual(m.waiters.map((w: { pid: number }) => w.pid));
  });

  it('sys: release, CPUs and the task count (drgn\'s rule: idr threads + one idle task per CPU)', async () => {
    const s = await vaatJson(['sys', path]);
    const want = truth(scenario, 'extra.json').sys;
    expect([s.release, s.nodename, s.machine]).toEqual([want.release, want.nodename, want.machine]);
    expect(s.cpus).toBe(t.cpus.nr_cpu_ids);
    expect(s.tasks.total).toBe(want.tasks);
  });
});
