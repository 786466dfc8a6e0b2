/** vaat bt: kernel stack backtraces, as crash's `bt` (default the panic task; -a every CPU's task). */
import { defineCommand } from '../src/plugin.js';
import type { Output } from '../src/output/sink.js';
import { hex } from '../src/output/style.js';
import { cpuStack, panicStack, taskStack, type StackFrame, type StackOptions, type StackTrace } from '../src/kernel/stack/index.js';
import { panicCpu } from '../src/kernel/panic.js';
import { findTask } from '../src/kernel/tasks.js';
import type { Vmcore } from '../src/vmcore.js';
import { NotFoundError, UsageError } from '../src/errors/index.js';

interface BtOptions { all?: boolean; cpu?: string; json?: boolean; /** false with --no-inline */ inline?: boolean }

/**
 * One frame as bt lists it: the model's StackFrame with its optional fields made explicit (null or
 * false, so every frame has the same keys) and its position in the trace.
 */
export type BtFrame = Pick<StackFrame, 'pc' | 'sp' | 'text' | 'method' | 'reliable'> & {
  index: number;
  function: string | null;
  offset: number | null;
  module: string | null;
  boundary: StackFrame['boundary'] | null;
  user: boolean;
  /** a function inlined at this pc (DWARF only); the physical frame holding it follows */
  inlined: boolean;
};

/** One trace: the model's StackTrace, its task's fields flattened (null where the trace has no task) */
export type BtTrace = Pick<StackTrace, 'startedFrom' | 'stoppedBecause'> & {
  pid: number | null;
  comm: string | null;
  task: bigint | null;
  cpu: number | null;
  frames: BtFrame[];
};

export interface BtResult { traces: BtTrace[] }

export function btTrace(s: StackTrace): BtTrace {
  return {
    pid: s.task?.pid ?? null,
    comm: s.task?.comm ?? null,
    task: s.task?.address ?? null,
    cpu: s.cpu ?? null,
    startedFrom: s.startedFrom,
    stoppedBecause: s.stoppedBecause,
    frames: s.frames.map((f, index) => ({
      index,
      pc: f.pc,
      sp: f.sp,
      function: f.function ?? null,
      offset: f.offset ?? null,
      module: f.module ?? null,
      text: f.text,
      method: f.method,
      reliable: f.reliable,
      boundary: f.boundary ?? null,
      user: f.user === true,
      inlined: f.inlined === true,
    })),
  };
}

function cpuList(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new UsageError(`bad CPU list '${text}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

function taskTrace(vm: Vmcore, arg: string, opts: StackOptions): StackTrace {
  if (/^0x[0-9a-f]+$/i.test(arg)) return taskStack(vm, BigInt(arg), opts);
  if (!/^\d+$/.test(arg)) throw new UsageError(`'${arg}' is neither a pid nor a task_struct address`);
  const t = findTask(vm, Number(arg));
  if (!t) throw new NotFoundError(`no task with pid ${arg}`);
  return taskStack(vm, t.address, opts);
}

export default defineCommand<BtOptions, BtResult>({
  name: 'bt',
  summary: 'kernel stack backtrace of the panic task, of tasks by pid, or of every CPU (-a)',
  args: '[pid|task...]',
  options: [
    { flags: '-a, --all', description: "every CPU's current task, from its PRSTATUS registers" },
    { flags: '-c, --cpu <cpus>', description: "these CPUs' current tasks (e.g. 1,3 or 0-2)" },
    { flags: '--no-inline', description: 'do not list inlined functions (listed when the types come from a DWARF vmlinux)' },
  ],
  run({ vm, args, options }) {
    const opts: StackOptions = { inlines: options.inline !== false };
    const stacks: StackTrace[] = [];
    if (options.all) for (const c of vm.dump.cpuRegs()) stacks.push(cpuStack(vm, c.cpu, opts));
    if (options.cpu) for (const c of cpuList(options.cpu)) stacks.push(cpuStack(vm, c, opts));
    for (const a of args) stacks.push(taskTrace(vm, a, opts));
    if (stacks.length === 0) stacks.push(panicStack(vm, panicCpu(vm)?.cpu, opts));
    return { traces: stacks.map(btTrace) };
  },
  render(r, out) {
    r.traces.forEach((t, i) => {
      if (i > 0) out.line();
      renderTrace(t, out);
    });
  },
});

export function renderTrace(t: BtTrace, out: Output): void {
  const c = out.c;
  out.line(c.bold(`PID: ${String(t.pid ?? '?').padEnd(7)} TASK: ${t.task === null ? '?' : hex(t.task).slice(2)}  CPU: ${String(t.cpu ?? '?').padEnd(3)} COMMAND: "${t.comm ?? '?'}"`));
  for (const f of t.frames) {
    if (f.boundary) out.line(c.dim(`    --- <${f.boundary}> interrupted context (pt_regs) ---`));
    const mark = f.reliable ? '' : c.yellow('? ');
    const how = f.method === 'orc' || f.method === 'regs' ? '' : c.dim(` (${f.method})`);
    // drgn's style: an inlined function by name, with no offset of its own
    const text = f.user ? c.dim(`${f.text} (user space)`) : f.inlined ? `${f.text}${c.dim(' (inlined)')}` : f.text;
    out.line(` #${String(f.index).padEnd(2)} [${hex(f.sp).slice(2)}] ${mark}${text}${how}`);
  }
  out.line(c.dim(`    (from ${t.startedFrom}; stopped: ${t.stoppedBecause})`));
}
