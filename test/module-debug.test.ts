/**
 * Module DWARF (src/kernel/module/debug.ts): each loaded module's .ko found (`moduleDebug` dirs,
 * then /usr/lib/debug/lib/modules/<release>), relocated to where the module sits in the dump,
 * refused when it is another build; its types and variables read as vmlinux's are. Inlined frames
 * inside module functions are checked against drgn in test/stack-inline.test.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openVmcore, type Vmcore } from '../src/vmcore.js';
import { findModuleDebugFile, moduleDebug, moduleInlinedAt, moduleObject } from '../src/kernel/module/debug.js';
import { moduleSectionAddresses } from '../src/kernel/module/sections.js';
import { drgnTruth, dumps, dumpsOf, testedKernels, truth, typesMode, type Json } from './fixtures.js';
import { vaatJson } from './cli.js';

const opened: Vmcore[] = [];
afterAll(() => { for (const vm of opened) vm.close(); });
const open = (path: string, moduleDir?: string): Vmcore => {
  const vm = openVmcore(path, { vmlinux: false, ...(moduleDir ? { moduleDebug: moduleDir } : {}) });
  opened.push(vm);
  return vm;
};

describe.each(dumpsOf('cgroup-mutex-hung', { primary: true }))('module debug info on $scenario', (d) => {
  const t = truth(d.scenario);
  it('relocates the .ko to the loaded module: every symbol agrees on its section\'s address', () => {
    const vm = open(d.path, d.kernel.modulesDir);
    const r = moduleDebug(vm, 'vaat_holder');
    if (!r.ok) throw new Error(r.reason);
    expect(r.file).toBe(join(d.kernel.modulesDir, 'vaat_holder.ko'));
    // at least its text symbols (all a kernel without CONFIG_KALLSYMS_ALL keeps): vaat_hold_forever and the init function
    expect(r.symbolsMatched).toBeGreaterThanOrEqual(2);
    const text = r.sections.find((s) => s.name === '.text')!;
    const mod = vm.modules!.module('vaat_holder')!;
    expect(mod.regions.some((g) => text.start >= g.start && text.start + text.size <= g.end)).toBe(true);
    // vaat_hold_forever is where the holder sleeps: its address is inside .text as placed
    const fn = vm.symbols.lookup('vaat_hold_forever')!.address;
    expect(fn >= text.start && fn < text.start + text.size).toBe(true);
  });

  it('sect_attrs place every allocated section inside the module\'s memory, .text around its functions', () => {
    const vm = open(d.path);
    const mod = vm.modules!.module('vaat_holder')!;
    const secs = moduleSectionAddresses(vm, mod.address)!;
    const inModule = (a: bigint): boolean => mod.regions.some((g) => a >= g.start && a < g.end);
    // .init.* were freed after the module's init ran; everything else the module still holds
    for (const name of ['.text', '.bss', '.rodata', '.gnu.linkonce.this_module']) expect(inModule(secs.get(name)!), name).toBe(true);
    const fn = vm.symbols.lookup('vaat_hold_forever')!.address;
    const text = secs.get('.text')!;
    expect(fn >= text && fn < text + 0x10000n).toBe(true);
    // .gnu.linkonce.this_module is the struct module itself
    expect(secs.get('.gnu.linkonce.this_module')).toBe(mod.address);
  });

  it('the module\'s own variable, typed from its DWARF: mutex_addr is the cgroup_mutex drgn saw', () => {
    const vm = open(d.path, d.kernel.modulesDir);
    // module_param(mutex_addr, ulong): the scenario passed cgroup_mutex's address
    const v = moduleObject(vm, 'vaat_holder', 'mutex_addr');
    expect(v.typeName).toBe('unsigned long');
    expect(`0x${v.bigint().toString(16)}`).toBe(t.cgroup_mutex.address);
    // the module's types include the kernel types it uses, laid out as vmlinux's
    const dbg = moduleDebug(vm, 'vaat_holder');
    if (!dbg.ok) throw new Error(dbg.reason);
    const owner = vm.dump.u64(BigInt(t.cgroup_mutex.address) + BigInt(dbg.types.offsetof('struct mutex', 'owner')));
    expect(`0x${owner.toString(16)}`).toBe(t.cgroup_mutex.owner_raw);
    // a variable the compiler kept no symbol for says so
    expect(() => moduleObject(vm, 'vaat_holder', 'holder')).toThrow(/no symbol holder in the loaded module/);
  });

  it('refuses another build of the module, saying why', () => {
    const other = testedKernels.find((k) => k !== d.kernel)!;
    const vm = open(d.path, other.modulesDir);
    const r = moduleDebug(vm, 'vaat_holder');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/another build of vaat_holder|none of its symbols/);
    expect(moduleInlinedAt(vm, 'vaat_holder', vm.symbols.lookup('vaat_hold_forever')!.address)).toEqual([]);
  });

  it('without a directory naming it, an out-of-tree module has no debug info, and says where it looked', () => {
    const vm = open(d.path);
    const r = moduleDebug(vm, 'vaat_holder');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(new RegExp(`no debug file for module vaat_holder in .*/usr/lib/debug/lib/modules/${d.kernel.release.replace(/\./g, '\\.')}`));
    expect(() => moduleObject(vm, 'vaat_holder', 'holder')).toThrow(/no debug file/);
  });
});

describe('a distribution module from the -dbg package', () => {
  const qemu = dumps.find((x) => x.scenario === 'qemu-dump')!;
  const dir = `/usr/lib/debug/lib/modules/${qemu.kernel.release}`;
  const has = existsSync(dir);
  it.skipIf(!has)(`finds pvpanic and pvpanic_mmio (file pvpanic-mmio.ko) below ${dir}${has ? '' : ' (SKIPPED: the -dbg package is not installed)'}`, () => {
    expect(findModuleDebugFile('pvpanic_mmio', [dir])).toMatch(/\/pvpanic-mmio\.ko$/);
    const vm = open(qemu.path);
    const want = (truth(qemu.scenario, 'truth-drgn-0.0.33+unknown.json').modules as Json[]).length;
    expect(vm.modules!.modules.length).toBe(want);
    const r = moduleDebug(vm, 'pvpanic');
    if (!r.ok) throw new Error(r.reason);
    expect(r.file.startsWith(dir)).toBe(true);
  });
});

describe('vaat bt --module-debug', () => {
  const soft = dumps.find((x) => x.scenario === 'softlockup')!;
  it('takes the option and lists the inlined frames inside the module function (with DWARF)', async () => {
    const r = await vaatJson(['bt', soft.path, '-a', '--module-debug', soft.kernel.modulesDir]);
    const frames = (r.traces as Json[]).flatMap((x) => x.frames as Json[]);
    const spin = frames.find((f) => f.function === 'vaat_spin_locked' && !f.inlined);
    expect(spin).toBeDefined();
    const at = frames.indexOf(spin);
    let k = at;
    while (k > 0 && frames[k - 1].inlined) k--;
    const ours = frames.slice(k, at).map((f) => f.function as string);
    if (typesMode(soft.kernel) !== 'dwarf') { expect(ours).toEqual([]); return; } // BTF: no inline information anywhere
    // drgn's list around vaat_spin_locked: our inlined group, and before it the same physical frame
    const drgn = Object.values(drgnTruth(soft.scenario).active_backtraces as Record<string, Json>)
      .map((a) => a.backtrace as string[]).find((bt) => bt.includes('vaat_spin_locked'))!;
    const i = drgn.indexOf('vaat_spin_locked');
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(drgn.slice(i - ours.length, i));
    expect(frames[k - 1].function).toBe(drgn[i - ours.length - 1]);
  });
});
