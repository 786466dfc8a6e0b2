/**
 * Loaded modules' symbols, from each `struct module`'s own kallsyms in memory:
 * `modules` list → module.kallsyms → mod_kallsyms { symtab (Elf64_Sym[]), num_symtab, strtab,
 * typetab }. Struct offsets differ per kernel and config, so the caller supplies them
 * (ModuleLayout, filled from BTF or DWARF); nothing here assumes one kernel's layout.
 */
import { VaatError } from '../dump/errors.js';
import type { MemoryReader } from '../dump/dump.js';
import { SortedSymbolTable, type KernelSymbol, type SymbolTable, type Symbolized } from './symtab.js';

/** byte offsets the module walker needs */
export interface ModuleLayout {
  /** struct module */
  module: {
    list: number;
    name: number;
    /** size of the name array (MODULE_NAME_LEN: 64 - sizeof(long)) */
    nameLen: number;
    /** `struct mod_kallsyms *kallsyms` */
    kallsyms: number;
  };
  /** struct mod_kallsyms */
  modKallsyms: {
    symtab: number;
    numSymtab: number;
    strtab: number;
    /** `typetab` (one nm letter per symbol, 5.2+); absent: types come from st_info */
    typetab?: number;
  };
  /**
   * the module's memory regions inside struct module, as offsets of a `void *base` and an
   * `unsigned int size` (and optionally `text_size`): core_layout and init_layout up to 6.3,
   * mem[MOD_TEXT..MOD_INIT_RODATA] (struct module_memory) from 6.4
   */
  regions: { label: string; base: number; size: number; textSize?: number }[];
}

export interface ModuleRegion { label: string; start: bigint; end: bigint; textEnd?: bigint }

/** A symbol of the module's in-memory symtab with the .ko section it was defined in (st_shndx, kept from the file). */
export interface ModuleElfSymbol { name: string; shndx: number; address: bigint }

export interface LoadedModule {
  name: string;
  /** address of the struct module */
  address: bigint;
  regions: ModuleRegion[];
  symbols: SortedSymbolTable;
  /** each named symbol with its .ko section index: where the .ko's sections were loaded (module DWARF) */
  elfSymbols: ModuleElfSymbol[];
}

export class ModuleWalkError extends VaatError {}

const SYM_SIZE = 24; // Elf64_Sym
const MAX_MODULES = 65536;
const MAX_SYMS = 1 << 20;

/** walk the `modules` list (its head's address from kallsyms: lookup('modules')) */
export function readModules(mem: MemoryReader, modulesHead: bigint, layout: ModuleLayout): ModuleSymbolTable {
  const mods: LoadedModule[] = [];
  const seen = new Set<bigint>();
  let next = mem.readVirt(modulesHead, 8).readBigUInt64LE(0);
  while (next !== modulesHead) {
    if (seen.has(next) || mods.length >= MAX_MODULES) throw new ModuleWalkError(`modules list at 0x${modulesHead.toString(16)} loops or is corrupt`);
    seen.add(next);
    const mod = next - BigInt(layout.module.list);
    mods.push(readModule(mem, mod, layout));
    next = mem.readVirt(next, 8).readBigUInt64LE(0);
  }
  return new ModuleSymbolTable(mods);
}

