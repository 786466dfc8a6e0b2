/**
 * Vmcore: the object `openVmcore()` returns and every command receives. It owns the Dump and
 * loads what analyses need on first use: symbols (kallsyms from the dump's own memory, loaded
 * modules' symtabs, a debug vmlinux's .symtab, an optional System.map, VMCOREINFO last) and types (BTF from the dump's own
 * memory, or a BTF file given by the caller), and hands out typed objects.
 */
import { existsSync } from 'node:fs';
import { Dump, preflight, readVirtHuge, type CpuRegs, type OpenDumpOptions } from './dump/dump.js';
import { VaatError } from './dump/errors.js';
import type { VmcoreInfo } from './dump/vmcoreinfo.js';
import { findKallsyms, type KallsymsTable } from './symbols/kallsyms.js';
import { readKallsymsCache, writeKallsymsCache } from './symbols/kallsyms-cache.js';
import { CombinedSymbolTable, SymbolSourceMismatchError, type CombineSource } from './symbols/combine.js';
import { loadElfSymbols } from './symbols/elf-symtab.js';
import { loadSystemMap } from './symbols/systemmap.js';
import { vmcoreinfoSymbolTable } from './symbols/vmcoreinfo-symbols.js';
import { DerivedSymbolTable } from './symbols/derived.js';
import { readModules, type ModuleSymbolTable } from './symbols/modules.js';
import { moduleLayout } from './kernel/module/layout.js';
import { parseBtf } from './types/btf.js';
import { findBtfInImageCached } from './types/btf-scan.js';
import { dwarfTypesForDump, findVmlinux, vmlinuxFromEnv } from './types/debuginfo.js';
import { readBtfFile } from './elf/sections.js';
import { checkTypesMatchDump } from './types/vmcoreinfo-check.js';
import type { TypeInfo } from './types/typeinfo.js';
import { KernelContextBase, SymbolNotFoundError, type KernelContext, type KernelMemory } from './context.js';

export { SymbolNotFoundError };

/** How openVmcore() finds what the dump alone lacks: a System.map, BTF, a debug vmlinux, module debug info (and the reader options of OpenDumpOptions). */
export interface OpenVmcoreOptions extends OpenDumpOptions {
  /** a System.map of the dump's kernel (link-time addresses; KASLR is applied) */
  systemMap?: string;
  /** a BTF file to use instead of the BTF in the dump's memory: raw BTF, or an ELF vmlinux (its .BTF section) */
  btf?: string;
  /** a debug vmlinux whose DWARF gives the types (checked against the dump's build-id) and whose .symtab is a symbol source (cross-checked); false: never look for one. Default: look in the standard places (/usr/lib/debug...), unless `btf` is given */
  vmlinux?: string | false;
  /** directories holding loaded modules' .ko files with DWARF (out-of-tree modules, a build tree); searched before /usr/lib/debug/lib/modules/<release> (src/kernel/module/debug.ts) */
  moduleDebug?: string | string[];
}

/** parsed BTF per kernel build-id, shared by every Vmcore of this process */
const btfByBuildId = new Map<string, TypeInfo>();

/**
 * An open dump: the kernel context (memory, types, symbols, per-CPU data, one cache) over a real
 * vmcore, with symbols and types found on first use (kallsyms, BTF or DWARF). Every kernel-model
 * function takes it as its first argument; `vm.object('init_task')` gives typed objects. Close it
 * with close().
 */
export class Vmcore extends KernelContextBase implements KernelContext {
  #symbols?: CombinedSymbolTable;
  #kallsyms?: KallsymsTable;
  #types?: TypeInfo;
  #typesSource = '';

  constructor(readonly dump: Dump, readonly options: OpenVmcoreOptions = {}) { super(); }

  /**
   * This vmcore's symbol and type tables over other memory of the same kernel (the fuzzer's
   * patched copy of it, fuzz/overlay.ts): analyses run on `dump` without loading the tables
   * again. The tables are this vmcore's, read from its own memory.
   */
  overMemory(dump: Dump): Vmcore {
    const v = new Vmcore(dump, this.options);
    this.symbols.late(); // the modules too are read from this vmcore's memory
    v.#symbols = this.symbols;
    v.#kallsyms = this.#kallsyms;
    v.#types = this.types;
    v.#typesSource = this.#typesSource;
    v.shareImageCache(this);
    return v;
  }

  get file(): string { return this.dump.file; }
  get vmcoreinfo(): VmcoreInfo { return this.dump.vmcoreinfo; }
  get mem(): KernelMemory { return this.dump; }
  get machine(): string { return this.dump.attrs.arch; }
  get pageSize(): number { return this.dump.attrs.pageSize; }
  get nrCpus(): number { return this.dump.attrs.nrCpus; }
  cpuRegs(): CpuRegs[] { return this.dump.cpuRegs(); }

