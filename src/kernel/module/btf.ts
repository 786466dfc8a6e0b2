/**
 * A loaded module's own types, from the BTF the kernel keeps for it (CONFIG_DEBUG_INFO_BTF_MODULES).
 * A module's .BTF is split BTF: its type ids and string offsets continue vmlinux's, so it is parsed
 * on top of the vmlinux BTF. Where the bytes are:
 * - `struct module.btf_data` / `btf_data_size` point at the .BTF section of the module image
 *   being loaded. .BTF is not an allocated section, so once the module's init has run the kernel
 *   (6.1 do_init_module) sets btf_data to NULL; btf_data_size is left as it was.
 * - the BPF subsystem copies the bytes at load (btf_module_notify → btf_parse_module: struct btf
 *   .data/.data_size) and lists them on `btf_modules` (struct btf_module .module/.btf), which
 *   is where a live module's BTF is found in a dump.
 * A module built without BTF (out of tree, without vmlinux BTF at build time) has btf_data_size 0.
 */
import { VaatError } from '../../dump/errors.js';
import type { KernelContext } from '../../context.js';
import { BtfTypes, parseBtf } from '../../types/btf.js';
import { readBtfFile } from '../../elf/sections.js';
import type { TypeInfo } from '../../types/typeinfo.js';

export type ModuleTypesResult =
  | {
      readonly ok: true;
      readonly module: string;
      /** the module's types, split on the vmlinux BTF (base types come through unchanged) */
      readonly types: BtfTypes;
      readonly bytes: number;
      /** where the bytes were read, for messages */
      readonly from: string;
    }
  | { readonly ok: false; readonly module: string; readonly reason: string };

const MAX_MODULE_BTF = 64 * 1024 * 1024;
const MAX_LIST = 65536;

/** vmlinux BTF per dump: types may be DWARF, and split BTF needs a BTF base */
/** The vmlinux BTF the dump's modules were built against: the types in use if BTF, else the file given, else the dump's own. */
export function vmlinuxBtf(vm: KernelContext): BtfTypes {
  return vm.cache('module.vmlinuxBtf', (): BtfTypes => {
    let base: BtfTypes;
    let types: TypeInfo | undefined;
    try { types = vm.types; } catch { /* no types: read BTF below, which says why if it fails too */ }
    if (types instanceof BtfTypes && types.base === null) base = types;
    else if (vm.options.btf) base = parseBtf(readBtfFile(vm.options.btf).bytes, { label: vm.options.btf });
    else {
      const start = vm.symbols.lookup('__start_BTF')?.address;
      const stop = vm.symbols.lookup('__stop_BTF')?.address;
      if (start === undefined || stop === undefined || stop <= start) throw new VaatError('no vmlinux BTF in this kernel (no __start_BTF/__stop_BTF): module BTF cannot be read', vm.file);
      base = parseBtf(vm.mem.readVirt(start, Number(stop - start)), { label: `${vm.file} __start_BTF` });
    }
  return base;
  });
}

/**
 * The types of loaded module `name`, or why there are none. Throws only on a damaged dump (an
 * unreadable list or corrupt BTF), not for a module or kernel without BTF.
 */
export function moduleTypes(vm: KernelContext, name: string): ModuleTypesResult {
  const no = (reason: string): ModuleTypesResult => ({ ok: false, module: name, reason });
  const mods = vm.modules;
  if (!mods) return no('the loaded modules could not be read from this dump');
  const mod = mods.module(name);
  if (!mod) return no(`no module ${name} is loaded (loaded: ${mods.modules.map((m) => m.name).join(', ') || 'none'})`);
  const t = vm.types;
  if (!t.hasMember('struct module', 'btf_data') || !t.hasMember('struct module', 'btf_data_size')) {
    return no(`this kernel keeps no module BTF (struct module has no btf_data: built without CONFIG_DEBUG_INFO_BTF_MODULES)`);
  }
  const size = vm.mem.u32(mod.address + BigInt(t.offsetof('struct module', 'btf_data_size')));
  const ptr = vm.mem.u64(mod.address + BigInt(t.offsetof('struct module', 'btf_data')));
  if (size === 0) return no(`module ${name} carries no BTF (btf_data_size 0: built without BTF)`);
  if (size > MAX_MODULE_BTF) throw new VaatError(`module ${name}: btf_data_size ${size} is not plausible`, vm.file);

  let found: { addr: bigint; size: number; from: string } | null = null;
  if (ptr !== 0n) found = { addr: ptr, size, from: `struct module.btf_data at 0x${ptr.toString(16)}` };
  else found = fromBtfModules(vm, mod.address, name);
  if (!found) {
    const why = vm.symbols.lookup('btf_modules') ? 'no btf_modules entry' : 'the btf_modules list is not named by this dump\'s symbols';
    return no(`module ${name} had ${size} bytes of BTF at load, but it is not found (btf_data cleared after init, and ${why})`);
  }
  if (found.size !== size) throw new VaatError(`module ${name}: ${found.from} holds ${found.size} bytes, struct module.btf_data_size says ${size}`, vm.file);

  const bytes = vm.mem.readVirt(found.addr, found.size);
  const types = parseBtf(bytes, { base: vmlinuxBtf(vm), label: `module ${name} BTF (${found.from})` });
  return { ok: true, module: name, types, bytes: bytes.length, from: found.from };
}

/** the BPF subsystem's copy: btf_modules → struct btf_module { list, module, btf } → struct btf { data, data_size } */
function fromBtfModules(vm: KernelContext, modAddr: bigint, name: string): { addr: bigint; size: number; from: string } | null {
  const t = vm.types;
  const head = vm.symbols.lookup('btf_modules')?.address;
  const bm = 'struct btf_module';
  if (head === undefined || !t.hasMember(bm, 'module') || !t.hasMember(bm, 'btf') || !t.hasMember('struct btf', 'data_size')) return null;
  const listOff = BigInt(t.offsetof(bm, 'list'));
  const modOff = BigInt(t.offsetof(bm, 'module'));
  const btfOff = BigInt(t.offsetof(bm, 'btf'));
  const seen = new Set<bigint>();
  for (let node = vm.mem.u64(head); node !== head; node = vm.mem.u64(node)) {
    if (seen.has(node) || seen.size >= MAX_LIST) throw new VaatError(`btf_modules list at 0x${head.toString(16)} loops or is corrupt`, vm.file);
    seen.add(node);
    const entry = node - listOff;
    if (vm.mem.u64(entry + modOff) !== modAddr) continue;
    const btf = vm.mem.u64(entry + btfOff);
    if (btf === 0n) return null;
    const data = vm.mem.u64(btf + BigInt(t.offsetof('struct btf', 'data')));
    const size = vm.mem.u32(btf + BigInt(t.offsetof('struct btf', 'data_size')));
    if (data === 0n) return null;
    return { addr: data, size, from: `btf_modules entry for ${name}: struct btf 0x${btf.toString(16)}.data 0x${data.toString(16)}` };
  }
  return null;
}
