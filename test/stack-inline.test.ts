/**
 * Inlined frames (src/kernel/stack/inline.ts, src/kernel/module/debug.ts) against drgn's newest
 * truth, which unwinds with the same DWARF vmlinux and module .ko files and lists every inlined
 * function as a frame of its own.
 *
 * With DWARF (the -dbg vmlinux installed, VAAT_VMLINUX not `none`), the dumps opened with
 * `moduleDebug` naming the fixture kernel's modules/ (the scenario .ko files, with DWARF), our
 * function sequence must be drgn's, frame for frame, after cutting drgn's list at its first
 * user-space address (past it drgn reads the user stack as frames) and dropping GCC clone
 * suffixes (`.constprop.0`, `.isra.0`, `.cold`). Functions inlined into a module function
 * (softlockup's `rep_nop < cpu_relax` inside vaat_spin_locked) come from the module's DWARF and
 * must also be what `addr2line -i` reads from that .ko at the pc. Two kinds of pair are equal
 * without equal names, each for a reason checked here:
 *   - drgn's hex address equals our pc on a module frame: drgn had no symbols for that module
 *     (qemu-dump's pvpanic: `0xffffffffc046c230` is our `pvpanic_panic_notify`); our inlines
 *     there, from the -dbg package's pvpanic.ko, are checked by addr2line alone;
 *   - an assembly label: kallsyms has no sizes, so our name is the last label before the pc
 *     (`entry_SYSCALL_64_after_hwframe`, `secondary_startup_64_no_verify`), where drgn names the
 *     function holding it; only the pairs in ASM_LABELS, with drgn's symbol just before ours.
 *
 * With BTF only (VAAT_VMLINUX=none) there is no inlining information: asking for inlined frames
 * must change nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugVmlinux, devKernel, drgnTruth, dumps, dumpsOf, dwarfOnlyNote, manifest, typesMode, type DumpFixture, type Json } from './fixtures.js';
import { baseName, drgnKernelPart, isHex } from './drgn-stacks.js';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { cpuStack, panicStack, taskStack, type StackFrame, type StackTrace } from '../src/kernel/stack/index.js';
import { inlineSource, withInlinedFrames } from '../src/kernel/stack/inline.js';
import { moduleDebug } from '../src/kernel/module/debug.js';
import { loadDwarfIndex } from '../src/types/type-cache.js';
import bt from '../commands/bt.js';
import { Output } from '../src/output/sink.js';

/** the developer kernel's vmlinux, for the index-cache test */
const VMLINUX = debugVmlinux(devKernel);
/** BTF only for a fixture: when told so, or when its kernel's -dbg vmlinux is not installed */
const btfOnlyFor = (fx: DumpFixture): boolean => typesMode(fx.kernel) !== 'dwarf';
const btfOnly = btfOnlyFor({ kernel: devKernel } as DumpFixture);
const DWARF_ONLY = dwarfOnlyNote(devKernel);
const hasAddr2line = (() => { try { execFileSync('addr2line', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (typesMode(devKernel) === 'dwarf' && !hasAddr2line) console.warn('test/stack-inline.test.ts: no addr2line: inlines in module frames are accepted unchecked');

/** our label → drgn's function holding it (SYM_INNER_LABEL inside SYM_CODE_START) */
const ASM_LABELS: Record<string, string> = {
  entry_SYSCALL_64_after_hwframe: 'entry_SYSCALL_64',
  secondary_startup_64_no_verify: 'secondary_startup_64',
};



function sameFunction(vm: Vmcore, f: StackFrame, name: string): boolean {
  if (isHex(name)) return BigInt(name) === f.pc && (f.user === true || f.module !== undefined);
  if (!f.function) return false;
  if (baseName(f.function) === name) return true;
  if (f.inlined || ASM_LABELS[f.function] !== name) return false;
  const label = vm.symbols.lookup(f.function)?.address;
  const fn = vm.symbols.lookup(name)?.address;
  return label !== undefined && fn !== undefined && fn < label && label - fn < 0x200n;
}

const koSymbols = new Map<string, Map<string, { value: bigint; section: string }>>();
/** `addr2line -i` on a module's .ko: the functions inlined at a module frame's pc, innermost first; null when it cannot tell */
function moduleInlines(f: StackFrame, ko: string): string[] | null {
  if (!hasAddr2line || !existsSync(ko) || f.function === undefined || f.offset === undefined) return null;
  let syms = koSymbols.get(ko);
  if (!syms) {
    const sections = new Map<string, string>();
    for (const m of execFileSync('readelf', ['-SW', ko], { encoding: 'utf8' }).matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)/gm)) sections.set(m[1], m[2]);
    syms = new Map();
    for (const m of execFileSync('readelf', ['-sW', ko], { encoding: 'utf8' }).matchAll(/^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+FUNC\s+\S+\s+\S+\s+(\d+)\s+(\S+)$/gm)) {
      syms.set(m[3], { value: BigInt(`0x${m[1]}`), section: sections.get(m[2]) ?? '' });
    }
    koSymbols.set(ko, syms);
  }
  const sym = syms.get(f.function);
  if (!sym) return null;
  const at = sym.value + BigInt(f.offset - (f.returnAddress ? 1 : 0));
  const lines = execFileSync('addr2line', ['-i', '-f', '-j', sym.section, '-e', ko, `0x${at.toString(16)}`], { encoding: 'utf8' }).trim().split('\n');
  const names = lines.filter((_, k) => k % 2 === 0);
  return baseName(names[names.length - 1]) === baseName(f.function) ? names.slice(0, -1) : null;
}

/**
 * '' when our frames are drgn's, frame for frame, the inlined ones in modules included; else where
 * they part. A module frame's inlined functions (ours, from the .ko vaat read) must also be what
 * `addr2line -i` reads from that .ko at the pc. Where drgn had no symbols or debug info for a
 * module it names the frame by address and lists no inlines: ours are then checked by addr2line alone.
 */
function compareExact(vm: Vmcore, trace: StackTrace, drgnBt: readonly string[]): string {
  const d = drgnKernelPart(drgnBt);
  const ours = trace.frames;
  const show = (): string => `\n ours: ${ours.map((f) => `${f.inlined ? '~' : ''}${f.function ?? f.text}`).join(' < ')}\n drgn: ${d.join(' < ')}`;
  let j = 0;
  for (let i = 0; i < ours.length; i++, j++) {
    if (ours[i].module !== undefined && ours[i].inlined && j < d.length && isHex(d[j])) {
      let p = i;
      while (ours[p]?.inlined) p++;
      if (p < ours.length && sameFunction(vm, ours[p], d[j])) i = p;
    }
    const f = ours[i];
    if (j >= d.length) return `our frame ${i} ${f.text} is past drgn's last${show()}`;
    if (!sameFunction(vm, f, d[j])) return `frame ${i}: ours ${f.inlined ? '(inlined) ' : ''}${f.text}, drgn's ${d[j]}${show()}`;
    if (f.module !== undefined && !f.inlined) {
      let k = i;
      while (k > 0 && ours[k - 1].inlined && ours[k - 1].module === f.module) k--;
      const got = ours.slice(k, i).map((x) => x.function);
      const dbg = moduleDebug(vm, f.module);
      const want = dbg.ok ? moduleInlines(f, dbg.file) : null;
      if (want !== null && got.join(' < ') !== want.join(' < ')) return `before module frame ${f.text}: ours [${got.join(', ')}], addr2line on ${dbg.ok ? dbg.file : '?'} [${want.join(', ')}]${show()}`;
    }
  }
  return j === d.length ? '' : `drgn has more frames: ${d.slice(j).join(', ')}${show()}`;
}

/** the frames the unwinder found (inlined ones removed), boundary back on its physical frame */
function physical(frames: readonly StackFrame[]): StackFrame[] {
  const out: StackFrame[] = [];
  let boundary: StackFrame['boundary'];
  for (const f of frames) {
    if (f.inlined) { boundary ??= f.boundary; continue; }
    out.push(boundary ? { ...f, boundary } : f);
    boundary = undefined;
  }
  return out;
}

/** every inlined frame is followed, after any further inlined ones, by the physical frame (vmlinux's or its module's) at its pc and sp */
function checkGroups(frames: readonly StackFrame[], label: string): void {
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (!f.inlined) continue;
    let k = i;
    while (frames[k]?.inlined) k++;
    const host = frames[k];
    expect(host, `${label}: inlined ${f.function} ends the list`).toBeDefined();
    expect([host.pc, host.sp, host.module, host.user], `${label}: ${f.function} in ${host.text}`).toEqual([f.pc, f.sp, f.module, undefined]);
    if (i > 0 && frames[i - 1].inlined) expect(f.boundary, label).toBeUndefined();
  }
}

const figures: string[] = [];
afterAll(() => { if (figures.length) console.log(figures.join('\n')); });

describe('inline-range index', () => {
  it.skipIf(btfOnly)(`loads from its own build-id cache file, beside the types-only one${DWARF_ONLY}`, () => {
    const first = loadDwarfIndex(VMLINUX, { inlines: true });
    const warm = loadDwarfIndex(VMLINUX, { inlines: true });
    figures.push(`inline index: ${(warm.index.length / 2 ** 20).toFixed(1)} MiB; first load this run ${first.from} ${first.ms.toFixed(0)} ms, then ${warm.from} ${warm.ms.toFixed(0)} ms`);
    expect(warm.from).toBe('cache');
    expect(warm.cacheFile).toMatch(/types-inlines-[0-9a-f]+\.bin$/);
    // the types-only index every open reads stays the small one
    const plain = loadDwarfIndex(VMLINUX);
    expect(plain.cacheFile).not.toBe(warm.cacheFile);
    expect(plain.index.length).toBeLessThan(warm.index.length);
  });
});

describe.each(dumps)('inlined frames: $scenario/$name', (fx) => {
  const t = drgnTruth(fx.scenario);
  const btfOnly = btfOnlyFor(fx);
  const DWARF_ONLY = dwarfOnlyNote(fx.kernel);
  let vm: Vmcore;
  // the scenario modules' .ko files (with DWARF) as --module-debug names them
  beforeAll(() => { vm = openVmcore(fx.path, { moduleDebug: fx.kernel.modulesDir }); });
  afterAll(() => vm?.close());

  it.skipIf(btfOnly)(`the panic task and every active CPU: drgn's frames exactly, inlined ones included${DWARF_ONLY}`, () => {
    expect(vm.types.source).toBe('dwarf');
    const p = panicStack(vm, undefined, { inlines: true });
    expect(p.task?.pid).toBe(t.panic_task.tid);
    expect(compareExact(vm, p, t.panic_task.backtrace)).toBe('');
    for (const [cpu, a] of Object.entries(t.active_backtraces as Record<string, Json>)) {
      const s = cpuStack(vm, Number(cpu), { inlines: true });
      expect(compareExact(vm, s, a.backtrace), `cpu ${cpu}`).toBe('');
    }
    // the panic came through crash_setup_regs(), inlined into __crash_kexec, wherever kdump ran
    if (p.frames.some((f) => f.function === '__crash_kexec')) {
      expect(p.frames[0]).toMatchObject({ function: 'crash_setup_regs', inlined: true });
      expect(p.frames[1]).toMatchObject({ function: '__crash_kexec', pc: p.frames[0].pc, sp: p.frames[0].sp });
    }
  });

  it.skipIf(btfOnly)(`the D-state tasks: drgn's frames exactly, __mutex_lock_common inlined in __mutex_lock${DWARF_ONLY}`, () => {
    const pids = new Map((t.tasks as Json[]).map((x: Json) => [x.pid as number, x]));
    const un = t.uninterruptible_backtraces as Json[];
    for (const u of un) {
      const s = taskStack(vm, BigInt(pids.get(u.pid).task_struct), { inlines: true });
      expect(compareExact(vm, s, u.backtrace), `pid ${u.pid}`).toBe('');
      if (fx.kind !== 'cgroup-mutex-hung') continue;
      const i = s.frames.findIndex((f) => f.function === '__mutex_lock_common');
      const [common, lock] = s.frames.slice(i, i + 2);
      expect(s.frames[i - 1].function).toBe('schedule_preempt_disabled');
      expect(common).toMatchObject({ inlined: true, returnAddress: true });
      expect(lock).toMatchObject({ function: '__mutex_lock.constprop.0', pc: common.pc, sp: common.sp });
      expect(lock.inlined).toBeUndefined();
      // then, by whatever path drgn's list shows (x86: cgroup_lock() inlined; arm64: mutex_lock's
      // slow path), cgroup_kn_lock_live
      expect(s.frames.slice(i + 2).map((f) => f.function)).toContain('cgroup_kn_lock_live');
    }
    if (fx.kind === 'cgroup-mutex-hung') expect(un.length).toBe([...manifest(fx.scenario).matchAll(/^waiter pid=\d+ /gm)].length);
  });

  it.skipIf(btfOnly)(`every task: inlined frames only add to the unwound ones, and cost little${DWARF_ONLY}`, () => {
    const tasks = t.tasks as Json[];
    let physicalFrames = 0, inlinedFrames = 0, lookupMs = 0;
    for (const task of tasks) {
      const plain = taskStack(vm, BigInt(task.task_struct));
      const t0 = performance.now();
      const frames = withInlinedFrames(vm, plain.frames);
      lookupMs += performance.now() - t0;
      physicalFrames += plain.frames.length;
      inlinedFrames += frames.length - plain.frames.length;
      checkGroups(frames, `pid ${task.pid}`);
      expect(physical(frames)).toEqual(plain.frames);
      expect(taskStack(vm, BigInt(task.task_struct), { inlines: true }).frames).toEqual(frames);
    }
    const perFrame = (lookupMs * 1000) / physicalFrames;
    figures.push(`${fx.scenario}/${fx.name}: ${tasks.length} tasks, ${physicalFrames} frames + ${inlinedFrames} inlined; lookup ${perFrame.toFixed(1)} µs/frame`);
    expect(inlinedFrames).toBeGreaterThan(0);
  });

  it.runIf(btfOnly)('BTF only: no inline information, so asking for inlined frames changes nothing', () => {
    expect(vm.types.source).toBe('btf');
    expect(inlineSource(vm)).toMatchObject({ ranges: null, note: expect.stringMatching(/btf/) });
    const p = panicStack(vm, undefined, { inlines: true });
    expect(p).toEqual(panicStack(vm));
    for (const cpu of Object.keys(t.active_backtraces as Record<string, Json>)) {
      expect(cpuStack(vm, Number(cpu), { inlines: true })).toEqual(cpuStack(vm, Number(cpu)));
    }
    for (const task of t.tasks as Json[]) {
      const s = taskStack(vm, BigInt(task.task_struct), { inlines: true });
      expect(s.frames.some((f) => f.inlined), `pid ${task.pid}`).toBe(false);
    }
  });
});

describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('vaat bt: inlined frames: $scenario', (fx) => {
  const btfOnly = btfOnlyFor(fx);
  let vm: Vmcore;
  // the scenario modules' .ko files (with DWARF) as --module-debug names them
  beforeAll(() => { vm = openVmcore(fx.path, { moduleDebug: fx.kernel.modulesDir }); });
  afterAll(() => vm?.close());

  it(btfOnly ? 'BTF only: none listed, --json says inlined: false' : 'lists them by name, marked (inlined), and as inlined: true in --json; --no-inline hides them', async () => {
    const pid = (drgnTruth(fx.scenario).uninterruptible_backtraces as Json[])[0].pid as number;
    const r = await bt.run({ vm, options: {}, args: [String(pid)] });
    const frames = r.traces[0].frames;
    const out = new Output({ plain: true });
    bt.render(r, out, {});
    if (btfOnly) {
      expect(frames.every((f) => f.inlined === false)).toBe(true);
      expect(out.text()).not.toMatch(/\(inlined\)/);
      return;
    }
    const common = frames.find((f) => f.function === '__mutex_lock_common')!;
    expect(common).toMatchObject({ inlined: true, offset: null, text: '__mutex_lock_common' });
    expect(frames[common.index + 1]).toMatchObject({ inlined: false, sp: common.sp, pc: common.pc });
    expect(out.text()).toMatch(new RegExp(` #${common.index} +\\[${common.sp.toString(16)}\\] __mutex_lock_common \\(inlined\\)(?: \\(fp\\))?\\n #${common.index + 1} +\\[${common.sp.toString(16)}\\] __mutex_lock\\.constprop\\.0\\+0x`));
    const bare = await bt.run({ vm, options: { inline: false }, args: [String(pid)] });
    expect(bare.traces[0].frames.map((f) => f.text)).toEqual(frames.filter((f) => !f.inlined).map((f) => f.text));
  });
});
