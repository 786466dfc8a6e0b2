// Big machines: every vaat command as a whole process on dumps with tens of thousands of tasks
// and dozens of CPUs, side by side in one run with drgn (Debian's python3-drgn: open + debug info
// + list every task, the cost any drgn script touching every task pays; for `stacks`, drgn
// unwinding every task) and crash (the same command, where it works), as ratios; peak RSS of
// each process; and the slope per task between a ~100-task fixture and the big dump, projected
// to 100,000 tasks.
//
//   node bench/scale.mjs [--markdown] [--runs N] [--only REGEX] [--no-crash] [--crash-all] [--no-drgn-stacks] [--keep-node-ca]
//
// The scale dumps are too big for the repository: make them with the fixture generator (see
// howToMake below) into $VAAT_SCALE_DUMPS (default ../scale-dumps beside the repository).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { benchEnv, benchEnvNote, fixturesDir, fmt, printTable, root, vaatArgv } from './common.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : dflt; };
const md = process.argv.includes('--markdown');
const runs = Number(arg('--runs', '2'));
const only = arg('--only') ? new RegExp(arg('--only')) : null;
const withCrash = !process.argv.includes('--no-crash');
const drgnStacks = !process.argv.includes('--no-drgn-stacks');
const crashAll = process.argv.includes('--crash-all');
const scaleDir = resolve(process.env.VAAT_SCALE_DUMPS ?? join(root, '../scale-dumps'));
const vmlinux = process.env.VMLINUX ?? '/usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-amd64';
const small = process.env.VAAT_SCALE_SMALL ?? join(fixturesDir, 'sysrq-basic/vmcore.kdump-lzo');
const PROJECT_TASKS = 100_000;

const howToMake = `No scale dumps found under ${scaleDir} (set VAAT_SCALE_DUMPS to another directory).
Make them with the fixture generator (real kdumps of the 6.1 dev kernel + drgn truth), outside the repository:

  cd ../shared/fixture-gen
  # >= 20,000 tasks (20 processes x 1,000 threads) on 8 vCPUs, ~10 min under TCG
  VAAT_DEVSCALE_OUT=${join(scaleDir, '20k')} POOL_PROCS=20 POOL_THREADS=1000 nice -n 10 ./build.sh --devscale many-tasks
  # the goal's own size, 10,000 tasks (10 x 1,000), ~3 min
  VAAT_DEVSCALE_OUT=${join(scaleDir, '10k')} POOL_PROCS=10 POOL_THREADS=1000 nice -n 10 ./build.sh --devscale many-tasks
  # >= 32 vCPUs (64 possible, 32 online: sparse/offline CPUs), fewer tasks: TCG boots many CPUs slowly
  VAAT_DEVSCALE_OUT=${join(scaleDir, 'smp32')} VAAT_SMP=32,maxcpus=64,sockets=4,cores=8,threads=2 VAAT_MEM=2048 \\
    POOL_PROCS=10 POOL_THREADS=300 nice -n 10 ./build.sh --devscale many-tasks
  # drgn/crash timings of the same work (truth/scale-timing.json, truth/tasks.tsv)
  truth-tools/scale_timing.sh /usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-amd64 ${join(scaleDir, '20k/many-tasks')}

(needs qemu-system-x86 kexec-tools busybox-static linux-headers-6.1.0-54-cloud-amd64, see its README.md)`;

/** every scale dump: a directory with truth/ and a vmcore.kdump-* (first found), as { name, path, tasks, cpus } */
function scaleDumps() {
  if (!existsSync(scaleDir)) return [];
  const out = [];
  const visit = (dir, depth) => {
    if (depth > 3) return;
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (!statSync(p).isDirectory()) continue;
      const core = ['vmcore.kdump-lzo', 'vmcore.kdump-zstd', 'vmcore.kdump-zlib', 'vmcore.kdump-snappy'].map((f) => join(p, f)).find(existsSync);
      if (core && existsSync(join(p, 'truth/truth.json'))) {
        const truth = JSON.parse(readFileSync(join(p, 'truth/truth.json'), 'utf8'));
        const name = relative(scaleDir, p);
        if (!only || only.test(name)) out.push({ name, path: core, tasks: truth.tasks?.length ?? null, cpus: truth.cpus ?? null });
      } else visit(p, depth + 1);
    }
  };
  visit(scaleDir, 0);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const tmp = mkdtempSync(join(tmpdir(), 'vaat-bench-scale-'));
