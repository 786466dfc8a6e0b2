/**
 * struct module's layout, read from the types, for the module symbol walker (src/symbols/modules.ts
 * reads the modules list with it, knowing no kernel version itself).
 */
import type { TypeInfo } from '../../types/typeinfo.js';
import type { ModuleLayout } from '../../symbols/modules.js';

/** struct module's layout from types, for the module symbol walker */
export function moduleLayout(types: TypeInfo): ModuleLayout {
  const mod = 'struct module';
  const nameType = types.resolved(types.memberPath(mod, 'name').type);
  // ac3b43283923 "module: replace module_layout with module_memory" (v6.4) turned
  // core_layout/init_layout into mem[]
  const regions = types.hasMember(mod, 'core_layout')
    ? ['core_layout', 'init_layout'].map((l) => ({
        label: l,
        base: types.offsetof(mod, `${l}.base`),
        size: types.offsetof(mod, `${l}.size`),
        textSize: types.offsetof(mod, `${l}.text_size`),
      }))
    : Array.from({ length: memArrayLength(types) }, (_, i) => ({
        label: `mem[${i}]`,
        base: types.offsetof(mod, `mem[${i}].base`),
        size: types.offsetof(mod, `mem[${i}].size`),
      }));
  return {
    module: {
      list: types.offsetof(mod, 'list'),
      name: types.offsetof(mod, 'name'),
      nameLen: nameType.kind === 'array' ? nameType.length : 56,
      kallsyms: types.offsetof(mod, 'kallsyms'),
    },
    modKallsyms: {
      symtab: types.offsetof('struct mod_kallsyms', 'symtab'),
      numSymtab: types.offsetof('struct mod_kallsyms', 'num_symtab'),
      strtab: types.offsetof('struct mod_kallsyms', 'strtab'),
      ...(types.hasMember('struct mod_kallsyms', 'typetab') ? { typetab: types.offsetof('struct mod_kallsyms', 'typetab') } : {}),
    },
    regions,
  };
}

function memArrayLength(types: TypeInfo): number {
  const t = types.resolved(types.memberPath('struct module', 'mem').type);
  return t.kind === 'array' ? t.length : 0;
}
