/**
 * Stack unwinding (ORC) on every fixture dump, against drgn 0.0.33's backtraces (it unwinds with
 * the DWARF vmlinux, so it also lists inlined functions, which ORC cannot see).
 *
 * Comparison rule. drgn's list is cut after its first user-space address (past it drgn reads the
 * user stack as if it were frames, e.g. qemu-dump's "0xff53f000ff53f000"). Then every frame of ours
 * must match a drgn frame, in order, and each drgn frame skipped on the way must be an inlined
 * call, decided from the dump, not assumed:
 *   - it has no symbol in kallsyms (the compiler emitted no out-of-line copy: crash_setup_regs,
 *     pde_write, do_syscall_x64, rep_nop...), or
 *   - it has one, but no word on the stack between our previous frame and this one is a return
 *     address into it, so no real call to it is pending there (default_idle inside
 *     amd_e400_idle, notifier_call_chain inside atomic_notifier_call_chain). Inlined frames before
 *     our first frame share the exact register pc, so they are inlined by construction.
 * Names match when equal after dropping GCC clone suffixes (`__mutex_lock.constprop.0`,
 * `watchdog_timer_fn.cold`), when drgn's hex address equals our pc (it had no symbols for the
 * pvpanic module), or when our symbol is a label inside drgn's function (kallsyms has no sizes:
 * `secondary_startup_64_no_verify` is an entry label inside `secondary_startup_64`).
 * drgn frames left over after our last frame fail the comparison.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drgnTruth, dumps, manifest, type Json } from './fixtures.js';
import { baseName, drgnKernelPart, isHex } from './drgn-stacks.js';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { cpuStack, panicStack, taskStack, type StackFrame, type StackTrace } from '../src/kernel/stack/index.js';
import { decodeOrcEntry, orcLayout, orcLayoutFromEntries, orcUnwindInfo } from '../src/arch/x86_64/orc.js';
import bt from '../commands/bt.js';
import { Output } from '../src/output/sink.js';




interface Match { ok: boolean; why: string; inlined: string[] }

function compare(vm: Vmcore, trace: StackTrace, drgnBt: readonly string[]): Match {
  const d = drgnKernelPart(drgnBt);
  const ours = trace.frames;
  const inlined: string[] = [];
  let j = 0;
  for (let i = 0; i < ours.length; i++) {
    const f = ours[i];
    const start = j;
    while (j < d.length && !sameFunction(vm, f, d[j])) j++;
    if (j === d.length) return { ok: false, why: `our frame ${i} ${f.text} not in drgn's [${d.slice(start).join(', ')}]`, inlined };
    for (const skipped of d.slice(start, j)) {
      const real = i > 0 && pendingCallInto(vm, skipped, ours[i - 1], f);
      if (real) return { ok: false, why: `drgn's ${skipped} before ${f.text} is a real frame we missed (${real})`, inlined };
      inlined.push(skipped);
    }
    j++;
  }
  if (j < d.length) return { ok: false, why: `drgn has more frames: ${d.slice(j).join(', ')}`, inlined };
  return { ok: true, why: '', inlined };
}

function sameFunction(vm: Vmcore, f: StackFrame, name: string): boolean {
  if (isHex(name)) return BigInt(name) === f.pc;
  if (!f.function) return false;
  if (baseName(f.function) === name) return true;
  // our symbol is a label inside drgn's function: drgn's symbol is one of the few right before ours
  // (entry_SYSCALL_64 < entry_SYSCALL_64_safe_stack < entry_SYSCALL_64_after_hwframe)
  let at = vm.symbols.lookup(f.function)?.address;
  for (let k = 0; at !== undefined && k < 4; k++) {
    const before = vm.symbols.symbolize(at - 1n);
    if (!before) return false;
    if (before.name === name) return true;
    at = before.address;
  }
  return false;
}

/** why `name` must be a real (not inlined) frame between `callee` and `caller`, or '' */
function pendingCallInto(vm: Vmcore, name: string, callee: StackFrame, caller: StackFrame): string {
  const sym = vm.symbols.lookup(name);
  if (!sym) return '';
  const size = vm.symbols.symbolize(sym.address)?.size ?? 0;
  const lo = callee.sp;
  const hi = caller.sp - 8n;
  if (hi < lo || hi - lo > 0x4000n) return `stack switch between frames: cannot check, ${name} has a symbol`;
  const buf = vm.dump.readVirt(lo, Number(hi - lo));
  for (let o = 0; o + 8 <= buf.length; o += 8) {
    const w = buf.readBigUInt64LE(o);
    if (w > sym.address && w <= sym.address + BigInt(size)) return `return address ${vm.symbolize(w)} at 0x${(lo + BigInt(o)).toString(16)}`;
  }
  return '';
}