const timeOut = join(tmp, 'time.txt');

/** one process: wall ms (measured here), peak RSS MiB (GNU time's %M), stdout bytes and lines */
function measure(cmd, args, input) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', timeOut, cmd, ...args], {
    input, encoding: 'utf8', maxBuffer: 2 ** 31, env: benchEnv(),
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) return { error: `${cmd} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || '').trim().split('\n').pop()}` };
  const [rssKiB, user, sys] = readFileSync(timeOut, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  // CPU seconds (user + system) too: on a shared machine they hold still where wall time does not
  return { ms, cpuMs: (user + sys) * 1000, rssMiB: rssKiB / 1024, out: r.stdout };
}

/** best time of `n` runs (the least disturbed by whatever else runs on the machine), with that run's RSS */
function bestOf(n, fn) {
  let best = null;
  for (let i = 0; i < n; i++) {
    const m = fn();
    if (m.error) return m;
    if (!best || m.ms < best.ms) best = { ...m, cpuMs: Math.min(m.cpuMs, best?.cpuMs ?? Infinity), rssMiB: Math.max(m.rssMiB, best?.rssMiB ?? 0) };
    else best.cpuMs = Math.min(best.cpuMs, m.cpuMs);
  }
  return best;
}

// drgn: the cost of opening the dump and listing every task (what the issue's table compares
// against), and of unwinding every task's stack (the peer of `vaat stacks`).
const DRGN_LIST = `import sys, drgn
from drgn import Program
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char
prog = Program()
prog.set_core_dump(sys.argv[1])
try:
    prog.load_debug_info([sys.argv[2]])
except drgn.MissingDebugInfoError:
    pass
n = 0
for t in for_each_task(prog):
    (t.pid.value_(), t.tgid.value_(), task_state_to_char(t), t.comm.string_())
    n += 1
print(n)
`;
const DRGN_STACKS = DRGN_LIST.replace(/\nn = 0[\s\S]*$/, `
n = 0
for t in for_each_task(prog):
    try:
        n += len(prog.stack_trace(t))
    except Exception:
        pass
print(n)
`);
writeFileSync(join(tmp, 'list.py'), DRGN_LIST);
writeFileSync(join(tmp, 'stacks.py'), DRGN_STACKS);

const vaat = (argv, core) => measure(process.execPath, [...vaatArgv, ...(argv.length ? [argv[0], core, ...argv.slice(1)] : [core])]);
const drgn = (script, core) => measure('/usr/bin/python3', [join(tmp, script), core, vmlinux]);
const crash = (cmd, core) => measure('crash', ['-s', vmlinux, core], `${cmd}\nquit\n`);

/** the rows: vaat's argv, the drgn work it is compared with, crash's command where crash has one */
const COMMANDS = [
  { label: 'ps (text)', argv: ['ps'], peer: 'list', crash: 'ps' },
  { label: 'ps --json', argv: ['ps', '--json'], peer: 'list' },
  { label: 'ps --jsonl', argv: ['ps', '--jsonl'], peer: 'list' },
  { label: 'sys', argv: ['sys'], peer: 'list', crash: 'sys' },
  { label: 'vaat VMCORE (summary)', argv: [], peer: 'list' },
  { label: 'tasktable --fields pid,comm,se.vruntime,nvcsw --sort se.vruntime', argv: ['tasktable', '--fields', 'pid,comm,se.vruntime,nvcsw', '--sort', 'se.vruntime'], peer: 'list' },
  { label: 'lockinfo --blocked', argv: ['lockinfo', '--blocked'], peer: 'list' },
  { label: 'cgroupinfo', argv: ['cgroupinfo'], peer: 'list' },
  { label: 'cgroupinfo --tasks', argv: ['cgroupinfo', '--tasks'], peer: 'list' },
  { label: 'runq', argv: ['runq'], peer: 'list', crash: 'runq', crashOptional: true },
  { label: 'cpuinfo', argv: ['cpuinfo'], peer: 'list' },
  { label: 'signature', argv: ['signature'], peer: 'list' },
  { label: 'log', argv: ['log'], peer: 'list', crash: 'log', crashOptional: true },
  { label: 'stacks (every task unwound)', argv: ['stacks'], peer: 'stacks' },
];

