// Commands typed into an open session, side by side: `vaat shell VMCORE`, drgn's interactive
// mode (`drgn -c VMCORE -s vmlinux`, the same queries written with its helpers) and crash's
// prompt (`crash -s vmlinux VMCORE`, its nearest command). Each tool is started once; every
// query is followed by an echo of a marker, and the time is from writing the query to reading
// the marker back. "first" is the query's first run in the session (lazy indexes are built
// then), "again" the median of the next runs. Open = start to the first answer.
//
//   nice -n 10 node bench/session.mjs [--markdown]     (VMCORE=... to use another dump)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, printTable, root, vaatArgv } from './common.mjs';

const vmcore = process.env.VMCORE ?? join(root, 'sample', 'vmcore-cgroup-mutex-hung.kdump-zstd');
const vmlinux = '/usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-amd64';
const REPEATS = Number(process.env.REPEATS ?? 5);
const markdown = process.argv.includes('--markdown');

/** a REPL on pipes: send a query plus a marker echo, resolve with the time to the marker */
class Repl {
  #out = '';
  #waiting = null;
  #n = 0;

  constructor(cmd, args, { marker, env = {} }) {
    this.marker = marker;
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    const onData = (d) => {
      this.#out += d.toString();
      if (this.#waiting && this.#out.includes(this.#waiting.tag)) {
        const w = this.#waiting;
        this.#waiting = null;
        const text = this.#out;
        this.#out = '';
        w.resolve({ ms: performance.now() - w.t0, text });
      }
    };
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
  }

  /** the query's time in ms (and what it printed) */
  run(query) {
    const tag = `MARK-${++this.#n}-END`;
    return new Promise((resolve, reject) => {
      // crash takes minutes to start on a busy machine
      const timer = setTimeout(() => reject(new Error(`${this.child.spawnfile}: no answer to ${query} in 900 s:\n${this.#out.slice(-500)}`)), 900_000);
      this.#waiting = { tag, t0: performance.now(), resolve: (r) => { clearTimeout(timer); resolve(r); } };
      this.child.stdin.write(`${query}\n${this.marker(tag)}\n`);
    });
  }

  close(quit) {
    this.child.stdin.end(`${quit}\n`);
    setTimeout(() => this.child.kill(), 5000).unref();
  }
}

/** cgroup_mutex's holder (what `bt` looks at), from vaat itself; pid 1 when nobody holds it */
function lockHolder() {
  const r = spawnSync(process.execPath, [...vaatArgv, 'lockinfo', 'cgroup_mutex', vmcore, '--json'], { encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout).lock.owner?.pid ?? 1 : 1;
}

const holder = lockHolder();
/** [label, vaat, drgn (one line of Python), crash] */
const QUERIES = [
  ['p init_task.comm', 'p init_task.comm', `print(prog['init_task'].comm)`, 'p init_task.comm'],
  ['p runqueues:2 --member nr_running', 'p runqueues:2 --member nr_running', `print(per_cpu(prog['runqueues'], 2).nr_running)`, 'p runqueues:2 | grep -w nr_running'],
  ['lockinfo cgroup_mutex', 'lockinfo cgroup_mutex', `m = prog['cgroup_mutex']; o = Object(prog, 'struct task_struct *', m.owner.counter.value_() & ~7); print(o.pid, o.comm, [w.task.pid.value_() for w in list_for_each_entry('struct mutex_waiter', m.wait_list.address_of_(), 'list')])`, 'struct mutex cgroup_mutex'],
  [`bt ${holder}`, `bt ${holder}`, `print(prog.stack_trace(find_task(prog, ${holder})))`, `bt ${holder}`],
  ['cpuinfo -t', 'cpuinfo -t', `exec("for c in for_each_online_cpu(prog):\\n s = per_cpu(prog['cpu_tlbstate'], c); mm = s.loaded_mm; a = s.loaded_mm_asid.value_(); print(c, hex(mm.value_()), s.ctxs[a].ctx_id.value_(), s.ctxs[a].tlb_gen.value_(), mm.context.ctx_id.value_(), mm.context.tlb_gen.counter.value_(), s.is_lazy.value_() if hasattr(s, 'is_lazy') else per_cpu(prog['cpu_tlbstate_shared'], c).is_lazy.value_())")`, 'p cpu_tlbstate:a'],
  ['ps', 'ps', `exec("for t in for_each_task(prog): print(t.pid.value_(), task_state_to_char(t), task_cpu(t), t.comm.string_().decode())")`, 'ps'],
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(label, repl, column) {
  const t0 = performance.now();
  await repl.run(column === 1 ? 'p jiffies' : column === 2 ? `print(prog['jiffies'])` : 'p jiffies');
  const open = performance.now() - t0;
  const rows = {};
  for (const q of QUERIES) {
    const first = (await repl.run(q[column])).ms;
    const again = [];
    for (let i = 0; i < REPEATS; i++) again.push((await repl.run(q[column])).ms);
    rows[q[0]] = { first, again: median(again) };
  }
  process.stderr.write(`session bench: ${label} done\n`);
  return { open, rows };
}

const vaat = new Repl(process.execPath, [...vaatArgv, 'shell', vmcore], { marker: (t) => `echo ${t}` });
const results = { vaat: await measure('vaat', vaat, 1) };
vaat.close('quit');
if (existsSync(vmlinux)) {
  const drgn = new Repl('drgn', ['-q', '-c', vmcore, '-s', vmlinux], { marker: (t) => `print(${JSON.stringify(t)})`, env: { PYTHONUNBUFFERED: '1' } });
  drgn.child.stdin.write('from drgn.helpers.linux.sched import task_state_to_char, task_cpu\n');
  results.drgn = await measure('drgn', drgn, 2);
  drgn.close('exit()');
  const crash = new Repl('crash', ['-s', vmlinux, vmcore], { marker: (t) => `echo ${t}` });
  try { results.crash = await measure('crash', crash, 3); } catch (e) { process.stderr.write(`session bench: crash left out: ${e.message.split('\n')[0]}\n`); }
  crash.close('quit');
}

const peers = Object.keys(results).filter((k) => k !== 'vaat');
const header = ['query', 'vaat first', 'vaat again', ...peers.flatMap((p) => [`${p} first`, `${p} again`, `vaat/${p} again`])];
const cell = (x, d = 1) => fmt(x, d);
const rows = [['open (start → first answer)', cell(results.vaat.open, 0), '', ...peers.flatMap((p) => [cell(results[p].open, 0), '', cell(results.vaat.open / results[p].open, 2)])]];
for (const [label] of QUERIES) {
  const v = results.vaat.rows[label];
  rows.push([label, cell(v.first), cell(v.again), ...peers.flatMap((p) => [cell(results[p].rows[label].first), cell(results[p].rows[label].again), cell(v.again / results[p].rows[label].again, 2)])]);
}
if (markdown) {
  console.log(`vmcore: \`${vmcore.replace(root + '/', '')}\`, ms; "again" = median of ${REPEATS}\n`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} else printTable(header, rows);
