/**
 * The task, CPU, panic and module model on every real dump, against drgn's truth.json (tasks,
 * cpus, panic, panic_task, modules), extra.json (task count rule, cgroup of every task) and the
 * MANIFEST the guest wrote before the crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { forEachTask, listTasks, taskAt, taskStateTable, taskStateToChar, type Task } from '../src/kernel/tasks.js';
import { cpuInfo, cpuCurr } from '../src/kernel/cpu.js';
import { crashTime, decodeTaint, kernelLog, panicCpu, panicInfo } from '../src/kernel/panic.js';
import { listModules } from '../src/kernel/module/index.js';
import { taskCgroupPath } from '../src/kernel/cgroup/path.js';
import { comparableOopsLines, crashSysDate, dumps, manifest, manifestGenerated, primaryTruth, taintAtCrash, truth, type Json } from './fixtures.js';
import { isKernelAddress } from '../src/arch/arch.js';

interface ManifestTask { pid: number; comm: string; cgroup: string; nice: number; state: string }

function manifestTasks(scenario: string): ManifestTask[] {
  const out: ManifestTask[] = [];
  for (const m of manifest(scenario).matchAll(/^ps pid=(\d+) comm=(\S+) state\/nice\/cpu=(\S) (-?\d+) \S+ cgroup=(\S+)$/gm)) {
    out.push({ pid: Number(m[1]), comm: m[2], state: m[3], nice: Number(m[4]), cgroup: m[5] });
  }
  return out;
}

describe('task state letters (task_state_index semantics)', () => {
  const tab = { letters: 'RSDTtXZPI', report: 0x7f };
  it.each([
    [0, 0, 'R'], [0x1, 0, 'S'], [0x2, 0, 'D'], [0x4 | 0x100, 0, 'T'], [0x8, 0, 't'],
    [0x80, 0x10, 'X'], [0x80, 0x20, 'Z'], [0x40, 0, 'P'], [0x402, 0, 'I'], [0x102, 0, 'D'],
    [0x1000, 0, 'D'], [0x8000, 0, 'D'], [0x2001, 0, 'S'],
  ])('state %s exit_state %s → %s', (state, exit, ch) => {
    expect(taskStateToChar(tab, state, exit)).toBe(ch);
  });
});

describe.each(dumps)('$scenario/$name', ({ scenario, path }) => {
  let vm: Vmcore;
  let tasks: Task[];
  const t = primaryTruth(scenario);
  const extra = truth(scenario, 'extra.json');
  beforeAll(() => { vm = openVmcore(path); tasks = listTasks(vm); });
  afterAll(() => vm?.close());

  it('reads the kernel\'s task_state_array', () => {
    expect(taskStateTable(vm)).toEqual({ letters: 'RSDTtXZPI', report: 0x7f });
  });

  it('finds exactly drgn\'s threads, with pid, tgid, comm, state, cpu, prio, nice, policy, flags', () => {
    const threads = tasks.filter((x) => !x.isIdle);
    const got = threads.map((x) => ({
      pid: x.pid, tgid: x.tgid, comm: x.comm, state: x.state, cpu: x.cpu, task_struct: `0x${x.address.toString(16)}`,
      prio: x.prio, static_prio: x.staticPrio, nice: x.nice, policy: x.policy, flags: `0x${x.flags.toString(16)}`, is_kthread: x.isKthread,
    })).sort((a, b) => a.pid - b.pid);
    const want = (t.tasks as Json[]).map((x) => ({
      pid: x.pid, tgid: x.tgid, comm: x.comm, state: x.state, cpu: x.cpu, task_struct: x.task_struct,
      prio: x.prio, static_prio: x.static_prio, nice: x.nice, policy: x.policy, flags: x.flags, is_kthread: x.is_kthread,
    })).sort((a, b) => a.pid - b.pid);
    expect(got).toEqual(want);
  });

  it('adds one idle task per possible CPU, making extra.json\'s task count', () => {
    const idle = tasks.filter((x) => x.isIdle);
    expect(idle.map((x) => x.cpu)).toEqual(t.cpus.possible);
    expect(idle.every((x) => x.pid === 0 && x.comm === `swapper/${x.cpu}` && x.isKthread)).toBe(true);
    expect(idle.length).toBe(extra.sys.tasks_breakdown.idle_tasks);
    expect(tasks.length).toBe(extra.sys.tasks);
    expect(new Set(tasks.map((x) => x.address)).size).toBe(tasks.length);
  });

  it('gives every task extra.json\'s cgroup v2 path', () => {
    const got = Object.fromEntries(tasks.filter((x) => !x.isIdle).map((x) => [String(x.pid), x.cgroup]));
    expect(got).toEqual(extra.task_cgroups.pids);
    const sample = tasks.find((x) => x.cgroup !== '/')!;
    expect(taskCgroupPath(vm, sample.address)).toBe(sample.cgroup);
  });

  it('has the MANIFEST workload with its pid, comm, state, cgroup and nice', () => {
    const m = manifestTasks(scenario);
    expect(m.length).toBeGreaterThanOrEqual(11);
    for (const w of m) {
      const x = tasks.find((y) => y.pid === w.pid);
      expect(x, `pid ${w.pid}`).toBeDefined();
      expect({ comm: x!.comm, state: x!.state, cgroup: x!.cgroup, nice: x!.nice }).toEqual({ comm: w.comm, state: w.state, cgroup: w.cgroup, nice: w.nice });
    }
  });

  it('links parents (ppid = real_parent->tgid) and carries scheduler timestamps', () => {
    const byPid = new Map(tasks.filter((x) => !x.isIdle).map((x) => [x.pid, x]));
    expect(byPid.get(1)!.ppid).toBe(0);
    expect(byPid.get(2)!.ppid).toBe(0);
    for (const x of tasks) if (x.isKthread && !x.isIdle && x.pid !== 2) expect(x.ppid, x.comm).toBe(2);
    for (const w of manifestTasks(scenario)) expect(byPid.has(byPid.get(w.pid)!.ppid)).toBe(true);
    // the running hogs arrived on their CPU after boot; last_switch_time is a jiffies value
    const hog = byPid.get(manifestTasks(scenario)[0].pid)!;
    expect(hog.lastArrival).toBeGreaterThan(0n);
    expect(hog.lastSwitchTime).not.toBeNull();
  });

  it('carries task->stack and the blocked-on pointers through the walk, as the task_struct holds them', () => {
    // drgn's stack base of each waiting task, where the scenario has them
    for (const w of (extra.waits_for?.waits_for ?? []) as Json[]) {
      const x = tasks.find((y) => y.pid === w.pid)!;
      expect(`0x${x.stack.toString(16)}`, `pid ${w.pid}`).toBe(w.stack);
    }
    const stackOff = BigInt(vm.types.offsetof('struct task_struct', 'stack'));
    const pi = vm.types.tryMemberPath('struct task_struct', 'pi_blocked_on');
    for (const x of tasks.filter((y) => !y.isIdle).slice(0, 40)) {
      expect(x.stack).toBe(vm.mem.pointer(x.address + stackOff));
      expect(x.piBlockedOn).toBe(pi ? vm.mem.pointer(x.address + BigInt(pi.offset)) : null);
      expect(x.blockedOn === null).toBe(vm.types.tryMemberPath('struct task_struct', 'blocked_on') === null);
    }
  });

  it('reads CPUs and runqueue currents as drgn does', () => {
    const c = cpuInfo(vm);
    expect({ nr_cpu_ids: c.nrCpuIds, possible: c.possible, online: c.online }).toEqual(t.cpus);
    const onCpu = new Set(tasks.filter((x) => x.onCpu).map((x) => x.address));
    for (const cpu of c.cpus) {
      expect(cpu.curr).toBe(cpuCurr(vm, cpu.cpu));
      const rq = (t.runqueues as Json[] | undefined)?.find((r) => r.cpu === cpu.cpu);
      if (rq?.curr?.task_struct) expect(`0x${cpu.curr.toString(16)}`).toBe(rq.curr.task_struct);
      // a task current on an online CPU is on_cpu (the stopped CPUs of a QEMU dump keep theirs too)
      expect(onCpu.has(cpu.curr) || tasks.find((x) => x.address === cpu.curr)!.isIdle).toBe(true);
    }
  });

  it('finds the panic message, CPU and task of truth.json', () => {
    const p = panicInfo(vm);
    expect(p.message).toBe(t.panic.message);
    expect(p.source).toBe(t.panic.message_source.startsWith('Kernel panic') ? 'panic' : 'oops');
    expect(p.panicCpuVariable).toBe(t.panic.panic_cpu_variable);
    expect(p.cpu).toEqual({ cpu: t.panic_task.cpu, source: 'panic_cpu' });
    expect(p.task).toMatchObject({ pid: t.panic_task.tid, comm: t.panic_task.comm, cpu: t.panic_task.cpu, state: 'R' });
    expect(`0x${p.task!.address.toString(16)}`).toBe(t.panic_task.task_struct);
    const cmp = comparableOopsLines(p.oopsLines, t.panic.oops_lines);
    expect(cmp.ours).toEqual(cmp.truth);
    // the panic line's time; drgn_truth.py's uptime_at_panic_s is the first "Oops: " or panic
    // line's, earlier when an oops led to a "Fatal exception" panic
    const panicLine = (t.panic.oops_lines as string[]).find((l) => l.includes('] Kernel panic - not syncing: '));
    expect(p.uptime).toBeCloseTo(panicLine ? Number(/^\[\s*([\d.]+)\]/.exec(panicLine)![1]) : t.panic.uptime_at_panic_s, 5);
  });

  it('crash time: VMCOREINFO CRASHTIME, else the timekeeper (QEMU dump: crash\'s DATE)', () => {
    const ct = crashTime(vm)!;
    if (t.crash_time) {
      expect(ct).toEqual({ unix: t.crash_time.unix, utc: t.crash_time.utc, source: 'vmcoreinfo' });
    } else {
      // crash's `sys` DATE where crash read the dump; else the guest's clock, started from the
      // host's, puts the crash shortly before fixture-gen wrote the MANIFEST after the capture
      expect(ct.source).toBe('timekeeper');
      expect(ct.utc).toBe(new Date(ct.unix * 1000).toISOString().replace('.000Z', 'Z'));
      const date = crashSysDate(scenario);
      if (date !== null) expect(ct.unix).toBe(date);
      else expect(manifestGenerated(scenario) - ct.unix).toSatisfy((d: number) => d >= 0 && d < 15 * 60);
    }
  });

  it('decodes tainted_mask as the last "Tainted:" line of the log printed it', () => {
    const p = panicInfo(vm);
    const lines = kernelLog(vm).map((r) => r.text).filter((x) => x.includes('Tainted: '));
    const last = lines.at(-1);
    // one letter or space per taint flag the kernel knows (18 on 5.10, 19 since v5.19), then ' <release>'
    const release = vm.vmcoreinfo.osrelease!;
    const want = last ? last.slice(last.indexOf('Tainted: '), last.indexOf(` ${release}`, last.indexOf('Tainted: '))) : 'Not tainted';
    // with kdump the oops path enters crash_kexec() before oops_end() adds TAINT_DIE, so the mask
    // equals the oops line's; a "Fatal exception" panic comes after it (taintAtCrash)
    expect(p.taint.text).toBe(last ? taintAtCrash(scenario, want) : want);
    expect(decodeTaint(vm, 0x3080n).letters).toBe('DOE');
  });

  it('falls back when panic_cpu is unset: the log\'s oops header CPU', () => {
    // exercise the fallbacks on a view of this dump whose panic_cpu and crashing_cpu read -1
    const minus1 = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    const addrs = ['panic_cpu', 'crashing_cpu'].map((n) => vm.symbols.lookup(n)?.address);
    const dump = vm.dump;
    const orig = dump.s32.bind(dump);
    dump.s32 = (a: bigint): number => (addrs.includes(a) ? minus1.readInt32LE(0) : orig(a));
    try {
      const pc = panicCpu(vm);
      const oops = t.panic.message_source.startsWith('last Oops');
      if (oops || kernelLog(vm).some((r) => /^CPU: \d+ PID: /.test(r.text))) {
        expect(pc).toEqual({ cpu: t.panic_task.cpu, source: 'log' });
      } else {
        expect(pc?.cpu).toBe(t.panic_task.cpu);
      }
    } finally {
      dump.s32 = orig;
    }
  });

  it('lists truth.json\'s modules', () => {
    const mods = listModules(vm);
    expect(mods.map((m) => m.name).sort()).toEqual([...t.modules].sort());
    for (const m of mods) {
      expect(m.state).toBe('live');
      expect(m.size % 4096).toBe(0);
      expect(isKernelAddress(vm, m.base)).toBe(true);
      expect(m.taints).toBe(m.name.startsWith('vaat_') ? 'OE' : '');
    }
  });

  it('decodes a single task the same as the walk', () => {
    const x = tasks.find((y) => y.pid === 1)!;
    expect(taskAt(vm, x.address)).toEqual(x);
  });

  it('walks the same tasks again from the warm cache (timing is in bench/, not asserted here)', () => {
    const first = [...forEachTask(vm, { idle: false })];
    let perTask = Infinity;
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      const again = [...forEachTask(vm, { idle: false })];
      perTask = Math.min(perTask, ((performance.now() - t0) * 1000) / again.length);
      expect(again).toEqual(first);
    }
    console.log(`task walk: ${perTask.toFixed(1)} µs/task`);
  });
});
