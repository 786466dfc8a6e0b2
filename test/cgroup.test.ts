/** cgroups: every value of truth.json `cgroups` and of the MANIFEST, on every dump file; cgroupinfo's CLI. */
import { afterAll, describe, expect, it } from 'vitest';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { cgroupPath, cgroupRoots, cgroupTree, cssForEachDescendantPre, cssSetTasks, flattenCgroups, walkedCssSetTasks, type CgroupInfo } from '../src/kernel/cgroup/index.js';
import { PF_EXITING, listTasks } from '../src/kernel/tasks.js';
import { dumps, dumpsOf, manifest, primaryTruth, truth, type Json } from './fixtures.js';
import { runScript, vaat, vaatJson } from './cli.js';

const open: Vmcore[] = [];
afterAll(() => { for (const vm of open) vm.close(); });

/** truth's `memory.max`: bytes, or "max" */
const bytesOrMax = (pages: number | 'max', pageSize: number) => (pages === 'max' ? 'max' : pages * pageSize);

describe.each(dumps)('$scenario/$name', (d) => {
  const vm = openVmcore(d.path);
  open.push(vm);
  const roots = cgroupRoots(vm);
  const all: CgroupInfo[] = flattenCgroups(cgroupTree(vm, roots[0], { tasks: true }));
  const byPath = new Map(all.map((c) => [c.path, c]));
  const want: Json[] = primaryTruth(d.scenario).cgroups;

  it('has the v2 hierarchy with the same cgroups in pre-order, and no v1 mounts', () => {
    expect(roots[0].dfl).toBe(true);
    expect(roots).toHaveLength(1); // the guests mount only cgroup2
    expect(all.map((c) => c.path)).toEqual(want.map((c) => c.path));
    const self = vm.objectAt(roots[0].cgrp, 'struct cgroup').member('self');
    expect([...cssForEachDescendantPre(self)].map((css) => cgroupPath(vm, css.member('cgroup').pointer()))).toEqual(want.map((c) => c.path));
  });

  it('matches every truth.json cgroup value', () => {
    let compared = 0;
    for (const t of want) {
      const c = byPath.get(t.path)!;
      expect({ path: c.path, id: c.id, level: c.level, subtree: c.subtreeControl, enabled: c.controllers, nrTasks: c.nrTasks, csets: c.nrPopulatedCsets })
        .toEqual({ path: t.path, id: t.id, level: t.level, subtree: t.subtree_control, enabled: t.controllers_enabled, nrTasks: t.nr_tasks, csets: t.nr_populated_csets });
      compared += 7;
      // controller files exist only where the controller is enabled
      if ('cpuset.cpus.effective' in t) {
        expect(c.cpuset?.cpus).toBe(t['cpuset.cpus']);
        expect(c.cpuset?.effectiveCpus).toBe(t['cpuset.cpus.effective']);
        compared += 2;
      } else expect(c.cpuset).toBeNull();
      if ('cpu.weight' in t) {
        expect(Number(c.cpu?.sharesRaw)).toBe(t['cpu.shares_raw']);
        expect(c.cpu?.weight).toBe(t['cpu.weight']);
        compared += 2;
      } else expect(c.cpu).toBeNull();
      if ('memory.max' in t) {
        const m = c.memory!;
        expect(m.maxPages === 'max' ? 0x7fffffffffffffffn / BigInt(m.pageSize) : BigInt(m.maxPages)).toBe(BigInt(t['memory.max_pages']));
        expect(bytesOrMax(m.maxPages, m.pageSize)).toBe(t['memory.max']);
        expect(m.currentPages).toBe(t['memory.current_pages']);
        compared += 3;
      } else expect(c.memory).toBeNull();
      if ('pids.max' in t) {
        expect(c.pids?.max).toBe(t['pids.max']);
        expect(c.pids?.current).toBe(t['pids.current']);
        compared += 2;
      } else expect(c.pids).toBeNull();
    }
    expect(compared).toBeGreaterThanOrEqual(want.length * 7);
  });

  it('matches the MANIFEST: cpuset.cpus, cpu.weight, memory.max, pids.max and subtree_control', () => {
    const lines = [...manifest(d.scenario).matchAll(/^cgroup (\/\S*) (cpuset\.cpus|cpu\.weight|memory\.max|pids\.max)=(\S+)/gm)];
    expect(lines.length).toBeGreaterThanOrEqual(12);
    for (const [, path, key, value] of lines) {
      const c = byPath.get(path)!;
      const got = key === 'cpuset.cpus' ? c.cpuset?.cpus
        : key === 'cpu.weight' ? String(c.cpu?.weight)
          : key === 'memory.max' ? String(bytesOrMax(c.memory!.maxPages, c.memory!.pageSize))
            : String(c.pids?.max);
      expect(`${path} ${key}=${got}`).toBe(`${path} ${key}=${value}`);
    }
    for (const [, path, ctrls] of manifest(d.scenario).matchAll(/^cgroup subtree_control (\S+): (.*)$/gm)) {
      expect(byPath.get(path)!.subtreeControl.join(' ')).toBe(ctrls.trim());
    }
  });

  it('task lists agree with the task walker and extra.json task_cgroups', () => {
    const walker = new Map<string, number[]>();
    for (const t of listTasks(vm)) if (!t.isIdle) walker.set(t.cgroup ?? '?', [...(walker.get(t.cgroup ?? '?') ?? []), t.pid]);
    const tc: Record<string, string> = truth(d.scenario, 'extra.json').task_cgroups.pids;
    for (const c of all) {
      const pids = c.tasks!.map((t) => t.pid);
      expect(pids).toHaveLength(c.nrTasks);
      expect(pids).toEqual([...(walker.get(c.path) ?? [])].sort((a, b) => a - b));
      expect(pids).toEqual(Object.keys(tc).filter((p) => tc[p] === c.path).map(Number).sort((a, b) => a - b));
    }
    // cpu.weight → shares: cpu_weight_write_u64 stores DIV_ROUND_CLOSEST(weight * 1024, 100) << 10
    const web = byPath.get('/vaat.slice/web')!;
    expect(web.cpu!.shares).toBe(Math.round((300 * 1024) / 100));
    expect(web.cpu!.bandwidth).toMatchObject({ quotaUs: null, periodUs: 100000, nrThrottled: 0 });
    expect(web.memory!.events.oom_kill).toBe(0);
  });

  it('the walked css_set tasks stand in for the css_set lists only where they agree with nr_tasks', () => {
    const tasks = listTasks(vm);
    const walked = walkedCssSetTasks(vm, tasks);
    const csets = [...new Set(tasks.filter((t) => !t.isIdle).map((t) => t.cssSet!))];
    expect(csets.length).toBeGreaterThanOrEqual(3);
    for (const cs of csets) {
      const got = walked(cs);
      expect(got, `css_set 0x${cs.toString(16)}`).not.toBeNull();
      expect([...got!].sort()).toEqual([...cssSetTasks(vm, cs)].sort());
    }
    // a walk missing one task of a css_set, or seeing it exiting, is not trusted for that css_set
    const dropped = tasks.find((t) => !t.isIdle && t.cssSet === csets[0])!;
    expect(walkedCssSetTasks(vm, tasks.filter((t) => t !== dropped))(csets[0])).toBeNull();
    expect(walkedCssSetTasks(vm, tasks.map((t) => (t === dropped ? { ...t, flags: t.flags | PF_EXITING } : t)))(csets[0])).toBeNull();
    // the tree built with them is the tree built from the lists
    const fast = flattenCgroups(cgroupTree(vm, roots[0], { tasks: true, cssSetTasks: walked }));
    expect(fast.map((c) => [c.path, c.nrTasks, c.tasks])).toEqual(all.map((c) => [c.path, c.nrTasks, c.tasks]));
  });
});

describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('vaat cgroupinfo: $scenario', (d) => {
  const t: Json[] = primaryTruth(d.scenario).cgroups;
  const id = (path: string): number => t.find((c) => c.path === path)!.id;
  const nTasks = (path: string): number => (primaryTruth(d.scenario).tasks as Json[]).filter((x) => x.cgroup === path).length;

  it('--json is the tree with controllers and tasks', async () => {
    const r = await vaatJson(['cgroupinfo', d.path, '--tasks']);
    expect(r.hierarchies).toHaveLength(1);
    const h = r.hierarchies[0];
    expect(h).toMatchObject({ version: 2, hierarchyId: 0 });
    expect(h.root).toMatchObject({ path: '/', id: 1, level: 0, cgroup: expect.stringMatching(/^0x[0-9a-f]+$/) });
    const slice = h.root.children[0];
    expect(slice.path).toBe('/vaat.slice');
    expect(slice.children.map((c: Json) => c.path)).toEqual(['/vaat.slice/web', '/vaat.slice/db']);
    const web = slice.children[0];
    expect(web).toMatchObject({ cpuset: { cpus: '0-1' }, cpu: { weight: 300 }, memory: { maxBytes: 268435456 }, pids: { max: 64 }, flags: [] });
    expect(web.children.map((c: Json) => c.path)).toEqual(t.filter((x) => x.level === 3).map((x) => x.path));
    const pids = manifest(d.scenario).matchAll(/^task pid=(\d+) comm=(\S+) mode=\S+ cgroup=\/vaat\.slice\/web /gm);
    expect(web.tasks.map((x: Json) => `${x.pid} ${x.comm}`)).toEqual([...pids].map((m) => `${m[1]} ${m[2]}`));
  });

  it('draws a tree, and --flat a table', async () => {
    const tree = await vaat(['cgroupinfo', d.path]);
    expect(tree.status).toBe(0);
    // the MANIFEST's limits: web cpus 0-1, weight 300, pids.max 64; db cpus 2-3, weight 50, 128 MiB, pids.max 32
    const web = nTasks('/vaat.slice/web');
    expect(tree.stdout).toMatch(new RegExp(`^└── vaat\\.slice id ${id('/vaat.slice')} tasks 0 \\[cpuset cpu memory pids\\]`, 'm'));
    expect(tree.stdout).toMatch(new RegExp(`^ {4}├── web id ${id('/vaat.slice/web')} tasks ${web} .*weight 300.*pids ${web}/64`, 'm'));
    // the last of the MANIFEST's empty waiter-N cgroups closes web's branch
    const lastWaiter = `waiter-${[...manifest(d.scenario).matchAll(/^waiter pid=\d+ comm=\S+: mkdir \S+\/waiter-(\d+)\//gm)].length}`;
    expect(tree.stdout).toMatch(new RegExp(`^ {4}│ {3}└── ${lastWaiter} id ${id(`/vaat.slice/web/${lastWaiter}`)} tasks 0$`, 'm'));
    const flat = await vaat(['cgroupinfo', d.path, '--flat']);
    const db = nTasks('/vaat.slice/db');
    expect(flat.stdout).toMatch(new RegExp(`^/vaat\\.slice/db\\s+${id('/vaat.slice/db')}\\s+${db}\\s+-\\s+2-3\\s+2-3\\s+50\\s+\\S+ KiB\\s+128 MiB\\s+${db}\\s+32$`, 'm'));
  });

  it('--script prints the same ids, levels and weights', async () => {
    const got = (await runScript(['cgroupinfo', d.path])).trim().split('\n');
    expect(got).toHaveLength(t.length);
    t.forEach((c, i) => expect(got[i]).toBe(`${c.path} id ${c.id} level ${c.level} subtree_control ${c.subtree_control.join(',') || '-'} cpu.weight ${c['cpu.weight'] ?? '-'}`));
  });
});
