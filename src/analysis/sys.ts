/**
 * The system record crash's `sys` prints, which `vaat sys` and `vaat summary` both show: the
 * machine, the kernel, CPUs, uptime, load, tasks, memory and the panic, each figure read on its
 * own so one unreadable figure never hides the rest.
 */
import type { Vmcore } from '../vmcore.js';
import { listTasks, type TaskStateChar } from '../kernel/tasks.js';
import { cpuMask } from '../kernel/cpu.js';
import { panicInfo, type CrashTime, type PanicCpu } from '../kernel/panic.js';
import { cpuMhz, loadAverage, nodePresentPages, totalRam, uptime, utsname } from '../kernel/sys.js';
import { formatWallClock } from '../output/printk-text.js';
import { hex, humanDuration, loadAverageText, memorySizeText } from '../output/style.js';

export interface SysResult {
  kernel: { symbols: string; types: string };
  dumpfile: string;
  /** the dump left pages out (makedumpfile/QEMU dump level > 0): crash's [PARTIAL DUMP] */
  partialDump: boolean;
  dumpLevel: number | null;
  cpus: number;
  cpusOnline: number;
  cpusOffline: number;
  date: CrashTime | null;
  /** crash's "Sat Nov 21 21:41:00 UTC 2026" */
  dateText: string | null;
  uptime: { seconds: number; text: string; hz: number } | null;
  loadAverage: { values: number[]; text: string } | null;
  /** every thread plus one idle task per possible CPU; null when the task list could not be read (see warnings) */
  tasks: { total: number; threads: number; idle: number } | null;
  nodename: string | null;
  release: string | null;
  version: string | null;
  machine: string | null;
  /** x86 cpu_khz / 1000 */
  mhz: number | null;
  memory: { bytes: number; text: string; nodePresentPages: number; totalramPages: number | null; totalramBytes: number | null } | null;
  taint: string;
  /** the set taint flags' letters ("OE"); empty when untainted */
  taintLetters: string;
  panic: { text: string | null; message: string | null; source: 'panic' | 'oops' | null; cpu: PanicCpu | null };
  pid: number | null;
  command: string | null;
  /** the panicking task_struct, "0xffff..." */
  task: string | null;
  cpu: number | null;
  state: string | null;
  warnings: string[];
}

const STATE_NAMES: Record<TaskStateChar, string> = {
  R: 'TASK_RUNNING', S: 'TASK_INTERRUPTIBLE', D: 'TASK_UNINTERRUPTIBLE', T: 'TASK_STOPPED', t: 'TASK_TRACED',
  X: 'EXIT_DEAD', Z: 'EXIT_ZOMBIE', P: 'TASK_PARKED', I: 'TASK_IDLE', '?': 'unknown',
};

/** run `fn`, or record why it failed: one unreadable figure must not hide the rest */
function attempt<T>(warnings: string[], what: string, fn: () => T): T | null {
  try { return fn(); } catch (e) { warnings.push(`${what}: ${(e as Error).message}`); return null; }
}

export function sysInfo(vm: Vmcore): SysResult {
  const warnings: string[] = [];
  const a = vm.dump.attrs;
  const uts = attempt(warnings, 'uname', () => utsname(vm));
  const possible = attempt(warnings, 'cpu masks', () => cpuMask(vm, 'possible')) ?? [];
  const online = attempt(warnings, 'cpu masks', () => cpuMask(vm, 'online')) ?? [];
  const tasks = attempt(warnings, 'tasks', () => listTasks(vm));
  const idle = tasks?.filter((t) => t.isIdle).length ?? 0;
  const up = attempt(warnings, 'uptime', () => uptime(vm));
  const la = attempt(warnings, 'load average', () => loadAverage(vm));
  const present = attempt(warnings, 'memory', () => nodePresentPages(vm));
  const ram = attempt(warnings, 'totalram', () => totalRam(vm));
  const p = panicInfo(vm);
  const panicText = p.source === 'panic' ? `"${p.line}"` : p.source === 'oops' ? `"${p.message}" (check log for details)` : null;
  const ct = p.crashTime;
  const date = ct ? formatWallClock(ct.unix).replace(/ (\d+)$/, ' UTC $1') : null;
  return {
    kernel: vm.sources(),
    dumpfile: vm.file,
    partialDump: (a.dumpLevel ?? 0) > 0,
    dumpLevel: a.dumpLevel,
    cpus: possible.length || a.nrCpus,
    cpusOnline: online.length,
    cpusOffline: possible.filter((c) => !online.includes(c)).length,
    date: ct,
    dateText: date,
    uptime: up ? { seconds: up.seconds, text: humanDuration(up.seconds), hz: up.hz } : null,
    loadAverage: la ? { values: la.values, text: loadAverageText(la.values) } : null,
    tasks: tasks ? { total: tasks.length, threads: tasks.length - idle, idle } : null,
    nodename: uts?.nodename ?? a.uts?.nodename ?? null,
    release: uts?.release ?? vm.vmcoreinfo.osrelease ?? null,
    version: uts?.version ?? null,
    machine: uts?.machine ?? a.arch,
    mhz: attempt(warnings, 'cpu_khz', () => cpuMhz(vm)),
    memory: present === null ? null : {
      bytes: present * a.pageSize,
      text: memorySizeText(present * a.pageSize),
      nodePresentPages: present,
      totalramPages: ram?.pages ?? null,
      totalramBytes: ram?.bytes ?? null,
    },
    taint: p.taint.text,
    taintLetters: p.taint.letters,
    panic: { text: panicText, message: p.message, source: p.source, cpu: p.cpu },
    pid: p.task?.pid ?? null,
    command: p.task?.comm ?? null,
    task: p.task ? hex(p.task.address) : null,
    cpu: p.task?.cpu ?? null,
    state: p.task ? `${STATE_NAMES[p.task.state]}${p.source ? ' (PANIC)' : ''}` : null,
    warnings,
  };
}