const dumps = scaleDumps();
if (dumps.length === 0) {
  console.log(howToMake);
  rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
}
if (!existsSync(vmlinux)) console.log(`(no ${vmlinux}: drgn and crash columns are empty; install linux-image-6.1.0-54-cloud-amd64-dbg)`);

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();

/** every command on one dump: { label → { vaat, peer, crash } }, plus the drgn measurements */
function benchDump(core) {
  const peers = {};
  if (existsSync(vmlinux)) {
    peers.list = bestOf(runs, () => drgn('list.py', core));
    peers.stacks = drgnStacks ? bestOf(1, () => drgn('stacks.py', core)) : { error: 'skipped (--no-drgn-stacks)' };
  }
  const res = {};
  for (const c of COMMANDS) {
    const v = bestOf(runs, () => vaat(c.argv, core));
    // crash takes minutes to start on 20,000 tasks: ps and sys by default, the rest with --crash-all
    const k = withCrash && c.crash && (!c.crashOptional || crashAll) && existsSync(vmlinux) ? bestOf(1, () => crash(c.crash, core)) : null;
    res[c.label] = { vaat: v, peer: peers[c.peer] ?? null, crash: k };
    process.stderr.write(`  ${c.label}: ${v.error ?? `${fmt(v.ms / 1000, 2)} s`}\n`);
  }
  return { res, peers };
}

const ratio = (a, b, d = 2) => (a && b && !a.error && !b.error ? fmt(a.ms / b.ms, d) : '-');
const secs = (m) => (!m ? '-' : m.error ? 'error' : fmt(m.ms / 1000, 2));
const cpu = (m) => (!m ? '-' : m.error ? 'error' : fmt(m.cpuMs / 1000, 2));
const cpuRatio = (a, b) => (a && b && !a.error && !b.error ? fmt(a.cpuMs / b.cpuMs, 2) : '-');
const mib = (m) => (!m || m.error ? '-' : fmt(m.rssMiB, 0));
/** tasks crash's ps listed (crash 8.0.2 finds only the per-CPU active tasks on 6.1) */
const crashTasks = (m) => (m && !m.error ? String(m.out.split('\n').filter((l) => /^\s*>?\s*\d+\s+\d+\s+\d+\s+[0-9a-f]{8,}/.test(l)).length) : '-');

