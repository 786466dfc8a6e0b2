/** vaat's public API. */
export { openVmcore, Vmcore, type OpenVmcoreOptions } from './vmcore.js';
export { Dump, type MemoryReader, type DumpAttrs, type CpuRegs } from './dump/dump.js';
export { VmcoreInfo } from './dump/vmcoreinfo.js';
export * from './dump/errors.js';
export { defineCommand, type VaatCommand, type CommandContext, type OptionSpec } from './plugin.js';
export { Output, toJson, type TreeNode } from './output/sink.js';
