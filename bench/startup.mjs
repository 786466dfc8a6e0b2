// Time from process start to the first resolved `struct task_struct` member (init_task.comm),
// for vaat on a bare vmcore (kallsyms + BTF from the dump, cold and with the per-build-id cache
// warm: the kallsyms of this build cached) and with DWARF (cold and warm type cache), side by side with drgn (`-c vmcore -s vmlinux`,
// printing init_task.comm) and crash (`crash -s vmlinux vmcore` running `sys`, then quit).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, benchEnvNote, best, fixturesDir, fmt, printTable, root, vaatArgv } from './common.mjs';

// --arm64: the arm64 set's sysrq dump and its debug vmlinux (crash 8.0.2 from Debian reads x86_64 only)
const arm64 = process.argv.includes('--arm64');
const vmcore = join(fixturesDir, arm64 ? 'arm64-sysrq/vmcore.kdump-lzo' : 'sysrq-basic/vmcore.kdump-lzo');
const vmlinux = arm64 ? '/usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-arm64' : '/usr/lib/debug/boot/vmlinux-6.1.0-54-cloud-amd64';
const hasDwarf = existsSync(vmlinux);
const tmp = mkdtempSync(join(tmpdir(), 'vaat-bench-start-'));
const cache = join(tmp, 'cache');
const script = join(tmp, 'comm.py');
writeFileSync(script, 'print(prog["init_task"].comm)\n');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts, env: benchEnv({ XDG_CACHE_HOME: cache, ...(opts.env ?? {}) }) });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  if (!/swapper\/0|TASKS/.test(r.stdout)) throw new Error(`${cmd}: unexpected output ${r.stdout.slice(0, 200)}`);
  return r;
}
const vaat = (extra = []) => () => run(process.execPath, [...vaatArgv, 'p', vmcore, 'init_task.comm', ...extra]);
const clearCache = () => rmSync(cache, { recursive: true, force: true });

const rows = [];
const measure = (label, fn, cold = false) => {
  // cold: clear the cache before every run (and no warm-up run)
  const ms = cold ? best(() => { clearCache(); fn(); }, 3, false) : best(fn, 3, true);
  rows.push([label, ms]);
  return ms;
};

measure(`vaat, bare vmcore (kallsyms + BTF from the dump${arm64 ? ', data symbols derived' : ''}), cold cache`, vaat(['--no-vmlinux']), true);
measure('vaat, bare vmcore, warm cache (kallsyms decoded before for this build)', vaat(['--no-vmlinux']));
if (hasDwarf) {
  // the debug vmlinux found in /usr/lib/debug by build-id, as a plain `vaat` run finds it
  measure('vaat, DWARF (debug vmlinux found by build-id), cold cache', vaat(), true);
  measure('vaat, DWARF (debug vmlinux found by build-id), warm cache', vaat());
  // naming it with --vmlinux also loads its ELF symbol table and cross-checks it with kallsyms
  measure('vaat, DWARF with --vmlinux named (symtab cross-checked), warm cache', vaat(['--vmlinux', vmlinux]));
  measure('drgn 0.0.22 (-c vmcore -s vmlinux)', () => run('drgn', ['-q', '-c', vmcore, '-s', vmlinux, script]));
  if (!arm64) measure('crash 8.0.2 (sys, quit)', () => run('crash', ['-s', vmlinux, vmcore], { input: 'sys\nquit\n' }), false);
}
clearCache();
rmSync(tmp, { recursive: true, force: true });

const drgn = rows.find((r) => r[0].startsWith('drgn'))?.[1];
const crash = rows.find((r) => r[0].startsWith('crash'))?.[1];
const header = ['run', 'ms', 'vs drgn', 'vs crash'];
const out = rows.map(([l, ms]) => [l, fmt(ms, 0), drgn ? fmt(ms / drgn, 2) : '-', crash ? fmt(ms / crash, 3) : '-']);
if (process.argv.includes('--markdown')) {
  console.log(`| ${header.join(' | ')} |\n|---|---|---|---|`);
  for (const r of out) console.log(`| ${r.join(' | ')} |`);
} else printTable(header, out);
console.log(`\n${benchEnvNote}`);
