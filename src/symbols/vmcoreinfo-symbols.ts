/**
 * VMCOREINFO's SYMBOL(...) lines as a (tiny) symbol table: the last resort when neither kallsyms
 * nor a System.map is available. Only exact addresses symbolize — distances between a dozen
 * unrelated symbols say nothing about sizes. Note some entries are values, not addresses:
 * SYMBOL(mem_section) is the pointer's value (VMCOREINFO_SYMBOL_ARRAY of a pointer), and
 * node_online_map / swapper_pg_dir are macros for node_states[N_ONLINE] / init_top_pgt.
 */
import type { VmcoreInfo } from '../dump/vmcoreinfo.js';
import { SortedSymbolTable, type KernelSymbol } from './symtab.js';

export function vmcoreinfoSymbolTable(info: VmcoreInfo): SortedSymbolTable {
  const syms: KernelSymbol[] = [];
  for (const key of info.lines.keys()) {
    const m = /^SYMBOL\((.+)\)$/.exec(key);
    if (!m) continue;
    const address = info.symbol(m[1]);
    if (address !== undefined) syms.push({ name: m[1], address, type: '?' });
  }
  return new SortedSymbolTable('VMCOREINFO', syms, { sizes: 'exact' });
}
