/**
 * The kernel context: everything the kernel model (src/kernel) and the architecture seam
 * (src/arch) read a dump through — memory (virtual, physical, per-CPU), types, symbols, the
 * machine, the CPUs' saved registers — and one cache per open dump. `Vmcore` is the context of
 * a real dump; `staticContext()` builds one from given parts (synthetic memory and BTF in tests,
 * or another front end), so kernel code never needs the concrete dump.
 */
import { readCString, readVirtInto, type CpuRegs, type MemoryReader } from './dump/dump.js';
import { VaatError } from './dump/errors.js';
import { VmcoreInfo } from './dump/vmcoreinfo.js';
import type { TypeInfo, TypeRef } from './types/typeinfo.js';
import { globalType } from './types/well-known.js';
import { formatSymbol, type SymbolTable } from './symbols/symtab.js';
import type { ModuleSymbolTable } from './symbols/modules.js';
import { KObject, type ObjectContext } from './object/kobject.js';

/** Reads of the dumped kernel's memory, with the little-endian scalar helpers. */
export interface KernelMemory extends MemoryReader {
  u8(addr: bigint): number;
  u16(addr: bigint): number;
  u32(addr: bigint): number;
  s32(addr: bigint): number;
  u64(addr: bigint): bigint;
  s64(addr: bigint): bigint;
  pointer(addr: bigint): bigint;
  /** a NUL-terminated C string, at most `limit` bytes */
  cString(addr: bigint, limit?: number): string;
  /** the physical address a kernel virtual address maps to (the dump's page tables); throws when unmapped */
  virtToPhys(addr: bigint): bigint;
}

/** Where debug information may come from (a BTF file, a debug vmlinux), as the dump was opened. */
export interface DebugInfoOptions {
  btf?: string;
  vmlinux?: string | false;
  /** directories holding loaded modules' .ko files with DWARF (src/kernel/module/debug.ts) */
  moduleDebug?: string | string[];
}

/** What kernel code reads a dump through. */
export interface KernelContext extends ObjectContext {
  /** the dump's path, for messages */
  readonly file: string;
  readonly mem: KernelMemory;
  readonly types: TypeInfo;
  readonly symbols: SymbolTable;
  /** loaded modules' symbols and regions, when they could be read */
  readonly modules: ModuleSymbolTable | undefined;
  readonly vmcoreinfo: VmcoreInfo;
  /** the dump's machine, as its headers name it ('x86_64', 'aarch64') */
  readonly machine: string;
  /** the page size the dump was written with */
  readonly pageSize: number;
  /** how many CPUs the dump's header counts */
  readonly nrCpus: number;
  readonly options: DebugInfoOptions;
  /** each CPU's registers as its PRSTATUS note saved them */
  cpuRegs(): CpuRegs[];
  /** a symbol's address; throws SymbolNotFoundError */
  address(name: string): bigint;
  /** `func+0x1a/0x40 [module]` for an address */
  symbolize(addr: bigint): string;
  /** the global `name` as an object of `type` (default: the variable's type in the debug info, then its declaration in src/types/well-known.ts) */
  object(name: string, type?: TypeRef): KObject;
  objectAt(address: bigint, type: TypeRef): KObject;
  /** __per_cpu_offset[cpu] */
  perCpuOffset(cpu: number): bigint;
  /** CPU `cpu`'s copy of the per-CPU variable `name` (crash's `name:cpu`) */
  perCpu(name: string, cpu: number, type?: TypeRef): KObject;
  /**
   * the value computed once per open dump under `key` (layouts, task lists, tables); keys that
   * begin `image:` hold what comes from the kernel image's read-only tables alone (the vmlinux
   * ORC table), which views of the same kernel over other memory share (Vmcore.overMemory)
   */
  cache<T>(key: string, compute: () => T): T;
}

export class SymbolNotFoundError extends VaatError {}

/** The context's generic part: lookups, objects, per-CPU addressing and the cache. */
export abstract class KernelContextBase implements KernelContext {
  abstract readonly file: string;
  abstract readonly mem: KernelMemory;
  abstract readonly types: TypeInfo;
  abstract readonly symbols: SymbolTable;
  abstract readonly modules: ModuleSymbolTable | undefined;
  abstract readonly vmcoreinfo: VmcoreInfo;
  abstract readonly machine: string;
  abstract readonly pageSize: number;
  abstract readonly nrCpus: number;
  abstract readonly options: DebugInfoOptions;
  abstract cpuRegs(): CpuRegs[];

  readonly #cache = new Map<string, unknown>();
  readonly #perCpuOffsets = new Map<number, bigint>();

