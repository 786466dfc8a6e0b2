/**
 * `vaat tasktable`: task fields equal drgn's truth.json tasks, the per-CPU table equals the
 * runqueues' nr_running, filters and sorting work, and outliers are reported with their z-score.
 */
import { describe, expect, it } from 'vitest';
import { dumps, dumpsOf, primaryTruth, type Json } from './fixtures.js';
import { vaatJson } from './cli.js';
import { parseFilter, robustZ } from '../commands/tasktable.js';
import { openVmcore } from '../src/vmcore.js';
import { listTasks } from '../src/kernel/tasks.js';
import { integerReader } from '../src/object/kobject.js';

const sysrq = dumps.find((d) => d.scenario === 'sysrq-basic' && d.primary)!;

describe('tasktable', () => {
  it('pid, comm, state, cpu and prio equal truth.json for every task', async () => {
    const r = await vaatJson(['tasktable', sysrq.path, '--fields', 'pid,comm,state,cpu,prio,nvcsw']);
    expect(r.source).toBe('tasks');
    expect(r.fields).toEqual(['pid', 'comm', 'state', 'cpu', 'prio', 'nvcsw']);
    const ours = r.rows.filter((x: Json) => x.pid !== 0).map((x: Json) => ({ pid: x.pid, comm: x.comm, state: x.state, cpu: x.cpu, prio: x.prio }));
    const want = primaryTruth(sysrq.scenario).tasks.map((t: Json) => ({ pid: t.pid, comm: t.comm, state: t.state, cpu: t.cpu, prio: t.prio }));
    const byPid = (a: Json, b: Json) => a.pid - b.pid;
    expect(ours.sort(byPid)).toEqual(want.sort(byPid));
    expect(r.rows.every((x: Json) => Number.isInteger(x.nvcsw) && x.nvcsw >= 0)).toBe(true);
  });

  it('integerReader reads a member from bytes as KObject.value() reads it (the fast path of task member fields)', () => {
    const vm = openVmcore(sysrq.path);
    try {
      const T = 'struct task_struct';
      // members of several sizes and signedness; comm (a char array) and stack (a pointer) are no plain integers
      const paths = ['pid', 'prio', 'nvcsw', 'se.vruntime', 'se.on_rq', 'exit_code', 'utime', 'policy'];
      const sizes = new Set<number>();
      for (const path of paths) {
        const loc = vm.types.tryMemberPath(T, path)!;
        const read = integerReader(vm.types, loc.type)!;
        expect(read, path).not.toBeNull();
        sizes.add(vm.types.sizeof(loc.type));
        for (const t of listTasks(vm).slice(0, 20)) {
          const obj = vm.objectAt(t.address, T).snapshot();
          const bytes = vm.dump.readVirt(t.address, vm.types.sizeof(T));
          expect(read(bytes, loc.offset), `${path} of ${t.pid}`).toEqual(obj.member(path).value());
        }
      }
      expect(sizes.size).toBeGreaterThan(1);
      expect(integerReader(vm.types, vm.types.tryMemberPath(T, 'comm')!.type)).toBeNull();
      expect(integerReader(vm.types, vm.types.tryMemberPath(T, 'stack')!.type)).toBeNull();
    } finally { vm.close(); }
  });

  it('--percpu runqueues equals the truth runqueues', async () => {
    const r = await vaatJson(['tasktable', sysrq.path, '--percpu', 'runqueues', '--fields', 'nr_running,cfs.min_vruntime,clock']);
    expect(r).toMatchObject({ source: 'percpu', variable: 'runqueues', type: 'struct rq', fields: ['cpu', 'nr_running', 'cfs.min_vruntime', 'clock'] });
    const rqs = primaryTruth(sysrq.scenario).runqueues;
    expect(r.rows.map((x: Json) => [x.cpu, x.nr_running])).toEqual(rqs.map((q: Json) => [q.cpu, q.nr_running]));
    expect(r.rows.map((x: Json) => x['cfs.min_vruntime'])).toEqual(rqs.map((q: Json) => q.cfs.min_vruntime));
  });

  it.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('--filter and --sort: $scenario', async (hung) => {
    const r = await vaatJson(['tasktable', hung.path, '--filter', 'state=D', '--sort', '-pid', '--fields', 'pid,comm,state']);
    const waiters = (primaryTruth(hung.scenario).cgroup_mutex.waiters as Json[]).map((w) => w.pid as number).sort((a, b) => b - a);
    expect(r.rows).toEqual(waiters.map((pid) => ({ pid, comm: 'mkdir', state: 'D' })));
    const k = await vaatJson(['tasktable', hung.path, '--filter', 'comm~^kworker,prio<=120', '--fields', 'pid,comm,prio']);
    expect(k.rows.length).toBeGreaterThan(0);
    expect(k.rows.every((x: Json) => x.comm.startsWith('kworker') && x.prio <= 120)).toBe(true);
  });

  it('outliers: robust z-scores with the row, field, value and z', async () => {
    const r = await vaatJson(['tasktable', sysrq.path, '--fields', 'pid,comm,se.sum_exec_runtime']);
    expect(r.outliers.length).toBeGreaterThan(0);
    for (const o of r.outliers) {
      expect(Object.keys(o).sort()).toEqual(['field', 'row', 'value', 'z']);
      expect(Math.abs(o.z)).toBeGreaterThan(3.5);
      expect(r.rows[o.row][o.field]).toBe(o.value);
    }
    // the busy loops of the scenario are the CPU-time outliers; identifiers are never scored
    const hot = r.outliers.filter((o: Json) => o.field === 'se.sum_exec_runtime').map((o: Json) => r.rows[o.row].comm);
    expect(hot.some((c: string) => /hog|spin|loop|busy/.test(c))).toBe(true);
    expect(r.outliers.some((o: Json) => o.field === 'pid')).toBe(false);
    expect(r.notScored).toEqual(expect.arrayContaining(['pid', 'comm']));
  });

  it('robustZ and parseFilter', () => {
    const z = robustZ([10, 11, 9, 10, 12, 10, 100])!;
    expect(z.findIndex((v) => Math.abs(v) > 3.5)).toBe(6);
    expect(z.filter((v) => Math.abs(v) > 3.5)).toHaveLength(1);
    expect(robustZ([5, 5, 5, 5])).toBeNull();
    // MAD 0 but some spread: mean absolute deviation takes over
    expect(robustZ([0, 0, 0, 0, 0, 0, 50])![6]).toBeGreaterThan(3.5);
    const f = parseFilter('state=D,cpu!=0');
    expect(f).toHaveLength(2);
    expect(f.every((t) => t({ state: 'D', cpu: 1 }))).toBe(true);
    expect(f.every((t) => t({ state: 'D', cpu: 0 }))).toBe(false);
  });
});