  /** the kernel's own symbol table, found in the dump's memory */
  get kallsyms(): KallsymsTable {
    if (this.#kallsyms) return this.#kallsyms;
    // Every dump of one kernel build has the same table up to the KASLR slide: decode it once.
    const cached = readKallsymsCache(this.vmcoreinfo);
    if (cached) return (this.#kallsyms = cached);
    this.#kallsyms = findKallsyms(this.dump, this.vmcoreinfo);
    try { writeKallsymsCache(this.#kallsyms, this.vmcoreinfo); } catch { /* a read-only cache directory only costs speed */ }
    return this.#kallsyms;
  }

  /** every symbol source, in priority order: kallsyms, a vmlinux's .symtab, System.map, VMCOREINFO; loaded modules when first needed (CombinedSymbolTable) */
  get symbols(): CombinedSymbolTable {
    if (this.#symbols) return this.#symbols;
    const sources: CombineSource[] = [];
    let kallsyms: KallsymsTable | undefined;
    try { kallsyms = this.kallsyms; } catch { /* fall through to the other sources */ }
    if (kallsyms) sources.push({ table: kallsyms, label: 'kallsyms' });
    const relocateAbsolute = this.dump.attrs.arch === 'aarch64';
    // --- vmlinux ELF symbol table (src/symbols/elf-symtab.ts) ---
    const elf = this.#vmlinuxForSymbols();
    let elfSource: CombineSource | undefined;
    if (elf) {
      try {
        elfSource = { table: loadElfSymbols(elf.path, { kernelOffset: this.vmcoreinfo.kernelOffset, relocateAbsolute }), label: 'vmlinux' };
        sources.push(elfSource);
      } catch (e) {
        if (elf.explicit) throw e; // a file the caller named must be usable; one found is only a bonus
      }
    }
    // --- end vmlinux ELF symbol table ---
    const map = this.options.systemMap ?? defaultSystemMap(this.vmcoreinfo.osrelease);
    if (map) sources.push({ table: loadSystemMap(map, { kernelOffset: this.vmcoreinfo.kernelOffset, label: map, relocateAbsolute }), label: 'System.map', mustOverlap: !!this.options.systemMap, file: map });
    const vmcoreinfoTable = vmcoreinfoSymbolTable(this.vmcoreinfo);
    sources.push({ table: vmcoreinfoTable, label: 'vmcoreinfo' });
    // kallsyms without data symbols and nothing else that names them: derive what the dump proves.
    if (kallsyms && !kallsyms.hasDataSymbols && !elfSource && !map) {
      try {
        sources.push({ table: new DerivedSymbolTable({ mem: this.dump, text: kallsyms, vmcoreinfo: vmcoreinfoTable, types: this.types, nrCpus: this.dump.attrs.nrCpus }), label: 'derived' });
      } catch { /* no types: the other sources are all there is */ }
    }
    // Loaded modules are read on first need, by the kernel's rules (CombinedSymbolTable): their
    // struct module list head is a data symbol, which a kernel without KALLSYMS_ALL names only
    // in the other sources, and reading them needs types.
    const modules = kallsyms ? { label: 'modules', load: () => this.#loadModules(sources) } : undefined;
    try {
      this.#symbols = new CombinedSymbolTable(sources, { modules });
    } catch (e) {
      // A vmlinux found in a standard place passed the build-id check; if its symbols still disagree, drop it rather than the dump's symbols.
      if (!(e instanceof SymbolSourceMismatchError) || e.label !== 'vmlinux' || !elfSource || elf?.explicit) throw e;
      this.#symbols = new CombinedSymbolTable(sources.filter((s) => s !== elfSource), { modules });
    }
    return this.#symbols;
  }

  /** the vmlinux whose .symtab joins the symbol sources: the one named, else the one found for DWARF (same rules as dwarfTypesForDump) */
  #vmlinuxForSymbols(): { path: string; explicit: boolean } | undefined {
    const v = this.options.vmlinux;
    if (typeof v === 'string') return { path: v, explicit: true };
    if (v === false || this.options.btf) return undefined;
    // A vmlinux found by build-id is the image the dump's own kallsyms describe: with kallsyms
    // read, its symbols add nothing but start-up time, so it is only a fallback — unless the
    // kernel's kallsyms hold no data symbols (no CONFIG_KALLSYMS_ALL).
    if (this.#kallsyms?.hasDataSymbols) return undefined;
    const found = findVmlinux({ buildId: this.vmcoreinfo.buildId, release: this.vmcoreinfo.osrelease }).match;
    return found ? { path: found.path, explicit: false } : undefined;
  }

  /** loaded modules' symbols; needs types for struct module's layout, so failures leave modules out */
  #loadModules(sources: readonly CombineSource[]): ModuleSymbolTable | undefined {
    const head = sources.map((s) => s.table.lookup('modules')).find((s) => s !== undefined);
    if (!head) return undefined;
    try {
      return readModules(this.dump, head.address, moduleLayout(this.types));
    } catch {
      return undefined;
    }
  }

  get modules(): ModuleSymbolTable | undefined {
    return this.symbols.late() as ModuleSymbolTable | undefined;
  }

  /** kernel types: BTF from a file given at open, else from the dump's own memory */
  get types(): TypeInfo {
    if (this.#types) return this.#types;
    // DWARF from a vmlinux given or found (src/types/debuginfo.ts); BTF below stays the fallback.
    const dwarf = dwarfTypesForDump({ buildId: this.vmcoreinfo.buildId, release: this.vmcoreinfo.osrelease }, this.options);
    if (dwarf) {
      this.#types = dwarf.types;
      this.#typesSource = dwarf.source;
      return this.#types;
    }
    if (this.options.btf) {
      // raw BTF, or an ELF vmlinux whose .BTF section is read (src/elf/sections.ts)
      const { bytes, from } = readBtfFile(this.options.btf);
      const types = parseBtf(bytes, { label: this.options.btf });
      // another kernel's BTF gives plausible-looking garbage: refuse it when VMCOREINFO's own layouts disagree
      checkTypesMatchDump(types, this.vmcoreinfo, this.options.btf);
      this.#types = types;
      this.#typesSource = from;
      return this.#types;
    }
    // One kernel build has one BTF: dumps of an already-seen build (fleet runs) reuse its parsed types.
    const buildId = this.vmcoreinfo.buildId;
    const known = buildId ? btfByBuildId.get(buildId) : undefined;
    if (known) {
      this.#types = known;
      this.#typesSource = `BTF in the dump (build-id ${buildId}, parsed once for this process)`;
      return known;
    }
    const k = this.kallsyms;
    const start = k.lookup('__start_BTF')?.address;
    const stop = k.lookup('__stop_BTF')?.address;
    if (start === undefined || stop === undefined || stop <= start) {
      // No data symbols in kallsyms (no CONFIG_KALLSYMS_ALL): find .BTF by its header after the text.
      const from = k.lookup('_etext')?.address;
      const found = from === undefined ? null : findBtfInImageCached(this.dump, from, buildId);
      if (!found) throw new VaatError('no BTF in this kernel (no __start_BTF/__stop_BTF, and no BTF header after _etext): give a vmlinux or BTF file', this.file);
      this.#types = parseBtf(found.bytes, { label: `${this.file} BTF at 0x${found.address.toString(16)}` });
      if (buildId) btfByBuildId.set(buildId, this.#types);
      this.#typesSource = `BTF in the dump (found by its header at _etext+0x${(found.address - from!).toString(16)}, ${found.bytes.length} bytes)`;
      return this.#types;
    }
    // a few MiB: into huge-page memory (page by page, ~15 ms of first touches)
    const buf = readVirtHuge(this.dump, start, Number(stop - start));
    this.#types = parseBtf(buf, { label: `${this.file} __start_BTF` });
    if (buildId) btfByBuildId.set(buildId, this.#types);
    this.#typesSource = `BTF in the dump (__start_BTF, ${buf.length} bytes)`;
    return this.#types;
  }

  /** how symbols and types were found, for `vaat info` and messages */
  sources(): { symbols: string; types: string } {
    let symbols: string;
    try {
      symbols = this.symbols.source;
      if (this.#kallsyms) symbols += ` — ${this.#kallsyms.source}`;
    } catch (e) { symbols = `unavailable: ${(e as Error).message}`; }
    let types: string;
    try { void this.types; types = this.#typesSource; } catch (e) { types = `unavailable: ${(e as Error).message}`; }
    return { symbols, types };
  }

  close(): void { this.dump.close(); }
}

/** Debian and most distros install the map beside the kernel */
function defaultSystemMap(release: string | undefined): string | undefined {
  const p = release ? `/boot/System.map-${release}` : undefined;
  return p && existsSync(p) ? p : undefined;
}

/** Open a vmcore read-only. Throws a typed error (see src/dump/errors.ts) naming the file. */
export function openVmcore(file: string, opts: OpenVmcoreOptions = {}): Vmcore {
  const withDefaults = opts.vmlinux === undefined ? { ...opts, vmlinux: vmlinuxFromEnv() } : opts;
  // files given with the dump must be readable files: one line naming the file, not an ENOENT from deep inside
  const { systemMap, btf, vmlinux } = withDefaults;
  for (const f of [systemMap, btf, typeof vmlinux === 'string' ? vmlinux : undefined]) if (f !== undefined) preflight(f);
  const vm = new Vmcore(Dump.open(file, withDefaults), withDefaults);
  // A BTF or System.map the caller named is checked against the dump now: analyses that turn a
  // failed lookup into "unknown" must never run on another kernel's types or symbols.
  try {
    if (btf !== undefined) void vm.types;
    if (systemMap !== undefined) void vm.symbols;
  } catch (e) {
    vm.close();
    throw e;
  }
  return vm;
}
