/**
 * Sources read from ELF files: a vmlinux's .symtab as a symbol source (against the build's
 * System.map, kallsyms of every scenario's dump, and shifted/wrong files), BTF from a vmlinux's
 * .BTF section (against the raw vmlinux.btf), and loaded modules' BTF from the dump's memory.
 * The debug vmlinux (linux-image-*-dbg) is 589 MB and optional: tests that need it say so in
 * their name and are skipped without it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { debugVmlinux, dumps, kernelDir, primaryTruth, type DumpFixture } from './fixtures.js';
import { vaatJson } from './cli.js';
import { Dump } from '../src/dump/dump.js';
import { openVmcore, Vmcore } from '../src/vmcore.js';
import { CombinedSymbolTable, SymbolSourceMismatchError } from '../src/symbols/combine.js';
import { forgetParsedSymtabs, gnuBuildId, loadElfSymbols, readSymtab, readVmlinuxSymbols, type LinkTimeSymbols } from '../src/symbols/elf-symtab.js';
import { cachePath } from '../src/cache/build-id-cache.js';
import { loadSystemMap } from '../src/symbols/systemmap.js';
import { ElfFile, ET_REL, readBtfFile, withElf } from '../src/elf/sections.js';
import { parseBtf } from '../src/types/btf.js';
import { DebuginfoMismatchError } from '../src/types/debuginfo.js';
import { moduleTypes, vmlinuxBtf } from '../src/kernel/module/btf.js';

const release = '6.1.0-54-cloud-amd64';
const vmlinux = `/usr/lib/debug/boot/vmlinux-${release}`;
const haveVmlinux = existsSync(vmlinux);
/** tests that need the debug vmlinux carry the reason they would be skipped in their name */
const withVmlinux = haveVmlinux ? it : it.skip;
const needs = haveVmlinux ? '' : ` [skipped: no ${vmlinux}; install linux-image-${release}-dbg]`;

const systemMapPath = join(kernelDir, `System.map-${release}`);
const btfPath = join(kernelDir, 'vmlinux.btf');
const koPath = join(kernelDir, 'modules', 'vaat_oops.ko');
/** one dump per scenario: each guest booted with its own KASLR slide */
const primaries: DumpFixture[] = dumps.filter((d) => d.primary);
const qemu = primaries.find((d) => d.scenario === 'qemu-dump')!;
const oops = primaries.find((d) => d.scenario === 'oops-null-a')!;

