/**
 * Why and where the kernel died: the panic message and oops/BUG/WARNING lines (from the kernel
 * log), the panicking CPU and task, the crash time, the uptime at the panic and the taint flags.
 */
import type { KernelContext } from '../context.js';
import { readKernelLog, panicLinesFromLog, type LogRecord } from './printk/index.js';
import { cpuCurr } from './cpu.js';
import { taskAt, type TaskStateChar } from './tasks.js';
import { timekeeper } from './time.js';

/** the kernel log records, read once per dump; symbols VMCOREINFO lacks come from kallsyms */
export function kernelLog(vm: KernelContext): LogRecord[] {
  return vm.cache('printk.log', () => readKernelLog(vm.mem, vm.vmcoreinfo, { symbol: (n) => vm.symbols.lookup(n)?.address }));
}

export interface PanicMessage {
  /** "sysrq triggered crash", or (kdump entered from an oops) "Oops: 0000 [#1] PREEMPT SMP NOPTI" */
  message: string | null;
  source: 'panic' | 'oops' | null;
  /** the whole first line: "Kernel panic - not syncing: ..." or the oops line */
  line: string | null;
  /** seconds since boot of that record */
  uptime: number | null;
  /** "[   12.479070] BUG: ..." lines opening fault reports, oldest first */
  oopsLines: string[];
}

/** the panic reason as the log tells it (printk.ts panicLinesFromLog) */
export function panicMessage(vm: KernelContext, log: readonly LogRecord[] = kernelLog(vm)): PanicMessage {
  const p = panicLinesFromLog(log);
  const rec = p.panicRecord;
  const first = rec ? rec.text.split('\n', 1)[0] : null;
  return {
    message: p.panicMessage,
    source: p.panicSource,
    line: first,
    uptime: rec ? Number(rec.tsNsec) / 1e9 : null,
    oopsLines: p.oopsLines,
  };
}

export type PanicCpuSource = 'panic_cpu' | 'crashing_cpu' | 'log' | 'prstatus';

export interface PanicCpu { cpu: number; source: PanicCpuSource }

/** PANIC_CPU_INVALID */
const NO_CPU = -1;

function readS32(vm: KernelContext, name: string): number | null {
  const s = vm.symbols.lookup(name);
  if (!s) return null;
  try { return vm.mem.s32(s.address); } catch { return null; }
}

/**
 * The CPU that panicked: `panic_cpu` (set by panic(), and since v4.5 by crash_kexec() too); when
 * it is PANIC_CPU_INVALID, x86's `crashing_cpu` (set when kdump stops the other CPUs), then the
 * last "CPU: N PID: ..." line of the log (the oops header), then the CPU whose PRSTATUS registers
 * are inside the kexec crash path. null when nothing says.
 */
export function panicCpu(vm: KernelContext, log?: readonly LogRecord[]): PanicCpu | null {
  const pc = readS32(vm, 'panic_cpu');
  if (pc !== null && pc !== NO_CPU) return { cpu: pc, source: 'panic_cpu' };
  const cc = readS32(vm, 'crashing_cpu');
  if (cc !== null && cc !== NO_CPU) return { cpu: cc, source: 'crashing_cpu' };
  let records: readonly LogRecord[] | undefined = log;
  try { records ??= kernelLog(vm); } catch { records = []; }
  for (let i = records.length - 1; i >= 0; i--) {
    const m = /^CPU: (\d+) (?:UID: \d+ )?PID: \d+ Comm: /.exec(records[i].text);
    if (m) return { cpu: Number(m[1]), source: 'log' };
  }
  try {
    for (const r of vm.cpuRegs()) {
      const ip = r.regs.rip ?? r.regs.pc;
      if (ip !== undefined && /^(?:__)?crash_(?:kexec|setup_regs)|^machine_kexec/.test(vm.symbolize(ip))) return { cpu: r.cpu, source: 'prstatus' };
    }
  } catch { /* no PRSTATUS notes */ }
  return null;
}

export interface PanicTask {
  pid: number;
  comm: string;
  address: bigint;
  cpu: number;
  state: TaskStateChar;
}

/** the task current on the panicking CPU (cpu_rq(cpu)->curr) */
export function panicTask(vm: KernelContext, cpu: PanicCpu | null = panicCpu(vm)): PanicTask | null {
  if (!cpu) return null;
  const t = taskAt(vm, cpuCurr(vm, cpu.cpu));
  return { pid: t.pid, comm: t.comm, address: t.address, cpu: cpu.cpu, state: t.state };
}

export interface CrashTime {
  unix: number;
  utc: string;
  /** 'vmcoreinfo': CRASHTIME written by crash_save_vmcoreinfo(); 'timekeeper': xtime at the last tick */
  source: 'vmcoreinfo' | 'timekeeper';
}

/**
 * When the kernel crashed: VMCOREINFO's CRASHTIME (kdump); dumps taken without kdump (QEMU
 * dump-guest-memory) lack it, then the timekeeper's xtime_sec is the wall clock of the last tick.
 */
