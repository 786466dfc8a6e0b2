/**
 * Debug info of loaded modules: the DWARF of each module's .ko, relocated to where the module
 * sits in the dump, so a module frame gets its inlined functions (`rep_nop < cpu_relax` inside
 * `vaat_spin_locked`) and the module's own types are at hand, as vmlinux's are.
 *
 * Where a module's .ko is looked for, first match wins:
 *   - the directories given (`--module-debug DIR`, OpenVmcoreOptions.moduleDebug): `<DIR>/<name>.ko`,
 *     then any `<name>.ko` below DIR (out-of-tree modules, a build tree);
 *   - `/usr/lib/debug/lib/modules/<release>/` (Debian's and Ubuntu's -dbg packages: `kernel/…/<name>.ko`;
 *     Fedora's `<name>.ko.debug`).
 * A module's file name may spell `-` where the kernel's module name has `_`.
 *
 * A .ko is relocatable: the addon has libdwfl apply its relocations with the sections laid out at
 * addresses of libdwfl's choosing, and reports that layout. Where each section was loaded comes
 * from the dump: the module's `sect_attrs` (./sections.ts) name every section's address, and the
 * module's in-memory symtab keeps each symbol's .ko section index (st_shndx) with its loaded
 * address, which the .ko's symtab gives as an offset in that section. Every symbol of a section
 * must put the section at the same address, the one sect_attrs give; a .ko where they disagree
 * (or whose symbols are not the module's) is another build and is refused with the reason.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelContext } from '../../context.js';
import { VaatError } from '../../dump/errors.js';
import { KObject } from '../../object/kobject.js';
import type { LoadedModule } from '../../symbols/modules.js';
import { DwarfTypes, type InlineRange } from '../../types/dwarf.js';
import { loadDwarfIndex, type DwarfSectionAddress } from '../../types/type-cache.js';
import { SHF_ALLOC, SHT_STRTAB, SHT_SYMTAB, withElf, type ElfFile } from '../../elf/sections.js';
import { moduleSectionAddresses } from './sections.js';

/** One .ko section as loaded: the dump's address range and where the index's DWARF put it. */
export interface LoadedSection {
  readonly index: number;
  readonly name: string;
  /** where the module's copy of the section starts in the dump */
  readonly start: bigint;
  readonly size: bigint;
  /** the section's address in the index (libdwfl's layout) */
  readonly layout: bigint;
}

export type ModuleDebug =
  | {
      readonly ok: true;
      readonly module: string;
      /** the .ko whose DWARF was read */
      readonly file: string;
      /** the module's types and inline ranges (addresses in libdwfl's layout of the .ko) */
      readonly types: DwarfTypes;
      readonly sections: readonly LoadedSection[];
      /** symbols that placed the sections (each agreed with the others of its section) */
      readonly symbolsMatched: number;
      /** the .ko's own symbols: section index and offset in it (data symbols the loaded module may not keep) */
      readonly fileSymbols: ReadonlyMap<string, KoSymbol>;
    }
  | { readonly ok: false; readonly module: string; readonly reason: string };

/** the directories `--module-debug` names, and the distribution's place for this kernel */
export function moduleDebugDirs(vm: KernelContext): string[] {
  const given = vm.options.moduleDebug;
  const dirs = given === undefined ? [] : Array.isArray(given) ? [...given] : [given];
  const rel = vm.vmcoreinfo.osrelease;
  if (rel && !rel.includes('/')) dirs.push(join('/usr/lib/debug/lib/modules', rel));
  return dirs;
}

const SUFFIXES = ['.ko', '.ko.debug'];
const MAX_WALK = 200_000;

/** `.ko` files below a directory by module name (`-` read as `_`), built once per directory */
const treeIndex = new Map<string, Map<string, string>>();
function koFilesBelow(dir: string): Map<string, string> {
  let idx = treeIndex.get(dir);
  if (idx) return idx;
  idx = new Map();
  const stack = [dir];
  let seen = 0;
  while (stack.length && seen < MAX_WALK) {
    const d = stack.pop()!;
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { continue; }
    for (const e of entries) {
      if (++seen > MAX_WALK) break;
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else {
        const suffix = SUFFIXES.find((s) => e.name.endsWith(s));
        if (suffix) {
          const name = e.name.slice(0, -suffix.length).replace(/-/g, '_');
          if (!idx.has(name)) idx.set(name, p);
        }
      }
    }
  }
  treeIndex.set(dir, idx);
  return idx;
}