  cache<T>(key: string, compute: () => T): T {
    if (this.#cache.has(key)) return this.#cache.get(key) as T;
    const v = compute();
    this.#cache.set(key, v);
    return v;
  }

  /** take `from`'s `image:` cache entries: this context reads the same kernel image (see cache()) */
  protected shareImageCache(from: KernelContextBase): void {
    for (const [k, v] of from.#cache) if (k.startsWith('image:')) this.#cache.set(k, v);
  }

  address(name: string): bigint {
    const s = this.symbols.lookup(name);
    if (!s) throw new SymbolNotFoundError(`symbol '${name}' not found (${this.symbols.source})`, this.file);
    return s.address;
  }

  symbolize(addr: bigint): string { return formatSymbol(this.symbols, addr); }

  object(name: string, type?: TypeRef): KObject {
    const t = type ?? globalType(this.types, name) ?? undefined;
    if (t === undefined) throw new VaatError(`no type known for '${name}': name one, e.g. vm.object('${name}', 'struct foo')`, this.file);
    return KObject.at(this, this.address(name), t);
  }

  objectAt(address: bigint, type: TypeRef): KObject { return KObject.at(this, address, type); }

  perCpuOffset(cpu: number): bigint {
    let v = this.#perCpuOffsets.get(cpu);
    if (v === undefined) {
      v = this.mem.u64(this.address('__per_cpu_offset') + BigInt(cpu * 8));
      this.#perCpuOffsets.set(cpu, v);
    }
    return v;
  }

  perCpu(name: string, cpu: number, type?: TypeRef): KObject {
    const base = this.object(name, type);
    return KObject.at(this, (base.address + this.perCpuOffset(cpu)) & 0xffffffffffffffffn, base.type);
  }
}

/** A MemoryReader with the scalar helpers added (little-endian). */
export function kernelMemory(r: MemoryReader): KernelMemory {
  if ('pointer' in r && 'cString' in r && 'virtToPhys' in r) return r as KernelMemory;
  const m: KernelMemory = {
    get file() { return r.file; },
    readVirt: (a, n) => r.readVirt(a, n),
    readPhys: (a, n) => r.readPhys(a, n),
    readVirtMany: (a, s, f) => r.readVirtMany(a, s, f),
    readVirtInto: (a, t) => readVirtInto(r, a, t),
    u8: (a) => r.readVirt(a, 1).readUInt8(0),
    u16: (a) => r.readVirt(a, 2).readUInt16LE(0),
    u32: (a) => r.readVirt(a, 4).readUInt32LE(0),
    s32: (a) => r.readVirt(a, 4).readInt32LE(0),
    u64: (a) => r.readVirt(a, 8).readBigUInt64LE(0),
    s64: (a) => r.readVirt(a, 8).readBigInt64LE(0),
    pointer: (a) => r.readVirt(a, 8).readBigUInt64LE(0),
    cString: (a, limit = 4096) => readCString(r, a, limit),
    virtToPhys: (a) => {
      if ('virtToPhys' in r && typeof r.virtToPhys === 'function') return (r.virtToPhys as (x: bigint) => bigint)(a);
      throw new VaatError(`no page tables to translate 0x${a.toString(16)}`, r.file);
    },
  };
  return m;
}

/** The parts of a context given whole (all but memory and types optional). */
export interface StaticContextParts {
  mem: MemoryReader;
  types: TypeInfo;
  symbols?: SymbolTable;
  modules?: ModuleSymbolTable;
  vmcoreinfo?: VmcoreInfo | string;
  machine?: string;
  pageSize?: number;
  nrCpus?: number;
  cpuRegs?: CpuRegs[];
  file?: string;
  options?: DebugInfoOptions;
}

const NO_SYMBOLS: SymbolTable = { source: 'no symbols', lookup: () => undefined, symbolize: () => undefined, all: () => [] };

class StaticContext extends KernelContextBase {
  readonly file: string;
  readonly mem: KernelMemory;
  readonly types: TypeInfo;
  readonly symbols: SymbolTable;
  readonly modules: ModuleSymbolTable | undefined;
  readonly vmcoreinfo: VmcoreInfo;
  readonly machine: string;
  readonly pageSize: number;
  readonly nrCpus: number;
  readonly options: DebugInfoOptions;
  readonly #regs: CpuRegs[];

  constructor(p: StaticContextParts) {
    super();
    this.mem = kernelMemory(p.mem);
    this.file = p.file ?? p.mem.file;
    this.types = p.types;
    this.symbols = p.symbols ?? NO_SYMBOLS;
    this.modules = p.modules;
    this.vmcoreinfo = p.vmcoreinfo instanceof VmcoreInfo ? p.vmcoreinfo : new VmcoreInfo(p.vmcoreinfo ?? '');
    this.machine = p.machine ?? 'x86_64';
    this.options = p.options ?? {};
    this.#regs = p.cpuRegs ?? [];
    this.pageSize = p.pageSize ?? 4096;
    this.nrCpus = p.nrCpus ?? Math.max(1, this.#regs.length);
  }

  cpuRegs(): CpuRegs[] { return this.#regs; }
}

/** A kernel context from given parts: synthetic memory and types in tests, or another front end. */
export function staticContext(parts: StaticContextParts): KernelContext {
  return new StaticContext(parts);
}
