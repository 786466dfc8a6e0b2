// The core commands side by side on the same vmcore in one run: vaat (`sys`, `ps`, `bt -a`,
// `runq`, whole process), drgn 0.0.22 (a script doing the same with its helpers) and crash 8.0.2
// (the command, then quit). Then the per-task cost of `ps` and `stacks` inside one process, and
// what 65,000 tasks would take at that rate.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, benchEnvNote, best, fixturesDir, fmt, printTable, root, vaatArgv } from './common.mjs';

const vmcore = process.env.VMCORE ?? join(fixturesDir, 'sysrq-basic/vmcore.kdump-lzo');
const vmlinux = '/usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-amd64';
const hasDebug = existsSync(vmlinux);
const tmp = mkdtempSync(join(tmpdir(), 'vaat-bench-cmd-'));

const drgnScripts = {
  sys: `from drgn.helpers.linux.pid import for_each_task
u = prog['init_uts_ns'].name
load = [prog['avenrun'][i].value_() / 2048 for i in range(3)]
print(u.release.string_().decode(), u.nodename.string_().decode(), load, sum(1 for _ in for_each_task(prog)))`,
  ps: `from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char
for t in for_each_task(prog):
    print(t.pid.value_(), task_state_to_char(t), t.thread_info.cpu.value_(), t.comm.string_().decode())`,
  'bt -a': `from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.percpu import per_cpu
for cpu in for_each_online_cpu(prog):
    try:
        print(prog.stack_trace(per_cpu(prog['runqueues'], cpu).curr))
    except Exception as e:
        print(cpu, e)`,
  runq: `from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.percpu import per_cpu
from drgn.helpers.linux.rbtree import rbtree_inorder_for_each_entry
for cpu in for_each_online_cpu(prog):
    rq = per_cpu(prog['runqueues'], cpu)
    print(cpu, rq.nr_running.value_(), rq.curr.comm.string_().decode())
    for se in rbtree_inorder_for_each_entry('struct sched_entity', rq.cfs.tasks_timeline.rb_root.address_of_(), 'run_node'):
        print('  ', se.vruntime.value_())`,
};

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, env: benchEnv() });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.slice(0, 300)}`);
  return r;
}

const rows = [];
for (const cmd of ['sys', 'ps', 'bt -a', 'runq']) {
  const argv = cmd.split(' ');
  const vaat = best(() => run(process.execPath, [...vaatArgv, argv[0], vmcore, ...argv.slice(1)]));
  let drgn = null, crash = null;
  if (hasDebug) {
    const script = join(tmp, `${argv[0]}.py`);
    writeFileSync(script, drgnScripts[cmd] + '\n');
    drgn = best(() => run('drgn', ['-q', '-c', vmcore, '-s', vmlinux, script]), 3);
    crash = best(() => run('crash', ['-s', vmlinux, vmcore], `${cmd}\nquit\n`), 2);
  }
  rows.push([`${cmd}`, fmt(vaat, 0), fmt(drgn, 0), fmt(crash, 0), drgn ? fmt(vaat / drgn, 2) : '-', crash ? fmt(vaat / crash, 3) : '-']);
}

// Per-task cost inside one process: a fresh Vmcore each time (cold: pages decompressed), and warm.
const { openVmcore } = await import(join(root, 'dist/src/index.js'));
const { listTasks } = await import(join(root, 'dist/src/kernel/tasks.js'));
const { groupTaskStacks } = await import(join(root, 'dist/src/kernel/stack/groups.js'));
const { taskStack } = await import(join(root, 'dist/src/kernel/stack/index.js'));
const probe = openVmcore(vmcore);
const nTasks = listTasks(probe).length;

const timeIt = (fn, setup = () => {}) => {
  let ms = Infinity;
  for (let i = 0; i < 3; i++) {
    const vm = openVmcore(vmcore);
    void vm.types; void vm.symbols;
    setup(vm);
    const t0 = performance.now();
    fn(vm);
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
};
// One-time costs are paid before the clock starts (symbols, types; for stacks also the ORC
// tables, loaded by unwinding one task), so what is timed is the cost that grows with tasks.
// ps: the walk after its first task, whose time holds the one-time set-up (layouts, the state
// table): what is left is what each further task costs, its pages decompressed cold.
const { forEachTask } = await import(join(root, 'dist/src/kernel/tasks.js'));
const psMs = timeIt((vm) => { const it = forEachTask(vm); for (let r = it.next(); !r.done; r = it.next()); }, (vm) => { forEachTask(vm).next(); });
const stacksMs = timeIt((vm) => groupTaskStacks(vm), (vm) => taskStack(vm, forEachTask(vm).next().value.address));

rmSync(tmp, { recursive: true, force: true });

const md = process.argv.includes('--markdown');
const header = ['command', 'vaat ms', 'drgn ms', 'crash ms', 'vaat / drgn', 'vaat / crash'];
const perTask = [
  ['ps (task walk, pages cold)', nTasks, fmt(psMs, 1), fmt((psMs / nTasks) * 1000, 1), fmt((psMs / nTasks) * 65000 / 1000, 2)],
  ['stacks (walk + unwind every task)', nTasks, fmt(stacksMs, 1), fmt((stacksMs / nTasks) * 1000, 1), fmt((stacksMs / nTasks) * 65000 / 1000, 2)],
];
const perHeader = ['work (after symbols+types are loaded)', 'tasks', 'ms', 'µs per task', 'projected s for 65,000 tasks'];
if (md) {
  console.log(`vmcore: \`${vmcore.replace(fixturesDir + '/', '')}\`\n`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\n| ${perHeader.join(' | ')} |\n|${perHeader.map(() => '---').join('|')}|`);
  for (const r of perTask) console.log(`| ${r.join(' | ')} |`);
} else {
  printTable(header, rows);
  printTable(perHeader, perTask);
}
console.log(`\n${benchEnvNote}`);