function tasksByPid(scenario: string): Map<number, Json> {
  return new Map((drgnTruth(scenario).tasks as Json[]).map((t: Json) => [t.pid as number, t]));
}

const summary: string[] = [];
afterAll(() => { if (process.env.VAAT_STACK_SUMMARY) console.log(summary.join('\n')); });

describe.each(dumps)('stacks: $scenario/$name', (fx) => {
  const t = drgnTruth(fx.scenario);
  let vm: Vmcore;
  beforeAll(() => { vm = openVmcore(fx.path); });
  afterAll(() => vm?.close());
  // arm64 unwinds by frame records: no ORC, sleeping tasks start from thread.cpu_context, and a
  // chain ends at the final record in pt_regs (test/arm64-stacks.test.ts compares whole stacks)
  const arm64 = fx.kernel.arch === 'arm64';

  (arm64 ? it.skip : it)(`reads the ORC tables with the layout the types give (6.1: type:2 + end bit), which the table itself shows too${arm64 ? ' (x86_64 only: arm64 has no ORC)' : ''}`, () => {
    const layout = orcLayout(vm);
    expect(layout.source).toBe('types');
    expect(layout.end).not.toBeNull();
    const orc = orcUnwindInfo(vm);
    expect(orc.kernel?.size).toBeGreaterThan(100_000);
    // a kernel whose types lack struct orc_entry: the same layout, read off its own entries
    expect(orcLayoutFromEntries(orc.kernel!.entries)).toEqual({ ...layout, source: 'table' });
    // every kernel function has an entry: schedule() is a plain CALL frame
    const hit = orc.find(vm.address('schedule') + 4n);
    expect(hit?.entry.type).toBe('call');
  });

  it('unwinds the panic task like drgn', () => {
    const p = panicStack(vm);
    expect(p.task?.pid).toBe(t.panic_task.tid);
    expect(p.cpu).toBe(t.panic_task.cpu);
    const m = compare(vm, p, t.panic_task.backtrace);
    summary.push(`${fx.scenario}/${fx.name} panic: ${m.ok ? 'match' : m.why} (${p.frames.length} frames, inlined ${m.inlined.join(' ')})`);
    expect(m.why).toBe('');
    expect(p.startedFrom).toBe('prstatus');
    expect(p.stoppedBecause).toMatch(arm64 ? /^(final frame record|user mode)/ : /user mode|end of stack/);
  });

  it('unwinds every active CPU like drgn', () => {
    const cpus = Object.entries(t.active_backtraces as Record<string, Json>);
    expect(cpus.length).toBe(4);
    for (const [cpu, a] of cpus) {
      const s = cpuStack(vm, Number(cpu));
      expect(s.task?.pid, `cpu ${cpu}`).toBe(a.pid);
      const m = compare(vm, s, a.backtrace);
      summary.push(`${fx.scenario}/${fx.name} cpu ${cpu}: ${m.ok ? 'match' : m.why} (${s.frames.length} frames)`);
      expect(m.why, `cpu ${cpu}: ${s.frames.map((f) => f.text).join(' < ')}`).toBe('');
    }
  });

  it('unwinds the D-state tasks from their inactive_task_frame like drgn', () => {
    const un = t.uninterruptible_backtraces as Json[];
    const pids = tasksByPid(fx.scenario);
    for (const u of un) {
      const ts = BigInt(pids.get(u.pid).task_struct);
      const s = taskStack(vm, ts);
      expect(s.startedFrom).toBe(arm64 ? 'cpu_context' : 'inactive_task_frame');
      expect(s.task?.pid).toBe(u.pid);
      const m = compare(vm, s, u.backtrace);
      summary.push(`${fx.scenario}/${fx.name} D ${u.pid}: ${m.ok ? 'match' : m.why}`);
      expect(m.why, `pid ${u.pid}: ${s.frames.map((f) => f.text).join(' < ')}`).toBe('');
    }
    // the scenario that is about D tasks has them
    if (fx.kind === 'cgroup-mutex-hung') expect(un.map((u) => u.pid).sort()).toEqual([...manifest(fx.scenario).matchAll(/^waiter pid=(\d+) /gm)].map((m) => Number(m[1])).sort());
  });

  it(`unwinds every task to a clean end, by ${arm64 ? 'frame records' : 'ORC'} alone after the start`, () => {
    const tasks = t.tasks as Json[];
    const t0 = performance.now();
    let frames = 0;
    for (const task of tasks) {
      const s = taskStack(vm, BigInt(task.task_struct));
      frames += s.frames.length;
      expect(s.stoppedBecause, `pid ${task.pid} ${task.comm}: ${s.frames.map((f) => f.text).join(' < ')}`).toMatch(arm64 ? /^(final frame record|user mode)/ : /^(user mode|end of stack)/);
      // only the step out of __crash_kexec (no ORC: its pc is crash_setup_regs' _THIS_IP_) is a guess
      for (const f of s.frames.slice(1)) {
        // (or the pc an exception's pt_regs saved)
        if (arm64) expect(f.method, `pid ${task.pid}: ${f.text}`).toMatch(/^(fp|regs)$/);
        else if (f.method !== 'orc') expect(s.frames[0].function, `pid ${task.pid}: ${f.text} by ${f.method}`).toBe('__crash_kexec');
      }
    }
    const ms = (performance.now() - t0) / tasks.length;
    summary.push(`${fx.scenario}/${fx.name}: ${tasks.length} tasks, ${frames} frames, ${ms.toFixed(2)} ms/task`);
  });
});