export function crashTime(vm: KernelContext): CrashTime | null {
  const utc = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
  const ct = vm.vmcoreinfo.crashTime;
  if (ct !== undefined) return { unix: ct, utc: utc(ct), source: 'vmcoreinfo' };
  try {
    const sec = timekeeper(vm).member('xtime_sec').number();
    return sec > 0 ? { unix: sec, utc: utc(sec), source: 'timekeeper' } : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Taint

export interface TaintFlag { bit: number; letter: string; set: boolean; module: boolean }

/**
 * kernel/panic.c taint_flags[] for 5.10..6.12: bit i → letter. TAINT_TEST 'N' (bit 18) arrived
 * in v5.19; bits added later would be read from the dump's own table (taintFlagTable).
 */
const TAINT_LETTERS = 'PFSRMBUDAWCIOELKXTN';
/** flags that also mark a module (module_flags()): P, O, E, C, K(livepatch), N(test), X(aux) */
const MODULE_TAINTS = new Set(['P', 'O', 'E', 'C', 'K', 'N', 'X']);

/** the dump's own `taint_flags[]` (struct taint_flag { char c_true, c_false; bool module; }) */
export function taintFlagTable(vm: KernelContext): { cTrue: string; cFalse: string; module: boolean }[] {
  return vm.cache('panic.taintFlags', (): { cTrue: string; cFalse: string; module: boolean }[] => {
    let tab: { cTrue: string; cFalse: string; module: boolean }[];
    tab = [];
    try {
      const t = vm.types;
      const size = t.sizeof('struct taint_flag');
      const oT = t.offsetof('struct taint_flag', 'c_true');
      const oF = t.offsetof('struct taint_flag', 'c_false');
      const oM = t.offsetof('struct taint_flag', 'module');
      const sym = vm.symbols.lookup('taint_flags');
      if (sym) {
        // kallsyms sizes run to the next symbol (padding included): stop at the first entry that is not a flag
        const n = Math.min(64, Math.floor((sym.size ?? 64 * size) / size));
        const b = vm.mem.readVirt(sym.address, n * size);
        for (let i = 0; i < n; i++) {
          const cTrue = String.fromCharCode(b[i * size + oT]);
          const cFalse = String.fromCharCode(b[i * size + oF]);
          if (!/^[A-Z]$/.test(cTrue) || !/^[ A-Z]$/.test(cFalse)) break;
          tab.push({ cTrue, cFalse, module: b[i * size + oM] !== 0 });
        }
      }
    } catch { /* fall back below */ }
    if (tab.length === 0) {
      tab = [...TAINT_LETTERS].map((c, i) => ({ cTrue: c, cFalse: i === 0 ? 'G' : ' ', module: MODULE_TAINTS.has(c) }));
    }
  return tab;
  });
}

export interface Taint {
  mask: bigint;
  /** print_tainted(): "Not tainted" or "Tainted: G           OE     " */
  text: string;
  /** letters of the set flags: "OE" */
  letters: string;
  flags: TaintFlag[];
}

/** decode a taint mask with the kernel's table */
export function decodeTaint(vm: KernelContext, mask: bigint): Taint {
  const tab = taintFlagTable(vm);
  const flags = tab.map((f, bit) => ({ bit, letter: f.cTrue, set: ((mask >> BigInt(bit)) & 1n) === 1n, module: f.module }));
  const letters = flags.filter((f) => f.set).map((f) => f.letter).join('');
  const text = mask === 0n ? 'Not tainted' : 'Tainted: ' + flags.map((f) => (f.set ? f.letter : tab[f.bit].cFalse)).join('');
  return { mask, text, letters, flags };
}

/** tainted_mask decoded */
export function taintString(vm: KernelContext): Taint {
  return decodeTaint(vm, vm.mem.u64(vm.address('tainted_mask')));
}

// ---------------------------------------------------------------------------------------------

export interface PanicInfo extends PanicMessage {
  cpu: PanicCpu | null;
  /** the raw panic_cpu variable (-1: no panic() and no crash_kexec() ran) */
  panicCpuVariable: number | null;
  task: PanicTask | null;
  crashTime: CrashTime | null;
  taint: Taint;
}

/** everything above in one object; each part that cannot be read is null rather than fatal */
export function panicInfo(vm: KernelContext): PanicInfo {
  let log: LogRecord[] = [];
  try { log = kernelLog(vm); } catch { /* a dump without a readable log still has CPUs and tasks */ }
  const msg = panicMessage(vm, log);
  const cpu = panicCpu(vm, log);
  let task: PanicTask | null = null;
  try { task = panicTask(vm, cpu); } catch { /* runqueue unreadable */ }
  return { ...msg, cpu, panicCpuVariable: readS32(vm, 'panic_cpu'), task, crashTime: crashTime(vm), taint: taintString(vm) };
}