const emit = (title, header, rows) => {
  if (md) {
    console.log(`\n${title}\n\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  } else {
    console.log(`\n${title}`);
    printTable(header, rows);
  }
};

process.stderr.write(`small: ${small}\n`);
const smallRes = benchDump(small);
const smallTasks = Number(smallRes.peers.list?.out?.trim() ?? NaN);
const all = [];
for (const d of dumps) {
  process.stderr.write(`${d.name}: ${d.tasks} tasks, ${d.cpus?.possible?.length ?? '?'} possible CPUs\n`);
  all.push({ d, ...benchDump(d.path) });
}
const loadAfter = load();

for (const { d, res, peers } of all) {
  const header = ['command', 'vaat s', 'vaat CPU s', 'vaat MiB', 'drgn s', 'drgn CPU s', 'drgn MiB', 'vaat / drgn', 'CPU vaat / drgn', 'RSS vaat / drgn', 'crash s', 'vaat / crash'];
  const rows = COMMANDS.map((c) => {
    const r = res[c.label];
    return [c.label + (c.peer === 'stacks' ? ' (drgn: unwind every task)' : ''), secs(r.vaat), cpu(r.vaat), mib(r.vaat), secs(r.peer), cpu(r.peer), mib(r.peer),
      ratio(r.vaat, r.peer), cpuRatio(r.vaat, r.peer), r.vaat?.error || !r.peer || r.peer.error ? '-' : fmt(r.vaat.rssMiB / r.peer.rssMiB, 2), secs(r.crash), ratio(r.vaat, r.crash, 3)];
  });
  const cpus = d.cpus ? `${d.cpus.possible.length} possible / ${d.cpus.online.length} online CPUs` : '';
  emit(`${d.name} (\`${relative(scaleDir, d.path)}\`): ${d.tasks} tasks (drgn for_each_task: ${peers.list?.out?.trim() ?? '?'}), ${cpus}; crash's ps listed ${crashTasks(res['ps (text)'].crash)} tasks`, header, rows);
}

// Slopes: per-task cost between the small fixture and each big dump, and 100,000 tasks projected.
// slopes from the task-heavy dumps (the many-CPU one has few tasks: its per-task slope is noise)
const big = all.filter((x) => x.d.tasks && x.d.tasks >= 10_000);
for (const { d, res, peers } of big) {
  const nBig = Number(peers.list?.out?.trim() ?? d.tasks);
  const header = ['command', `CPU s @${smallTasks}`, `CPU s @${nBig}`, 'CPU µs per task', `projected CPU s @${PROJECT_TASKS / 1000}k`, `MiB @${smallTasks}`, `MiB @${nBig}`, 'KiB per task', `projected MiB @${PROJECT_TASKS / 1000}k`];
  const rows = COMMANDS.map((c) => {
    const a = smallRes.res[c.label].vaat, b = res[c.label].vaat;
    if (!a || !b || a.error || b.error) return [c.label, cpu(a), cpu(b), '-', '-', mib(a), mib(b), '-', '-'];
    const dn = nBig - smallTasks;
    const slope = (b.cpuMs - a.cpuMs) / dn; // CPU ms per task
    const mslope = (b.rssMiB - a.rssMiB) / dn; // MiB per task
    return [c.label, cpu(a), cpu(b), fmt(slope * 1000, 1), fmt((a.cpuMs + slope * (PROJECT_TASKS - smallTasks)) / 1000, 1),
      mib(a), mib(b), fmt(mslope * 1024, 1), fmt(a.rssMiB + mslope * (PROJECT_TASKS - smallTasks), 0)];
  });
  const pl = peers.list, sl = smallRes.peers.list;
  if (pl && sl && !pl.error && !sl.error) {
    const slope = (pl.cpuMs - sl.cpuMs) / (nBig - smallTasks);
    const mslope = (pl.rssMiB - sl.rssMiB) / (nBig - smallTasks);
    rows.push(['drgn: open + list every task', cpu(sl), cpu(pl), fmt(slope * 1000, 1), fmt((sl.cpuMs + slope * (PROJECT_TASKS - smallTasks)) / 1000, 1),
      mib(sl), mib(pl), fmt(mslope * 1024, 1), fmt(sl.rssMiB + mslope * (PROJECT_TASKS - smallTasks), 0)]);
  }
  emit(`Slopes: ${relative(fixturesDir, small)} (${smallTasks} tasks) → ${d.name} (${nBig} tasks), linear projection to ${PROJECT_TASKS.toLocaleString('en')} tasks`, header, rows);
}
console.log(`\nload average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}; ${runs} run(s) each, best time; CPU = user + system seconds; RSS = peak resident set (GNU time %M, %U, %S)`);
console.log(benchEnvNote);
rmSync(tmp, { recursive: true, force: true });