describe('stack frames', () => {
  const fx = dumps.find((d) => d.scenario === 'softlockup')!;
  let vm: Vmcore;
  beforeAll(() => { vm = openVmcore(fx.path); });
  afterAll(() => vm?.close());

  it('crosses the irq stack and the interrupt pt_regs into the spinning module thread', () => {
    const s = panicStack(vm);
    const names = s.frames.map((f) => f.function);
    const irq = s.frames.findIndex((f) => f.boundary === 'irq');
    expect(s.frames[irq].function).toBe('vaat_spin_locked');
    expect(s.frames[irq].module).toBe('vaat_softlock');
    expect(names[irq - 1]).toBe('asm_sysvec_apic_timer_interrupt');
    // the irq stack (hardirq_stack_ptr) holds the frames above the entry code, the task stack the rest
    const top = vm.perCpu('hardirq_stack_ptr', 3).pointer();
    const onIrq = s.frames.filter((f) => f.sp <= top && f.sp > top - 0x4000n).map((f) => f.function);
    expect(onIrq).toContain('__sysvec_apic_timer_interrupt');
    expect(onIrq).not.toContain('asm_sysvec_apic_timer_interrupt');
    // return addresses are looked up at pc - 1 (offsets printed from the symbol), the regs pc exactly
    const k = s.frames.find((f) => f.function === 'kthread')!;
    expect(k.text).toMatch(/^kthread\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
    expect(k.reliable).toBe(true);
    expect(s.frames[1].method).toBe('scan');
    expect(s.frames[1].reliable).toBe(false);
    expect(s.frames[1].function).toBe('panic');
  });
});

describe('ORC entry layouts across kernel versions, told from the table when the types lack struct orc_entry', () => {
  // sp_offset 16, bp_offset -16, then the bitfield word
  const entry = (bits: number): Buffer => { const b = Buffer.alloc(6); b.writeInt16LE(16, 0); b.writeInt16LE(-16, 2); b.writeUInt16LE(bits, 4); return b; };
  /** a kernel's table: mostly CALL frames off SP (sp_reg 5), a few REGS frames, outermost frames */
  const table = (call: number, regs: number, end: number): Buffer =>
    Buffer.concat([...Array<Buffer>(50).fill(entry(0x5 | call)), ...Array<Buffer>(6).fill(entry(0x5 | regs)), ...Array<Buffer>(3).fill(entry(end)), entry(0)]);

  it('up to 6.2 (ee9f8fce9964 "x86/unwind: Add the ORC unwinder", v4.14): type:2 (REGS = 1) and an end bit; bit 11 never set', () => {
    const l = orcLayoutFromEntries(table(0, 1 << 8, 1 << 10))!;
    expect(l).toMatchObject({ source: 'table', typeEnum: 'enum2', signal: null, end: { shift: 10, bits: 1 } });
    expect(decodeOrcEntry(entry(0x5 | (1 << 8)), 0, l)).toEqual({ spOffset: 16, bpOffset: -16, spReg: 5, bpReg: 0, type: 'regs', signal: true });
    expect(decodeOrcEntry(entry(0x5 | (1 << 10)), 0, l).type).toBe('end');
    expect(decodeOrcEntry(entry(0), 0, l).type).toBe('undefined');
  });
  it('6.3 (ffb1b4a41016 "x86/unwind/orc: Add \'signal\' field to ORC metadata"): a signal bit before the end bit, which entry points set', () => {
    const l = orcLayoutFromEntries(table(0, (1 << 8) | (1 << 10), 1 << 11))!;
    expect(l).toMatchObject({ source: 'table', typeEnum: 'enum2', signal: { shift: 10, bits: 1 }, end: { shift: 11, bits: 1 } });
    expect(decodeOrcEntry(entry(0x5 | (1 << 10)), 0, l)).toMatchObject({ type: 'call', signal: true });
    expect(decodeOrcEntry(entry(0x5 | (1 << 11)), 0, l).type).toBe('end');
  });
  it('6.4+ (fb799447ae29 "x86,objtool: Split UNWIND_HINT_EMPTY in two"): type:3 with UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4', () => {
    const l = orcLayoutFromEntries(table(2 << 8, (3 << 8) | (1 << 11), 1 << 8))!;
    expect(l).toMatchObject({ source: 'table', typeEnum: 'enum3', end: null, signal: { shift: 11, bits: 1 } });
    const types = [0, 1, 2, 3, 4].map((t) => decodeOrcEntry(entry(0x5 | (t << 8)), 0, l).type);
    expect(types).toEqual(['undefined', 'end', 'call', 'regs', 'regs_partial']);
    expect(decodeOrcEntry(entry(0x5 | (2 << 8) | (1 << 11)), 0, l).signal).toBe(true);
  });
  it('a table that is not ORC gives no layout: bits 12..15 set, or no frame with a register', () => {
    expect(orcLayoutFromEntries(Buffer.concat([table(0, 1 << 8, 1 << 10), entry(0x5 | (1 << 13))]))).toBeNull();
    expect(orcLayoutFromEntries(Buffer.concat(Array<Buffer>(10).fill(entry(1 << 10))))).toBeNull();
  });
});

describe('vaat bt', () => {
  const fx = dumps.find((d) => d.scenario === 'oops-null-a')!;
  let vm: Vmcore;
  beforeAll(() => { vm = openVmcore(fx.path); });
  afterAll(() => vm?.close());

  it('shows the panic task by default and pids on request', async () => {
    const r = await bt.run({ vm, options: {}, args: [] });
    expect(r.traces).toHaveLength(1);
    expect(r.traces[0].pid).toBe(drgnTruth(fx.scenario).panic_task.tid);
    expect(r.traces[0].frames[0].module).toBe('vaat_oops');
    expect(r.traces[0].frames.at(-1)).toMatchObject({ user: true, boundary: 'syscall' });
    const out = new Output({ plain: true });
    bt.render(r, out, {});
    expect(out.text()).toMatch(/ #1  \[[0-9a-f]+\] vaat_oops_write\+0x[0-9a-f]+\/0x[0-9a-f]+ \[vaat_oops\]/);
    const byPid = await bt.run({ vm, options: { cpu: '0' }, args: ['1'] });
    expect(byPid.traces.map((t) => t.pid)).toEqual([drgnTruth(fx.scenario).active_backtraces['0'].pid, 1]);
    expect(byPid.traces[1].startedFrom).toBe('inactive_task_frame');
  });
});
