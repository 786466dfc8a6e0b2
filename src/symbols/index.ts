/** Kernel symbols: kallsyms from the dump, System.map, VMCOREINFO, module symtabs, and their combination. */
export { formatReturnAddress, formatSymbol, SortedSymbolTable } from './symtab.js';
export type { KernelSymbol, Symbol, SymbolTable, Symbolized, SortedTableOptions } from './symtab.js';
export { findKallsyms, KallsymsError, KallsymsTable } from './kallsyms.js';
export type { KallsymsMethod, KallsymsOptions, KallsymsProof } from './kallsyms.js';
export type { AddressRule, KallsymsLayout } from './kallsyms-layout.js';
export { KallsymsNotFoundError } from './kallsyms-scan.js';
export { KallsymsDecodeError } from './kallsyms-decode.js';
export { loadSystemMap, parseSystemMap, SystemMapError } from './systemmap.js';
export type { SystemMapOptions } from './systemmap.js';
export { vmcoreinfoSymbolTable } from './vmcoreinfo-symbols.js';
export { CombinedSymbolTable, SymbolSourceMismatchError } from './combine.js';
export type { CombineOptions, CombineSource, Disagreement } from './combine.js';
export { ModuleSymbolTable, ModuleWalkError, readModules } from './modules.js';
export type { LoadedModule, ModuleLayout, ModuleRegion } from './modules.js';
