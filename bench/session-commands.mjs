// Every command inside one session, timed in-process (Session.execLine, output discarded): what
// a command costs once the dump is open, without the pipe and the scheduler between the tool and
// the clock that bench/session.mjs measures. "first" is the command's first run in the session
// (lazy tables are loaded then), "first after warm-up" its first run in a second session once the
// prompt's warm-up is done, "again" the median of 7 more runs, wall and CPU time.
//
//   nice -n 10 node bench/session-commands.mjs [--markdown]     (VMCORE=... to use another dump)
import { join } from 'node:path';
import { fmt, printTable, root } from './common.mjs';

const { openVmcore } = await import(join(root, 'dist/src/vmcore.js'));
const { Session } = await import(join(root, 'dist/cli/session.js'));
const { loadCommands } = await import(join(root, 'dist/cli/load-commands.js'));

const vmcore = process.env.VMCORE ?? join(root, 'sample', 'vmcore-cgroup-mutex-hung.kdump-zstd');
const REPEATS = 7;
const markdown = process.argv.includes('--markdown');

const { commands } = await loadCommands();
const t0 = performance.now();
const vm = openVmcore(vmcore);
const session = new Session(vm, commands);
const sink = { color: false, err: () => {}, write: async () => {} };
await session.execLine('p jiffies', sink);
const open = performance.now() - t0;

// the lock holder, for bt (what bench/session.mjs asks too)
let holder = 1;
await session.execLine('lockinfo cgroup_mutex --json', { ...sink, write: async (t) => { holder = JSON.parse(t).lock.owner?.pid ?? 1; } });

const QUERIES = [
  'p init_task.comm', 'p runqueues:2 --member nr_running', 'lockinfo cgroup_mutex', `bt ${holder}`, 'cpuinfo -t', 'ps',
  'sym schedule', 'struct task_struct', 'log --tail 20', 'runq', 'runq -g', 'sys', 'mod', 'cgroupinfo', 'stacks',
  'lockinfo --blocked', 'tasktable --fields pid,comm,se.vruntime', 'info', 'bt -a', 'summary', 'signature', 'rd init_uts_ns -n 64',
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = (u) => (u.user + u.system) / 1000;

const rows = [];
for (const q of QUERIES) {
  let t = performance.now();
  let c = process.cpuUsage();
  await session.execLine(q, sink);
  const first = performance.now() - t;
  const firstCpu = cpuMs(process.cpuUsage(c));
  const wall = [];
  const cpu = [];
  for (let i = 0; i < REPEATS; i++) {
    t = performance.now();
    c = process.cpuUsage();
    await session.execLine(q, sink);
    wall.push(performance.now() - t);
    cpu.push(cpuMs(process.cpuUsage(c)));
  }
  rows.push([q, fmt(first), fmt(firstCpu), fmt(median(wall)), fmt(median(cpu)), median(wall) <= 30 ? 'yes' : 'no']);
}
vm.close();

// A second session as a person gets it at the prompt: the warm-up (Session.warmUp, run while the
// prompt waits for the first line) done, then each command's first run.
const vm2 = openVmcore(vmcore);
const warmed = new Session(vm2, commands);
let t = performance.now();
await warmed.warmUp(() => false);
const warmMs = performance.now() - t;
for (const [i, q] of QUERIES.entries()) {
  t = performance.now();
  const c = process.cpuUsage();
  await warmed.execLine(q, sink);
  const wall = performance.now() - t;
  rows[i].splice(3, 0, fmt(wall), fmt(cpuMs(process.cpuUsage(c))));
  rows[i].push(wall <= 30 ? 'yes' : 'no');
}
vm2.close();

const header = ['command', 'first ms', 'first CPU ms', 'first after warm-up ms', 'its CPU ms', 'again ms', 'again CPU ms', '≤ 30 ms again', '≤ 30 ms after warm-up'];
if (markdown) {
  console.log(`vmcore: \`${vmcore.replace(root + '/', '')}\`, opened in ${fmt(open, 0)} ms (first answer), warm-up ${fmt(warmMs, 0)} ms; "again" = median of ${REPEATS}\n`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} else {
  console.log(`open ${fmt(open, 0)} ms, warm-up ${fmt(warmMs, 0)} ms`);
  printTable(header, rows);
}
