/**
 * Loaded modules, from the `modules` list of struct module: name, where the module's core
 * memory lies, its state and its taint flags (module_flags()).
 */
import type { KernelContext } from '../../context.js';
import { listForEachEntry } from '../../object/helpers.js';
import { decodeTaint } from '../panic.js';

export interface KernelModule {
  name: string;
  /** address of the struct module */
  address: bigint;
  /** start of the module's core text */
  base: bigint;
  /** bytes of core memory (text, data, rodata...; init memory excluded) */
  size: number;
  /** MODULE_STATE_LIVE / COMING / GOING / UNFORMED, without the prefix, lower-case */
  state: string;
  /** letters of the module's own taints ("OE") */
  taints: string;
  /** users of the module, lsmod's "Used by" count (CONFIG_MODULE_UNLOAD), null when absent */
  refcount: number | null;
}

/**
 * The core regions of struct module_memory (6.4+): MOD_TEXT, MOD_DATA, MOD_RODATA,
 * MOD_RO_AFTER_INIT come before the init ones in enum mod_mem_type.
 */
const CORE_MEM_TYPES = ['MOD_TEXT', 'MOD_DATA', 'MOD_RODATA', 'MOD_RO_AFTER_INIT'];

/** every module on the `modules` list, in list order (newest first, as lsmod prints) */
export function listModules(vm: KernelContext): KernelModule[] {
  const t = vm.types;
  // "module: replace module_layout with module_memory", v6.4: core_layout became mem[MOD_*]
  const hasLayout = t.hasMember('struct module', 'core_layout');
  const coreIdx = hasLayout ? [] : CORE_MEM_TYPES.map((n) => t.findEnumerator(n)).filter((e) => e !== null).map((e) => Number(e!.value));
  const out: KernelModule[] = [];
  for (const m of listForEachEntry(vm.object('modules', 'struct list_head'), 'struct module', 'list')) {
    const s = m.snapshot();
    let base: bigint;
    let size: number;
    if (hasLayout) {
      base = s.member('core_layout.base').pointer();
      size = s.member('core_layout.size').number();
    } else {
      base = s.member(`mem[${coreIdx[0] ?? 0}].base`).pointer();
      size = coreIdx.reduce((a, i) => a + s.member(`mem[${i}].size`).number(), 0);
    }
    const stateVal = s.member('state').bigint();
    const stateName = t.enumName(s.member('state').type, stateVal) ?? `${stateVal}`;
    const taints = decodeTaint(vm, s.member('taints').bigint()).letters;
    // module_refcount(): refcnt counts from MODULE_REF_BASE (1) ("module: Replace module_ref with atomic_t refcnt", v4.0)
    const refcount = s.hasMember('refcnt') ? s.member('refcnt.counter').number() - 1 : null;
    out.push({
      name: s.member('name').string(),
      address: m.address,
      base,
      size,
      state: stateName.replace(/^MODULE_STATE_/, '').toLowerCase(),
      taints,
      refcount,
    });
  }
  return out;
}
