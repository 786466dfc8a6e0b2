/**
 * Where a loaded module's ELF sections sit: what `/sys/module/<name>/sections/` lists, read from
 * `mod->sect_attrs` (CONFIG_SYSFS + CONFIG_KALLSYMS). Unlike the module's symbols it names every
 * allocated section — `.data`, `.bss`, `.rodata` too — on a kernel without CONFIG_KALLSYMS_ALL,
 * whose modules keep only text symbols (is_core_symbol()).
 *
 * Three layouts, told apart by the types present:
 *   - before 5.8: `struct module_sect_attr { struct module_attribute mattr; char *name; unsigned
 *     long address; }`, `module_sect_attrs.nsections` of them in `attrs[]`;
 *   - ed66f991bb19 "module: Refactor section attr into bin attribute" (v5.8): the name moved to
 *     `battr.attr.name` (no `name` member);
 *   - 34f5ec0f8252 "module: sysfs: Drop 'struct module_sect_attr'" with 4b2c11e4aaf7 "module:
 *     sysfs: Drop member 'module_sect_attr::address'" and d8959b947a8d "module: sysfs: Drop member
 *     'module_sect_attrs::nsections'" (v6.14): `attrs[]` are bare `struct bin_attribute`s, the
 *     address in `private`, the count only in the NULL-terminated `grp.bin_attrs`.
 */
import type { KernelContext } from '../../context.js';
import type { KObject } from '../../object/kobject.js';

/** a module has tens of sections; a count past this is a corrupt dump, not a module */
const MAX_SECTIONS = 4096;

/**
 * The module at `moduleAddress`'s sections by name (`.text`, `.data`, …) with their load
 * addresses; null where the kernel keeps none (no `sect_attrs` member: !CONFIG_SYSFS or
 * !CONFIG_KALLSYMS, or a NULL pointer: sysfs setup failed).
 */
export function moduleSectionAddresses(vm: KernelContext, moduleAddress: bigint): Map<string, bigint> | null {
  const mod = vm.objectAt(moduleAddress, 'struct module');
  if (!mod.hasMember('sect_attrs')) return null;
  const attrsPtr = mod.member('sect_attrs').pointer();
  if (attrsPtr === 0n) return null;
  const attrs = vm.objectAt(attrsPtr, 'struct module_sect_attrs');
  const out = new Map<string, bigint>();
  const add = (name: string, address: bigint): void => { if (name && !out.has(name)) out.set(name, address); };
  const sectAttr = vm.types.findType('struct module_sect_attr');
  if (sectAttr !== null && attrs.hasMember('nsections')) {
    const n = attrs.member('nsections').number();
    if (n > MAX_SECTIONS) return null;
    const named = vm.types.hasMember(sectAttr, 'name');
    for (let i = 0; i < n; i++) {
      const a = attrs.member('attrs').index(i);
      add(named ? a.member('name').string(256) : a.member('battr.attr.name').string(256), a.member('address').bigint());
    }
    return out;
  }
  // v6.14 on: the bin_attributes themselves, as many as grp.bin_attrs lists before its NULL
  for (const battr of binAttrs(vm, attrs.member('grp'))) add(battr.member('attr.name').string(256), battr.member('private').pointer());
  return out;
}

/** the `struct bin_attribute`s an attribute_group lists (its `bin_attrs` array ends with NULL) */
function binAttrs(vm: KernelContext, grp: KObject): KObject[] {
  // 6.14 made the member a union of `bin_attrs` and `bin_attrs_new` (same pointer, const or not)
  const list = grp.memberOf(['bin_attrs', 'bin_attrs_new']).pointer();
  const out: KObject[] = [];
  for (let i = 0; list !== 0n && i < MAX_SECTIONS; i++) {
    const p = vm.mem.pointer(list + BigInt(i * vm.types.pointerSize));
    if (p === 0n) break;
    out.push(vm.objectAt(p, 'struct bin_attribute'));
  }
  return out;
}