/** The .ko holding module `name`'s DWARF in `dirs`, or null. */
export function findModuleDebugFile(name: string, dirs: readonly string[]): string | null {
  const spellings = [...new Set([name, name.replace(/_/g, '-')])];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const n of spellings) {
      for (const s of SUFFIXES) {
        const p = join(dir, n + s);
        try { if (statSync(p).isFile()) return p; } catch { /* not there */ }
      }
    }
    const below = koFilesBelow(dir).get(name);
    if (below) return below;
  }
  return null;
}

export interface KoSymbol { shndx: number; value: bigint }

/** a .ko's defined symbols by name (names defined twice, e.g. two static functions, are left out: ambiguous) */
function koSymbols(elf: ElfFile): Map<string, KoSymbol> {
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) throw new Error(`${elf.path}: no .symtab`);
  const strs = elf.sections[symtab.link];
  if (!strs || strs.type !== SHT_STRTAB) throw new Error(`${elf.path}: .symtab links to no string table`);
  const tab = elf.read(symtab);
  const names = elf.read(strs);
  const le = elf.header.littleEndian;
  const out = new Map<string, KoSymbol>();
  const twice = new Set<string>();
  for (let o = 24; o + 24 <= tab.length; o += 24) {
    const type = tab[o + 4] & 0xf;
    if (type !== 1 && type !== 2) continue; // STT_OBJECT, STT_FUNC
    const shndx = le ? tab.readUInt16LE(o + 6) : tab.readUInt16BE(o + 6);
    if (shndx === 0 || shndx >= 0xff00) continue;
    const off = le ? tab.readUInt32LE(o) : tab.readUInt32BE(o);
    if (off >= names.length) continue;
    const end = names.indexOf(0, off);
    const name = names.toString('latin1', off, end < 0 ? names.length : end);
    if (out.has(name)) twice.add(name);
    out.set(name, { shndx, value: le ? tab.readBigUInt64LE(o + 8) : tab.readBigUInt64BE(o + 8) });
  }
  for (const n of twice) out.delete(n);
  return out;
}

/**
 * Where each .ko section sits in the dump: from `mod->sect_attrs` where the kernel kept it (every
 * allocated section, data too), else from the module's symbols (text only on a kernel without
 * CONFIG_KALLSYMS_ALL); throws when the symbols disagree with each other or with sect_attrs
 * (another build of the module).
 */
export function placeSections(mod: LoadedModule, file: string, ko: Map<string, KoSymbol>, layout: readonly DwarfSectionAddress[], allocFlags: Map<number, bigint>,
  sysfs: ReadonlyMap<string, bigint> | null = null): { sections: LoadedSection[]; matched: number } {
  const bases = new Map<number, bigint>();
  let matched = 0;
  for (const s of mod.elfSymbols) {
    const k = ko.get(s.name);
    if (!k) continue;
    if (k.shndx !== s.shndx) throw new Error(`${file}: symbol ${s.name} is in section ${k.shndx} of the file, ${s.shndx} in the loaded module: another build of ${mod.name}`);
    if (((allocFlags.get(k.shndx) ?? 0n) & BigInt(SHF_ALLOC)) === 0n) continue;
    const base = s.address - k.value;
    const known = bases.get(k.shndx);
    if (known !== undefined && known !== base) {
      throw new Error(`${file}: symbol ${s.name} puts section ${k.shndx} at 0x${base.toString(16)}, others at 0x${known.toString(16)}: another build of ${mod.name}`);
    }
    bases.set(k.shndx, base);
    matched++;
  }
  if (matched === 0) throw new Error(`${file}: none of its symbols is one of module ${mod.name}'s`);
  const sections: LoadedSection[] = [];
  for (const l of layout) {
    const bySymbols = bases.get(l.index);
    const bySysfs = sysfs?.get(l.name);
    // the kernel's own record of the section wins; the symbols must agree with it
    if (bySymbols !== undefined && bySysfs !== undefined && bySymbols !== bySysfs) {
      throw new Error(`${file}: its symbols put ${l.name} at 0x${bySymbols.toString(16)}, the module's sect_attrs at 0x${bySysfs.toString(16)}: another build of ${mod.name}`);
    }
    const start = bySysfs ?? bySymbols;
    if (start !== undefined) sections.push({ index: l.index, name: l.name, start, size: l.size, layout: l.addr });
  }
  return { sections, matched };
}