function readModule(mem: MemoryReader, mod: bigint, layout: ModuleLayout): LoadedModule {
  const L = layout.module;
  const K = layout.modKallsyms;
  const nameBuf = mem.readVirt(mod + BigInt(L.name), L.nameLen);
  const nul = nameBuf.indexOf(0);
  const name = nameBuf.toString('utf8', 0, nul < 0 ? nameBuf.length : nul);

  const regions: ModuleRegion[] = [];
  for (const r of layout.regions) {
    const start = mem.readVirt(mod + BigInt(r.base), 8).readBigUInt64LE(0);
    const size = mem.readVirt(mod + BigInt(r.size), 4).readUInt32LE(0);
    if (start === 0n || size === 0) continue; // e.g. init_layout after the module's init ran
    const region: ModuleRegion = { label: r.label, start, end: start + BigInt(size) };
    if (r.textSize !== undefined) region.textEnd = start + BigInt(mem.readVirt(mod + BigInt(r.textSize), 4).readUInt32LE(0));
    regions.push(region);
  }

  const ks = mem.readVirt(mod + BigInt(L.kallsyms), 8).readBigUInt64LE(0);
  const syms: KernelSymbol[] = [];
  const elfSymbols: ModuleElfSymbol[] = [];
  if (ks !== 0n) {
    const symtab = mem.readVirt(ks + BigInt(K.symtab), 8).readBigUInt64LE(0);
    const num = mem.readVirt(ks + BigInt(K.numSymtab), 4).readUInt32LE(0);
    const strtab = mem.readVirt(ks + BigInt(K.strtab), 8).readBigUInt64LE(0);
    const typetab = K.typetab !== undefined ? mem.readVirt(ks + BigInt(K.typetab), 8).readBigUInt64LE(0) : 0n;
    if (num > MAX_SYMS) throw new ModuleWalkError(`module ${name}: implausible num_symtab ${num}`);
    if (num > 0) {
      const tab = mem.readVirt(symtab, num * SYM_SIZE);
      const types = typetab !== 0n ? mem.readVirt(typetab, num) : undefined;
      let maxName = 0;
      for (let i = 0; i < num; i++) maxName = Math.max(maxName, tab.readUInt32LE(i * SYM_SIZE));
      const strs = readStrtab(mem, strtab, maxName);
      // entry 0 is the ELF null symbol
      for (let i = 1; i < num; i++) {
        const o = i * SYM_SIZE;
        const stName = tab.readUInt32LE(o);
        const info = tab[o + 4];
        const shndx = tab.readUInt16LE(o + 6);
        const value = tab.readBigUInt64LE(o + 8);
        if (shndx === 0) continue; // SHN_UNDEF
        const end = strs.indexOf(0, stName);
        const sname = strs.toString('utf8', stName, end < 0 ? strs.length : end);
        // the kernel skips unnamed and mapping symbols ($x, $d, .L...) when symbolizing
        if (sname === '' || sname.startsWith('$') || sname.startsWith('.L')) continue;
        syms.push({ name: sname, address: value, type: types ? String.fromCharCode(types[i]) : typeFromInfo(info), module: name });
        if (shndx < 0xff00) elfSymbols.push({ name: sname, shndx, address: value }); // not SHN_ABS/COMMON/XINDEX
      }
    }
  }
  return { name, address: mod, regions, symbols: new SortedSymbolTable(`module ${name}`, sizeWithin(syms, regions), { sizes: 'given' }), elfSymbols };
}

function readStrtab(mem: MemoryReader, at: bigint, maxName: number): Buffer {
  for (let len = maxName + 256; ; len *= 2) {
    const b = mem.readVirt(at, len);
    if (b.indexOf(0, maxName) >= 0 || len > 1 << 24) return b;
  }
}

/** nm letter from ELF st_info, for kernels without typetab (before 5.2) */
function typeFromInfo(info: number): string {
  const bind = info >> 4;
  const type = info & 0xf;
  const c = type === 2 ? 't' : type === 1 ? 'd' : '?'; // STT_FUNC, STT_OBJECT
  return bind === 1 || bind === 2 ? c.toUpperCase() : c; // STB_GLOBAL, STB_WEAK
}

/**
 * Sizes as the kernel's module symbol lookup computes them: up to the next symbol, at most to
 * the end of the text (for text addresses) or of the region holding the symbol.
 */
function sizeWithin(syms: KernelSymbol[], regions: ModuleRegion[]): KernelSymbol[] {
  const sorted = [...syms].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i];
    const r = regions.find((g) => s.address >= g.start && s.address < g.end);
    let limit = r ? (r.textEnd !== undefined && s.address < r.textEnd ? r.textEnd : r.end) : s.address;
    for (let j = i + 1; j < sorted.length; j++) {
      if (sorted[j].address > s.address) {
        if (sorted[j].address < limit) limit = sorted[j].address;
        break;
      }
    }
    s.size = Number(limit - s.address);
  }
  return sorted;
}

/** all loaded modules' symbols; an address symbolizes only inside its own module's regions */
export class ModuleSymbolTable implements SymbolTable {
  readonly source: string;
  constructor(readonly modules: readonly LoadedModule[]) {
    this.source = `module symtabs (${modules.length} modules)`;
  }

  module(name: string): LoadedModule | undefined {
    return this.modules.find((m) => m.name === name);
  }

  /** the module whose memory holds addr */
  moduleAt(addr: bigint): LoadedModule | undefined {
    return this.modules.find((m) => m.regions.some((r) => addr >= r.start && addr < r.end));
  }

  lookup(name: string): KernelSymbol | undefined {
    for (const m of this.modules) {
      const s = m.symbols.lookup(name);
      if (s) return s;
    }
    return undefined;
  }

  symbolize(addr: bigint): Symbolized | undefined {
    return this.moduleAt(addr)?.symbols.symbolize(addr);
  }

  *all(): Iterable<KernelSymbol> {
    for (const m of this.modules) yield* m.symbols.all();
  }
}