const tmp = mkdtempSync(join(tmpdir(), 'vaat-elf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ELF64 section reader', () => {
  it('reads a module .ko: REL, .symtab with the letters nm gives, refused as a vmlinux', () => {
    const mine = withElf(koPath, (elf) => {
      expect(elf.header.type).toBe(ET_REL);
      return readSymtab(elf);
    });
    // binutils' nm is the oracle; readSymtab keeps the System.map view (no U, a, __crc_ ...)
    const nm = execFileSync('nm', [koPath], { encoding: 'utf8' }).split('\n')
      .map((l) => /^([0-9a-f]{16}) (\S) (\S+)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null && m[2] !== 'a')
      .map((m) => `${m[1]} ${m[2]} ${m[3]}`).sort();
    const got = mine.names.map((n, i) => `${mine.link[i].toString(16).padStart(16, '0')} ${mine.types[i]} ${n}`).sort();
    expect(got).toEqual(nm);
    expect(got).toContain('0000000000000000 T init_module');
    expect(() => readVmlinuxSymbols(koPath)).toThrow(/not a vmlinux: ELF type REL \(a kernel module/);
  });

  it('rejects non-ELF, truncated, corrupt and stripped files with a clear message', () => {
    expect(() => ElfFile.open(systemMapPath)).toThrow(/not an ELF file/);
    const ko = readFileSync(koPath);
    const cut = join(tmp, 'cut.ko');
    writeFileSync(cut, ko.subarray(0, 4096)); // section headers are at the end of a .ko
    expect(() => ElfFile.open(cut)).toThrow(/truncated or corrupt: section header 0 at \d+\+64 lies past the end of the 4096-byte file/);
    writeFileSync(cut, ko.subarray(0, 40));
    expect(() => ElfFile.open(cut)).toThrow(/truncated or corrupt: ELF header at 0\+64/);
    const bad = Buffer.from(ko);
    bad.writeUInt16LE(9999, 62); // e_shstrndx
    writeFileSync(cut, bad);
    expect(() => ElfFile.open(cut)).toThrow(/section name table index 9999 out of range/);
    const bigSym = Buffer.from(ko);
    withElf(koPath, (elf) => {
      const s = elf.section('.symtab')!;
      // point the symtab's sh_offset far past the end of the file
      const shoff = Number(ko.readBigUInt64LE(40));
      bigSym.writeBigUInt64LE(1n << 40n, shoff + s.index * 64 + 24);
    });
    writeFileSync(cut, bigSym);
    expect(() => withElf(cut, readSymtab)).toThrow(/truncated or corrupt: section \.symtab at 1099511627776\+/);
    if (existsSync('/bin/ls')) {
      expect(() => withElf('/bin/ls', readSymtab)).toThrow(/no \.symtab section \(a stripped file\?\)/);
      expect(() => readVmlinuxSymbols('/bin/ls')).toThrow(/not a vmlinux: ELF type DYN/);
    }
  });

  it('reads BTF from raw files and from ELF .BTF sections (a pahole-encoded module copy, split on vmlinux.btf)', () => {
    const raw = readFileSync(btfPath);
    const fromRaw = readBtfFile(btfPath);
    expect(fromRaw.bytes.equals(raw)).toBe(true);
    expect(fromRaw.from).toBe(`BTF file ${btfPath}`);
    expect(() => readBtfFile(koPath)).toThrow(/an ELF file without a \.BTF section/);
    const ko = join(tmp, 'vaat_oops.ko');
    copyFileSync(koPath, ko);
    execFileSync('pahole', ['-J', `--btf_base=${btfPath}`, ko]);
    const got = readBtfFile(ko);
    expect(got.from).toMatch(/^BTF section of .*vaat_oops\.ko \(\d+ bytes\)$/);
    const base = parseBtf(raw, { label: btfPath });
    const mod = parseBtf(got.bytes, { base, label: ko });
    expect(mod.firstId).toBe(base.typeCount);
    expect(mod.findType('struct vaat_request')).toBeGreaterThanOrEqual(mod.firstId);
    expect(mod.sizeof('struct task_struct')).toBe(base.sizeof('struct task_struct'));
  });
});

describe(`vmlinux .symtab as a symbol source${needs}`, () => {
  const lines = (s: LinkTimeSymbols): string[] => s.names.map((n, i) => `${s.link[i].toString(16).padStart(16, '0')} ${s.types[i]} ${n}`).sort();

  withVmlinux('equals the build\'s System.map line for line (System.map is the mksysmap-filtered nm -n), parsed or from the cache', () => {
    const t0 = performance.now();
    const { fresh, id } = withElf(vmlinux, (elf) => ({ fresh: readSymtab(elf), id: gnuBuildId(elf) }));
    const ms = performance.now() - t0;
    const map = readFileSync(systemMapPath, 'utf8').split('\n').filter((l) => l !== '').sort();
    console.log(`vmlinux .symtab: ${fresh.read} entries, ${fresh.names.length} in the System.map view (${map.length} System.map lines), parsed in ${ms.toFixed(0)} ms`);
    expect(lines(fresh)).toEqual(map);
    expect(id).toBe(readFileSync(join(kernelDir, 'vmlinux.build-id'), 'utf8').trim());
    // the per-build-id disk cache gives back the same table
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(tmp, 'cache');
    try {
      forgetParsedSymtabs();
      const first = readVmlinuxSymbols(vmlinux);
      expect(existsSync(cachePath('vmlinux-symtab', id!)!)).toBe(true);
      forgetParsedSymtabs();
      const t1 = performance.now();
      const again = readVmlinuxSymbols(vmlinux);
      console.log(`vmlinux .symtab from the cache: ${(performance.now() - t1).toFixed(0)} ms`);
      expect(again).not.toBe(first);
      for (const s of [first, again]) {
        expect(s.read).toBe(fresh.read);
        expect(s.names).toEqual(fresh.names);
        expect(s.types).toEqual(fresh.types);
        expect(s.link).toEqual(fresh.link);
      }
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved;
      forgetParsedSymtabs();
    }
  });

  withVmlinux('agrees with kallsyms and the System.map of every scenario\'s dump, KASLR slide applied', () => {
    for (const d of primaries) {
      // each dump against its own kernel's vmlinux and System.map (the 5.10 set: Debian 11's)
      const kernelVmlinux = debugVmlinux(d.kernel);
      if (!existsSync(kernelVmlinux)) throw new Error(`${d.scenario}: ${kernelVmlinux} not installed (scripts/setup.sh --with-test-tools)`);
      const vm = openVmcore(d.path, { vmlinux: false });
      try {
        const slide = vm.vmcoreinfo.kernelOffset;
        const elf = loadElfSymbols(kernelVmlinux, { kernelOffset: slide });
        const map = loadSystemMap(d.kernel.systemMap, { kernelOffset: slide });
        let shared = 0;
        const bad: string[] = [];
        for (const k of vm.kallsyms.all()) {
          const want = vm.kallsyms.uniqueAddress(k.name);
          const got = elf.uniqueAddress(k.name);
          if (want === null || want === undefined || got === null || got === undefined) continue;
          shared++;
          if (got !== want) bad.push(`${k.name}: kallsyms 0x${want.toString(16)} vmlinux 0x${got.toString(16)}`);
        }
        for (const m of map.all()) {
          const got = elf.uniqueAddress(m.name);
          // 5.10's System.map still lists the export strings (__kstrtab_*), which mksysmap leaves out since;
          // the vmlinux view follows the newer filter, so only those may be missing from it
          if (got === undefined) { if (!/^__kstrtab(ns)?_/.test(m.name)) bad.push(`${m.name}: in System.map, not in the vmlinux view`); continue; }
          if (got !== null && got !== map.uniqueAddress(m.name)) bad.push(`${m.name}: System.map vs vmlinux`);
        }
        console.log(`${d.scenario}: slide 0x${slide.toString(16)}, ${shared} unique names shared with kallsyms, ${bad.length} disagree`);
        expect(bad).toEqual([]);
        // (text only, where the kernel's kallsyms hold no data: arm64 without CONFIG_KALLSYMS_ALL)
        expect(shared).toBeGreaterThan(vm.kallsyms.hasDataSymbols ? 50_000 : 30_000);
        // text is relocated to where VMCOREINFO saw it; x86_64's per-CPU symbols are offsets, not relocated
        expect(elf.lookup('_stext')!.address).toBe(BigInt(`0x${primaryTruth(d.scenario).vmcoreinfo['SYMBOL(_stext)']}`));
        if (d.kernel.arch === 'x86_64') expect(elf.lookup('runqueues')!.address).toBeLessThan(0x100000n);
      } finally { vm.close(); }
    }
  });

  withVmlinux('joins Vmcore.symbols after kallsyms when named (a vmlinux found by build-id only stands in for missing kallsyms), and adds names kallsyms lacks', () => {
    const named = openVmcore(oops.path, { vmlinux });
    const found = new Vmcore(Dump.open(oops.path), {}); // options.vmlinux undefined: look, whatever VAAT_VMLINUX says
    const bare = openVmcore(oops.path, { vmlinux: false });
    try {
      expect(named.symbols.source).toBe('modules > kallsyms > vmlinux > vmcoreinfo');
      expect(named.symbols.checks[0]).toMatchObject({ label: 'vmlinux', disagreeing: 0 });
      expect(named.symbols.checks[0].shared).toBeGreaterThan(80_000);
      // found by build-id, it is the image kallsyms describes: not loaded while kallsyms is there
      expect(found.symbols.source).toBe('modules > kallsyms > vmcoreinfo');
      expect(bare.symbols.source).toBe('modules > kallsyms > vmcoreinfo');
      // names kallsyms leaves out (e.g. absolute symbols) are found through the vmlinux, where System.map puts them
      const map = loadSystemMap(systemMapPath, { kernelOffset: named.vmcoreinfo.kernelOffset });
      const extra = [...map.all()].filter((m) => bare.symbols.lookup(m.name) === undefined);
      console.log(`names only the vmlinux adds: ${extra.length} (${extra.slice(0, 4).map((m) => m.name).join(', ')} ...)`);
      expect(extra.length).toBeGreaterThan(0);
      for (const m of extra) expect([m.name, named.symbols.lookup(m.name)?.address]).toEqual([m.name, map.lookupAll(m.name)[0].address]);
    } finally { named.close(); found.close(); bare.close(); }
  });

  withVmlinux('refuses a vmlinux whose symbols are shifted (objcopy --change-addresses), and one without the slide', () => {
    const shifted = join(tmp, 'vmlinux-shifted');
    // --extract-symbol keeps headers and .symtab but no section bytes: a 5 MB copy of the 589 MB file
    execFileSync('objcopy', ['--extract-symbol', '--change-addresses', '0x200000', vmlinux, shifted]);
    const vm = openVmcore(oops.path, { vmlinux: shifted });
    try {
      expect(() => vm.symbols).toThrow(SymbolSourceMismatchError);
      expect(() => vm.symbols).toThrow(/symbol source vmlinux does not belong to this dump: \d+ of \d+ names it shares with kallsyms are at other addresses/);
      expect(() => vm.types).toThrow(/vmlinux-shifted: .*(runs past the end of the file|no DWARF|cannot tell)/); // debuginfo.ts refuses it too
    } finally { vm.close(); }
    const ok = openVmcore(oops.path, { vmlinux: false });
    try {
      const unslid = loadElfSymbols(vmlinux, { kernelOffset: 0n });
      expect(ok.vmcoreinfo.kernelOffset).not.toBe(0n);
      expect(() => new CombinedSymbolTable([{ table: ok.kallsyms, label: 'kallsyms' }, { table: unslid, label: 'vmlinux' }])).toThrow(SymbolSourceMismatchError);
    } finally { ok.close(); }
  });

  it('refuses a program or a kernel module named as the vmlinux: both the symbol source and the DWARF check', () => {
    for (const [file, type] of [['/bin/ls', 'DYN'], [koPath, 'REL']] as const) {
      if (!existsSync(file)) continue;
      const vm = openVmcore(oops.path, { vmlinux: file });
      try {
        expect(() => vm.symbols).toThrow(new RegExp(`not a vmlinux: ELF type ${type}`));
        expect(() => vm.types).toThrow(DebuginfoMismatchError);
        expect(() => vm.types).toThrow(/build-id [0-9a-f]+ does not match the dump's bc6a64c9/);
      } finally { vm.close(); }
    }
  });
});

describe(`BTF from a vmlinux's .BTF section${needs}`, () => {
  withVmlinux('--btf vmlinux gives the bytes of vmlinux.btf and the same types', () => {
    const raw = readFileSync(btfPath);
    const t0 = performance.now();
    const sec = readBtfFile(vmlinux);
    console.log(`.BTF of the 589 MB vmlinux: ${sec.bytes.length} bytes in ${(performance.now() - t0).toFixed(1)} ms`);
    expect(sec.bytes.equals(raw)).toBe(true);
    const fromElf = new Vmcore(Dump.open(oops.path), { btf: vmlinux });
    const fromRaw = new Vmcore(Dump.open(oops.path), { btf: btfPath });
    try {
      expect(fromElf.sources().types).toBe(`BTF section of ${vmlinux} (${raw.length} bytes)`);
      expect(fromElf.types.sizeof('struct task_struct')).toBe(9728);
      expect(fromElf.types.sizeof('struct task_struct')).toBe(fromRaw.types.sizeof('struct task_struct'));
      expect(fromElf.types.offsetof('struct task_struct', 'comm')).toBe(fromRaw.types.offsetof('struct task_struct', 'comm'));
    } finally { fromElf.close(); fromRaw.close(); }
  });

  withVmlinux('the CLI takes --btf VMLINUX', async () => {
    const info = await vaatJson(['info', oops.path, '--btf', vmlinux]);
    expect(info.sources.types).toMatch(/^BTF section of \/usr\/lib\/debug\/boot\/vmlinux-6\.1\.0-54-cloud-amd64 \(\d+ bytes\)$/);
  });
});

describe('module BTF from the dump\'s memory', () => {
  /** struct fw_cfg_file as the compiler lays out the uapi header: an oracle independent of BTF */
  function fwCfgFileLayout(): Record<string, number> | null {
    if (!existsSync('/usr/include/linux/qemu_fw_cfg.h')) return null;
    const src = join(tmp, 'fwcfg.c');
    writeFileSync(src, '#include <stdio.h>\n#include <stddef.h>\n#include <linux/qemu_fw_cfg.h>\n'
      + 'int main(void){printf("%zu %zu %zu %zu %zu\\n",sizeof(struct fw_cfg_file),offsetof(struct fw_cfg_file,size),'
      + 'offsetof(struct fw_cfg_file,select),offsetof(struct fw_cfg_file,reserved),offsetof(struct fw_cfg_file,name));return 0;}\n');
    execFileSync('cc', ['-o', join(tmp, 'fwcfg'), src]);
    const [size, sz, select, reserved, name] = execFileSync(join(tmp, 'fwcfg'), { encoding: 'utf8' }).trim().split(' ').map(Number);
    return { sizeof: size, size: sz, select, reserved, name };
  }

  it('qemu-dump: Debian\'s in-tree modules carry BTF; the kernel keeps it on btf_modules (btf_data is cleared after init)', () => {
    const vm = openVmcore(qemu.path, { vmlinux: false });
    try {
      const want: string[] = primaryTruth('qemu-dump').modules;
      expect([...want].sort()).toEqual(['pvpanic', 'pvpanic_mmio', 'qemu_fw_cfg']);
      const base = vmlinuxBtf(vm);
      for (const name of want) {
        const r = moduleTypes(vm, name);
        if (!r.ok) throw new Error(r.reason);
        console.log(`${name}: ${r.bytes} bytes of BTF, ${r.types.typeCount - r.types.firstId} types, from ${r.from}`);
        expect(r.from).toMatch(/^btf_modules entry for /);
        expect(r.types.firstId).toBe(base.typeCount);
        expect(r.types.sizeof('struct list_head')).toBe(16); // base types through the module's view
      }
      const fw = moduleTypes(vm, 'qemu_fw_cfg');
      if (!fw.ok) throw new Error(fw.reason);
      expect(base.findType('struct fw_cfg_file')).toBeNull();
      const oracle = fwCfgFileLayout();
      const got = { sizeof: fw.types.sizeof('struct fw_cfg_file'), ...Object.fromEntries(['size', 'select', 'reserved', 'name'].map((m) => [m, fw.types.offsetof('struct fw_cfg_file', m)])) };
      expect(got).toEqual(oracle ?? { sizeof: 64, size: 0, select: 4, reserved: 6, name: 8 });
      // the module's loaded functions are described by its BTF, not by vmlinux's
      const mod = vm.modules!.module('qemu_fw_cfg')!;
      const text = [...mod.symbols.all()].filter((s) => /^[tT]$/.test(s.type));
      const described = text.filter((s) => fw.types.findFunction(s.name) !== null && base.findFunction(s.name) === null);
      console.log(`qemu_fw_cfg: ${described.length} of ${text.length} loaded functions have a BTF FUNC of the module's own`);
      expect(described.length).toBeGreaterThan(5);
      const pv = moduleTypes(vm, 'pvpanic');
      if (!pv.ok) throw new Error(pv.reason);
      expect(pv.types.memberPath('struct pvpanic_instance', 'list').type).toBe(pv.types.findType('struct list_head'));
      expect(moduleTypes(vm, 'vaat_oops')).toEqual({ ok: false, module: 'vaat_oops', reason: 'no module vaat_oops is loaded (loaded: pvpanic_mmio, pvpanic, qemu_fw_cfg)' });
    } finally { vm.close(); }
  });

  withVmlinux('qemu-dump with DWARF types: the same module BTF, on the BTF read from the dump', () => {
    const vm = openVmcore(qemu.path, { vmlinux });
    try {
      expect(vm.sources().types).toMatch(/^DWARF /);
      const r = moduleTypes(vm, 'qemu_fw_cfg');
      if (!r.ok) throw new Error(r.reason);
      expect(r.types.sizeof('struct fw_cfg_sysfs_entry')).toBeGreaterThan(64);
    } finally { vm.close(); }
  });

  it('the scenario modules (built out of tree without BTF) say so, and so does a kernel without module BTF', () => {
    let checked = 0;
    for (const d of primaries) {
      const mods: string[] = primaryTruth(d.scenario).modules ?? [];
      if (d.scenario === 'qemu-dump') continue;
      // Debian 11's 5.10 is built without CONFIG_DEBUG_INFO_BTF_MODULES
      const moduleBtf = /^CONFIG_DEBUG_INFO_BTF_MODULES=y$/m.test(readFileSync(join(d.kernel.dir, `config-${d.kernel.release}`), 'utf8'));
      const vm = openVmcore(d.path, { vmlinux: false });
      try {
        for (const name of mods) {
          if (!name.startsWith('vaat_')) {
            // an in-tree module built with BTF (arm64's qemu_fw_cfg): found through btf_modules,
            // or, where no symbol names that list (a bare dump whose kallsyms hold no data), said so
            const r = moduleTypes(vm, name);
            if (vm.symbols.lookup('btf_modules')) expect(r.ok, r.ok ? '' : r.reason).toBe(true);
            else expect(r.ok ? '' : r.reason).toMatch(/btf_modules list is not named/);
            checked++;
            continue;
          }
          const reason = moduleBtf
            ? `module ${name} carries no BTF (btf_data_size 0: built without BTF)`
            : 'this kernel keeps no module BTF (struct module has no btf_data: built without CONFIG_DEBUG_INFO_BTF_MODULES)';
          expect(moduleTypes(vm, name)).toEqual({ ok: false, module: name, reason });
          checked++;
        }
      } finally { vm.close(); }
    }
    expect(checked).toBe(primaries.filter((d) => d.scenario !== 'qemu-dump').reduce((n, d) => n + (primaryTruth(d.scenario).modules ?? []).length, 0));
    expect(checked).toBeGreaterThan(4);
  });
});