/** Module `name`'s debug info, loaded once per open dump; never throws (the reason is in the result). */
export function moduleDebug(vm: KernelContext, name: string): ModuleDebug {
  const perVm = vm.cache('module.debug', () => new Map<string, ModuleDebug>());
  const known = perVm.get(name);
  if (known) return known;
  const r = loadModuleDebug(vm, name);
  perVm.set(name, r);
  return r;
}

/** the module's sect_attrs, or null where the kernel kept none or they cannot be read (the symbols still place text) */
function sysfsSections(vm: KernelContext, mod: LoadedModule): ReadonlyMap<string, bigint> | null {
  try { return moduleSectionAddresses(vm, mod.address); } catch { return null; }
}

function loadModuleDebug(vm: KernelContext, name: string): ModuleDebug {
  const no = (reason: string): ModuleDebug => ({ ok: false, module: name, reason });
  const mod = vm.modules?.module(name);
  if (!mod) return no(`module ${name} is not loaded in this dump (or the module list could not be read)`);
  const dirs = moduleDebugDirs(vm);
  const file = findModuleDebugFile(name, dirs);
  if (!file) return no(`no debug file for module ${name} in ${dirs.join(', ') || '(no directory)'}`);
  try {
    const { ko, flags } = withElf(file, (elf) => ({
      ko: koSymbols(elf),
      flags: new Map(elf.sections.map((s) => [s.index, s.flags])),
    }));
    // the layout is reported only by an extraction: a module's index is small, so it is not cached
    const load = loadDwarfIndex(file, { inlines: true, cache: false });
    if (!load.sections) return no(`${file}: the addon reported no section layout (rebuild the addon)`);
    const { sections, matched } = placeSections(mod, file, ko, load.sections, flags, sysfsSections(vm, mod));
    return { ok: true, module: name, file, types: new DwarfTypes(load.index, { label: file }), sections, symbolsMatched: matched, fileSymbols: ko };
  } catch (e) {
    return no((e as Error).message);
  }
}

/** The inlined functions at `pc` inside module `name`, innermost first; [] when none or no debug info. */
export function moduleInlinedAt(vm: KernelContext, name: string, pc: bigint): InlineRange[] {
  const d = moduleDebug(vm, name);
  if (!d.ok) return [];
  const s = d.sections.find((x) => pc >= x.start && pc < x.start + x.size);
  if (!s) return [];
  return d.types.inlinedAt(s.layout + (pc - s.start));
}

/**
 * Module `module`'s global `name` typed from the module's own DWARF (`holder` in vaat_holder is a
 * `struct task_struct *`), at its address in the dump; throws naming why when there is no such
 * module, no debug info or no such variable.
 */
export function moduleObject(vm: KernelContext, module: string, name: string): KObject {
  const d = moduleDebug(vm, module);
  if (!d.ok) throw new VaatError(d.reason, vm.file);
  const v = d.types.findVariable(name);
  if (!v) throw new VaatError(`module ${module}: ${d.file} has no variable ${name}`, vm.file);
  return KObject.at({ mem: vm.mem, types: d.types }, moduleSymbolAddress(vm, d, module, name), v.type);
}

/** where `name` of the module is: its loaded symbol, else the .ko's symbol in its placed section (data on a kernel without KALLSYMS_ALL) */
function moduleSymbolAddress(vm: KernelContext, d: Extract<ModuleDebug, { ok: true }>, module: string, name: string): bigint {
  const sym = vm.modules?.module(module)?.elfSymbols.find((s) => s.name === name);
  if (sym) return sym.address;
  const k = d.fileSymbols.get(name);
  const sec = k && d.sections.find((s) => s.index === k.shndx);
  if (k && sec) return sec.start + k.value;
  throw new VaatError(`module ${module}: no symbol ${name} in the loaded module${k ? `, and its section ${k.shndx} was not placed` : ' or its file'}`, vm.file);
}
